// A tiny dictionary: Korean first, English on request; the choice is kept on this device.
// Markup is written in Korean: an element with data-i18n="key" shows its own text in Korean and
// words.en[key] in English (data-i18n-placeholder and data-i18n-label do the same for those
// attributes). Text made by scripts asks t(key), which has both languages.

const STORE = "jikimi.lang";
const words = { ko: {}, en: {} };
let current = "ko";
try {
  current = localStorage.getItem(STORE) === "en" ? "en" : "ko";
} catch {
  // storage refused (a private window): Korean, not remembered
}

export function lang() {
  return current;
}

export function add(dictionary) {
  for (const language of ["ko", "en"]) Object.assign(words[language], dictionary[language] || {});
}

export function t(key, values = {}) {
  const text = words[current][key] ?? words.ko[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
}

function swap(element, attribute, key) {
  // The Korean original is kept beside it (data-ko-text, data-ko-placeholder, data-ko-label).
  const keep = { text: "koText", placeholder: "koPlaceholder", "aria-label": "koLabel" }[attribute];
  const original = element.dataset[keep] ?? (attribute === "text" ? element.textContent : element.getAttribute(attribute));
  element.dataset[keep] = original;
  const text = current === "ko" ? original : (words.en[key] ?? original);
  if (attribute === "text") element.textContent = text;
  else element.setAttribute(attribute, text);
}

export function translate(root = document) {
  document.documentElement.lang = current;
  for (const el of root.querySelectorAll("[data-i18n]")) swap(el, "text", el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) swap(el, "placeholder", el.dataset.i18nPlaceholder);
  for (const el of root.querySelectorAll("[data-i18n-label]")) swap(el, "aria-label", el.dataset.i18nLabel);
}

export function setLang(language) {
  current = language === "en" ? "en" : "ko";
  try {
    localStorage.setItem(STORE, current);
  } catch {
    // not remembered; the page still switches
  }
  translate();
  document.dispatchEvent(new CustomEvent("jikimi:lang", { detail: current }));
}

add({
  en: {
    "skip": "Skip to content",
    "lang.switch": "한국어",
    "nav.label": "Citizen menu",
    "nav.incidents": "My district",
    "nav.guides": "Action guides",
    "nav.report": "Report",
    "nav.status": "My reports",
    "call119": "In danger now? Call 119",
  },
  ko: {
    "error.network": "연결할 수 없습니다. 네트워크를 확인하고 다시 시도하세요.",
    "error.server": "잠시 후 다시 시도하세요. ({status})",
    "offline": "오프라인입니다. 저장해 둔 정보를 보여 줍니다.",
    "severity.minor": "경미",
    "severity.moderate": "보통",
    "severity.severe": "심각",
    "severity.extreme": "매우 심각",
  },
});
add({
  en: {
    "error.network": "Cannot connect. Check your network and try again.",
    "error.server": "Please try again shortly. ({status})",
    "offline": "You are offline. Showing what was saved.",
    "severity.minor": "Minor",
    "severity.moderate": "Moderate",
    "severity.severe": "Severe",
    "severity.extreme": "Extreme",
  },
});
