// The operator's live board: signed in with the operator's token (desk.js: kept in this tab
// only, never in the address), the incidents (GET /incidents, filtered), new reports live
// (GET /incidents/live) and one incident's reports.
import { config, stream } from "/ui/common/api.js";
import { openDesk } from "/ui/common/desk.js";
import { lang, t } from "/ui/common/i18n.js";
import { el, formatTime, problemText, ready, start } from "/ui/common/page.js";
import { SEVERITIES, TYPES, typeName } from "/ui/common/types.js";
import "./words.js";

const KEPT_ARRIVALS = 50;

start();

const filters = document.getElementById("filters");
const list = document.getElementById("incidents");
const arrivals = document.getElementById("arrivals");
const detail = document.getElementById("detail");
const live = document.getElementById("live");
const { districts } = await config().catch(() => ({ districts: [] }));
let follow = null;
let incidents = [];
let opened = null; // the incident shown in detail
let refreshing = null;
const session = openDesk({ key: "jikimi.operator.token", connect, leave });
const call = session.call;

const place = (location) => {
  const found = districts.find((d) => d.code === location?.district_code);
  return found ? (lang() === "ko" ? found.ko : found.en) : t("unknown");
};

function options(select, values, label) {
  const chosen = select.value;
  select.replaceChildren(el("option", { value: "" }, t("all")), ...values.map((v) => el("option", { value: v }, label(v))));
  select.value = chosen;
}

function fillFilters() {
  options(filters.elements.district, districts.map((d) => d.code), (code) => place({ district_code: code }));
  options(filters.elements.type, TYPES, typeName);
  options(filters.elements.severity, SEVERITIES, (s) => t(`severity.${s}`));
}

function card(incident) {
  const facts = t("facts", {
    type: typeName(incident.disaster_type),
    place: place(incident.location),
    count: incident.report_count,
    time: formatTime(incident.updated_at ?? incident.opened_at),
  });
  return el(
    "li",
    { class: "card", "data-id": incident.id },
    el("h3", {}, `${incident.title} `, el("span", { class: `badge ${incident.severity}` }, t(`severity.${incident.severity}`))),
    el("p", {}, facts),
    el("button", { type: "button", "data-open": incident.id, "aria-label": t("open", { title: incident.title }) }, t("details")),
  );
}

function render() {
  list.replaceChildren(...(incidents.length ? incidents.map(card) : [el("li", { class: "muted" }, t("none"))]));
  list.setAttribute("aria-busy", "false");
}

function reportItem(report) {
  return el(
    "li",
    { "data-receipt": report.receipt },
    el("p", { class: "muted" }, t("report.line", { receipt: report.receipt, channel: report.channel, time: formatTime(report.received_at) })),
    el("p", {}, report.text),
    !report.incident_id && el("p", { class: "muted" }, t("report.unlinked")),
  );
}

async function refresh() {
  const query = new URLSearchParams();
  for (const name of ["district", "type", "severity"]) if (filters.elements[name].value) query.set(name, filters.elements[name].value);
  try {
    incidents = await call(`/incidents?${query}`);
    render();
    if (opened) await show(opened.id, false);
  } catch (error) {
    live.textContent = problemText(error);
  }
}

function soon() {
  // A burst of changes is one read of the board.
  refreshing ??= setTimeout(() => {
    refreshing = null;
    refresh();
  }, 250);
}

async function show(id, focus = true) {
  opened = await call(`/incidents/${id}`);
  document.getElementById("detail-title").textContent = opened.title;
  document.getElementById("detail-facts").textContent = `${t(`status.${opened.status}`)} · ${t("facts", {
    type: typeName(opened.disaster_type),
    place: place(opened.location),
    count: opened.report_count,
    time: formatTime(opened.opened_at),
  })}`;
  document.getElementById("detail-reports").replaceChildren(...opened.reports.map(reportItem));
  detail.hidden = false;
  if (focus) detail.focus();
}

function connect() {
  fillFilters();
  follow?.close();
  follow = stream("/incidents/live", {
    token: session.token,
    onEvent({ event, data }) {
      if (event === "report") {
        arrivals.prepend(reportItem(data));
        while (arrivals.children.length > KEPT_ARRIVALS) arrivals.lastElementChild.remove();
      } else if (event === "board") soon();
    },
    onState(how, status) {
      if (how === "refused" && status === 401) session.signOut(t("login.refused"));
      else if (how === "open") soon(); // (again): whatever changed while it was cut
      live.textContent = t(`live.${how}`);
    },
  });
  return refresh();
}

function leave() {
  follow?.close();
  follow = null;
}

filters.addEventListener("change", refresh);
list.addEventListener("click", (event) => {
  const id = event.target.closest("button[data-open]")?.dataset.open;
  if (id) show(id).catch((error) => (live.textContent = problemText(error)));
});
document.getElementById("close-detail").addEventListener("click", () => {
  detail.hidden = true;
  opened = null;
});
document.addEventListener("jikimi:lang", () => {
  fillFilters();
  render();
});

await session.begin();
ready();
