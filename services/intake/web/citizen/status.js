// The status of my reports: those sent from this device, asked of intake with their receipts.
import { config, request } from "/ui/common/api.js";
import { lang, t } from "/ui/common/i18n.js";
import { el, formatTime, problemText, ready, start, store, stored } from "/ui/common/page.js";
import "./words.js";

const REPORTS = "jikimi.reports"; // written by report.js

start({ worker: { url: "/ui/citizen/sw.js", scope: "/ui/citizen/" } });

const list = document.getElementById("reports");
const none = document.getElementById("none");
let answers = new Map(); // report id → status answer or error
let types = new Map(); // disaster type slug → {ko, en}

function typeName(slug) {
  const names = types.get(slug);
  return names ? names[lang()] : slug;
}

function statusText(answer) {
  if (!answer) return t("loading");
  if (answer instanceof Error) return problemText(answer);
  const title = answer.incident_title || (answer.disaster_type ? typeName(answer.disaster_type) : "");
  return t(`status.${answer.status}`, { title });
}

function render() {
  const reports = stored(REPORTS, []);
  none.hidden = reports.length > 0;
  list.replaceChildren(
    ...reports.map((report) => {
      const answer = answers.get(report.id);
      const forget = el("button", { type: "button", "aria-label": t("status.forget.label", { receipt: report.receipt }) }, t("status.forget"));
      forget.addEventListener("click", () => {
        store(REPORTS, stored(REPORTS, []).filter((r) => r.id !== report.id));
        render();
      });
      return el(
        "li",
        { class: "card" },
        el("h2", {}, t("status.receipt", { receipt: report.receipt })),
        el("p", { class: answer instanceof Error ? "error" : "" }, statusText(answer)),
        el("p", { class: "muted" }, t("status.sent", { time: formatTime(report.at) })),
        forget,
      );
    }),
  );
}

async function load() {
  const reports = stored(REPORTS, []);
  render();
  const asked = reports.map(async (report) => {
    const query = `?receipt=${encodeURIComponent(report.receipt)}`;
    try {
      answers.set(report.id, await request(`/reports/${encodeURIComponent(report.id)}/status${query}`));
    } catch (error) {
      answers.set(report.id, error);
    }
  });
  const named = config()
    .then(({ services }) => request(`${services.broadcast}/public/guides`, { keep: "jikimi-data" }))
    .then((guides) => {
      types = new Map(guides.map((g) => [g.slug, { ko: g.ko, en: g.en }]));
    })
    .catch(() => {}); // names are a nicety: the slug is shown without them
  await Promise.all([...asked, named]);
  render();
  list.setAttribute("aria-busy", "false");
  ready();
}

document.addEventListener("jikimi:lang", render);
load();
