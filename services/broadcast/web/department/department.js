// A department's desk: signed in with its token (desk.js: kept in this tab only, never in the
// address), what is addressed to it live (GET /live/stream: briefings as they are issued), each
// acknowledged with one press (POST /live/ack), and an incident's briefings in readable form.
import { config, stream } from "/ui/common/api.js";
import { openDesk } from "/ui/common/desk.js";
import { lang, t } from "/ui/common/i18n.js";
import { el, formatTime, problemText, ready, start } from "/ui/common/page.js";
import { typeName } from "/ui/common/types.js";
import "./words.js";

const KEPT_ITEMS = 100;

start();

const live = document.getElementById("live");
const items = document.getElementById("items");
const lookup = document.getElementById("lookup");
const briefing = document.getElementById("briefing");
const briefingError = document.getElementById("briefing-error");
const numbers = document.getElementById("number");
const { districts } = await config().catch(() => ({ districts: [] }));
let follow = null;
let shown = null; // {incident, reports, number}: the briefing on screen
const session = openDesk({ key: "jikimi.department.token", connect, leave });
const call = session.call;

const kindName = (kind) => (t(`kind.${kind}`) === `kind.${kind}` ? kind : t(`kind.${kind}`));
const place = (code, fallback) => {
  const found = districts.find((d) => d.code === code);
  return found ? (lang() === "ko" ? found.ko : found.en) : fallback || t("unknown");
};

function itemCard(item) {
  const acked = Boolean(item.acked);
  return el(
    "li",
    { class: "card", "data-delivery": item.delivery_id, "data-kind": item.kind },
    el("p", { class: "muted" }, `${kindName(item.kind)} · ${formatTime(item.at)}`),
    el("p", {}, item.text),
    el(
      "p",
      { class: "row" },
      item.incident_id &&
        el("button", { type: "button", "data-incident": item.incident_id, "aria-label": t("item.open", { text: item.text.slice(0, 60) }) }, t("item.briefing")),
      el(
        "button",
        { type: "button", "data-ack": item.delivery_id, disabled: acked, "aria-label": t("item.ack.label", { text: item.text.slice(0, 60) }) },
        acked ? t("item.acked") : t("item.ack"),
      ),
    ),
  );
}

function addItem(item) {
  if (items.querySelector(`[data-delivery="${item.delivery_id}"]`)) return;
  items.prepend(itemCard(item));
  while (items.children.length > KEPT_ITEMS) items.lastElementChild.remove();
  document.getElementById("items-empty").hidden = true;
}

async function acknowledge(button) {
  button.disabled = true;
  try {
    await call("/live/ack", { method: "POST", body: { ids: [button.dataset.ack] } });
    button.textContent = t("item.acked");
  } catch (error) {
    button.disabled = false;
    live.textContent = problemText(error);
  }
}

function fact(term, value) {
  return value === null || value === undefined || value === "" ? [] : [el("dt", {}, t(term)), el("dd", {}, String(value))];
}

function renderBriefing() {
  if (!shown) return;
  const report = shown.reports.find((r) => r.number === shown.number) ?? shown.reports.at(-1);
  const { situation, casualties, resources } = report.sitrep.body;
  const type = typeName(situation.disaster_type);
  document.getElementById("briefing-title").textContent = `${situation.title || type} · ${t(`version.${report.version}`)} #${report.number}`;
  document.getElementById("briefing-meta").textContent = t("briefing.meta", {
    issued: formatTime(report.issued_at),
    next: report.next_report_at ? formatTime(report.next_report_at) : t("briefing.no_next"),
  });
  const casualtyText =
    casualties.injured == null && casualties.dead == null
      ? t("briefing.no_casualties")
      : t("briefing.casualty_line", { injured: casualties.injured ?? "?", dead: casualties.dead ?? "?" });
  document.getElementById("briefing-facts").replaceChildren(
    ...fact("briefing.type", type),
    ...fact("briefing.severity", report.sitrep.severity ? t(`severity.${report.sitrep.severity}`) : ""),
    ...fact("briefing.place", [place(situation.district_code, situation.district), situation.place].filter(Boolean).join(" · ")),
    ...fact("briefing.status", t(`status.${situation.status}`)),
    ...fact("briefing.reports", situation.reports),
    ...fact("briefing.casualties", casualtyText),
    ...fact("briefing.outcome", situation.outcome),
  );
  const list = (values) => (values.length ? values.map((v) => el("li", {}, v)) : [el("li", { class: "muted" }, t("none"))]);
  document.getElementById("briefing-changes").replaceChildren(...list(situation.changes));
  document.getElementById("briefing-updates").replaceChildren(...list(situation.updates.map((u) => `${formatTime(u.at)} · ${u.text}`)));
  document.getElementById("briefing-resources").replaceChildren(
    ...list([
      ...resources.seats.map((s) => t("seat.line", s)),
      ...resources.departments.map((d) => `${d.name || d.id} (${d.kind})`),
    ]),
  );
  numbers.replaceChildren(...shown.reports.map((r) => el("option", { value: r.number }, `#${r.number} ${t(`version.${r.version}`)} · ${formatTime(r.issued_at)}`)));
  numbers.value = String(report.number);
  briefing.hidden = false;
}

async function openBriefings(incident, focus = true) {
  briefingError.hidden = true;
  try {
    const reports = await call(`/incidents/${incident}/briefings`);
    shown = { incident, reports, number: reports.at(-1).number };
    renderBriefing();
    if (focus) briefing.focus();
  } catch (error) {
    briefing.hidden = true;
    shown = null;
    briefingError.textContent = error.status === 404 ? t("briefing.none") : error.status === 403 ? t("briefing.forbidden") : problemText(error);
    briefingError.hidden = false;
  }
}

function connect() {
  follow?.close();
  follow = stream("/live/stream", {
    token: session.token,
    onEvent({ event, data }) {
      if (event !== "item") return;
      addItem(data);
      // A new briefing of the incident on screen: the page shows the latest.
      if (data.kind === "briefing" && shown && data.incident_id === shown.incident) openBriefings(shown.incident, false);
    },
    onState(how, status) {
      if (how === "refused" && status === 401) session.signOut(t("login.refused"));
      else live.textContent = t(`live.${how}`);
    },
  });
}

function leave() {
  follow?.close();
  follow = null;
  items.replaceChildren();
  document.getElementById("items-empty").hidden = false;
}

items.addEventListener("click", (event) => {
  const ack = event.target.closest("button[data-ack]");
  if (ack) acknowledge(ack);
  const open = event.target.closest("button[data-incident]");
  if (open) openBriefings(open.dataset.incident);
});
lookup.addEventListener("submit", (event) => {
  event.preventDefault();
  openBriefings(lookup.elements.incident.value.trim().toLowerCase());
});
numbers.addEventListener("change", () => {
  shown.number = Number(numbers.value);
  renderBriefing();
});
document.addEventListener("jikimi:lang", renderBriefing);

await session.begin();
ready();
