// What every page does: the language switch, the offline notice, a service worker if it has
// one, the "ready" mark (performance.mark("jikimi:ready"), <html data-ready>), and safe DOM
// building (text is always set as text, never parsed as HTML).

import { lang, setLang, t, translate } from "./i18n.js";

export function start({ worker } = {}) {
  const button = document.getElementById("lang");
  const label = () => button && (button.lang = lang() === "ko" ? "en" : "ko");
  button?.addEventListener("click", () => {
    setLang(lang() === "ko" ? "en" : "ko");
    label();
  });
  translate();
  label();
  const notice = el("p", { class: "notice", role: "status", hidden: navigator.onLine });
  notice.textContent = t("offline");
  document.querySelector("main")?.prepend(notice);
  const show = () => {
    notice.hidden = navigator.onLine;
    notice.textContent = t("offline");
  };
  addEventListener("online", show);
  addEventListener("offline", show);
  document.addEventListener("jikimi:lang", show);
  if (worker && "serviceWorker" in navigator) {
    navigator.serviceWorker.register(worker.url, { scope: worker.scope }).catch(() => {});
  }
}

export function ready() {
  if (document.documentElement.dataset.ready) return;
  performance.mark("jikimi:ready");
  document.documentElement.dataset.ready = "true";
}

// el("a", {href: "/x", class: "button"}, "text", otherNode)
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (name === "hidden") node.hidden = Boolean(value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function formatTime(iso) {
  const options = { dateStyle: "medium", timeStyle: "short", timeZone: "Asia/Seoul" };
  return new Intl.DateTimeFormat(lang() === "ko" ? "ko-KR" : "en-GB", options).format(new Date(iso));
}

export function problemText(error) {
  if (!error || error.status === 0) return t("error.network");
  if (error.status >= 500 || error.status === 429) return t("error.server", { status: error.status });
  return error.message || t("error.server", { status: error.status });
}

// A device's own random id, kept: a report's "reporter" and Idempotency-Key need no secure context.
export function randomId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function stored(key, fallback) {
  try {
    const value = localStorage.getItem(key);
    return value === null ? fallback : JSON.parse(value);
  } catch {
    return fallback;
  }
}

export function store(key, value) {
  try {
    localStorage.setItem(key, JSON.stringify(value));
    return true;
  } catch {
    return false;
  }
}
