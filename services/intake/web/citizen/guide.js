// One action guide. Once it is shown, both languages of it are kept for offline use, and the
// page says so (<html data-offline="ready">) when the service worker holds the page itself.
import { config, kept, request } from "/ui/common/api.js";
import { lang, t } from "/ui/common/i18n.js";
import { el, problemText, ready, start } from "/ui/common/page.js";
import "./words.js";

start({ worker: { url: "/ui/citizen/sw.js", scope: "/ui/citizen/" } });

const slug = new URLSearchParams(location.search).get("slug") || "";
const article = document.getElementById("guide");
const status = document.getElementById("guide-status");

const address = (base, language) => `${base}/public/guides/${encodeURIComponent(slug)}?lang=${language}`;

async function show() {
  status.hidden = false;
  status.className = "muted";
  status.textContent = t("loading");
  try {
    if (!/^[a-z0-9-]{1,50}$/.test(slug)) throw new Error(t("guide.unknown"));
    const { services } = await config();
    const guide = await request(address(services.broadcast, lang()), { keep: "jikimi-data" });
    document.getElementById("title").textContent = guide.title;
    document.title = `${guide.title} · ${t("brand")}`;
    document.getElementById("short").textContent = guide.short;
    for (const phase of ["before", "during", "after"]) {
      document.getElementById(phase).replaceChildren(...guide[phase].map((step) => el("li", {}, step)));
    }
    article.hidden = false;
    status.hidden = true;
    return services;
  } catch (error) {
    status.className = "error";
    status.textContent = error.status === 404 ? t("guide.unknown") : problemText(error);
    return null;
  } finally {
    ready();
  }
}

const services = await show();
document.addEventListener("jikimi:lang", show);
if (services && "serviceWorker" in navigator) {
  const other = lang() === "ko" ? "en" : "ko";
  await request(address(services.broadcast, other), { keep: "jikimi-data" }).catch(() => {});
  await Promise.all([kept(), navigator.serviceWorker.ready]);
  document.documentElement.dataset.offline = "ready";
}
