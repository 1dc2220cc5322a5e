// An analyst's look at one incident: signed in with the analyst's token (desk.js: kept in this tab
// only, never in the address), the timeline page by page, the state at any moment on a slider, the
// figures, and exports (fetched with the token and saved from a Blob: the token is never in a URL).
import { config } from "/ui/common/api.js";
import { openDesk } from "/ui/common/desk.js";
import { lang, t } from "/ui/common/i18n.js";
import { el, formatTime, problemText, ready, start } from "/ui/common/page.js";
import { typeName } from "/ui/common/types.js";
import "./words.js";

const PAGE = 200;
const WEEK_MS = 7 * 24 * 3600 * 1000;
const BEFORE_S = 60; // the slider starts this long before the first event: "before the incident"

start();

const pick = document.getElementById("pick");
const problem = document.getElementById("error");
const analysis = document.getElementById("analysis");
const moment = document.getElementById("moment");
const momentShown = document.getElementById("moment-shown");
const clock = document.getElementById("clock");
const stateBox = document.getElementById("state");
const timeline = document.getElementById("timeline");
const more = document.getElementById("more");
const exportState = document.getElementById("export-state");
const { districts } = await config().catch(() => ({ districts: [] }));
let incident = null;
let next = null;
let origin = 0; // the slider's 0, in ms since the epoch
let asking = null; // the state request being debounced
let lastState = null;
let lastFigures = null;
const session = openDesk({ key: "jikimi.analyst.token", connect });
const call = session.call;

const named = (prefix, value) => (t(`${prefix}.${value}`) === `${prefix}.${value}` ? value : t(`${prefix}.${value}`));
const place = (code) => {
  const found = districts.find((d) => d.code === code);
  return found ? (lang() === "ko" ? found.ko : found.en) : t("unknown");
};
const seconds = (s) => (s == null ? "—" : t("seconds", { s: Number(s).toFixed(1) }));
const when = (iso) => (iso ? formatTime(iso) : "—");
const facts = (pairs) => pairs.flatMap(([term, value]) => [el("dt", {}, t(term)), el("dd", {}, String(value))]);

function momentAt() {
  return new Date(origin + Number(moment.value) * 1000);
}

function showMoment() {
  momentShown.textContent = formatTime(momentAt().toISOString());
  moment.setAttribute("aria-valuetext", momentShown.textContent);
}

function renderState() {
  if (!lastState) return;
  const { state } = lastState;
  stateBox.dataset.exists = String(state.exists);
  if (!state.exists) {
    stateBox.replaceChildren(el("p", { class: "muted" }, t("state.none", { reports: state.reports.length })));
    return;
  }
  const incidentFacts = state.incident;
  const parts = [
    el(
      "dl",
      {},
      facts([
        ["state.type", typeName(incidentFacts.disaster_type)],
        ["state.severity", t(`severity.${incidentFacts.severity}`)],
        ["state.status", named("status", incidentFacts.status)],
        ["state.place", [place(incidentFacts.district_code), incidentFacts.place].filter(Boolean).join(" · ")],
        ["state.reports", state.reports.filter((r) => r.linked).length],
        ["state.deliveries", t("state.delivery_line", state.counts)],
      ]),
    ),
  ];
  const community = state.community;
  parts.push(el("h3", {}, t("state.community")));
  if (!community) parts.push(el("p", { id: "community", class: "muted" }, t("state.no_community")));
  else {
    const lines = [
      ...community.seats.map((s) => t("seat.line", { field: s.field, filled: s.filled_by.length, needed: s.needed })),
      ...community.members.map((m) => `${m.expert_id} · ${m.seat_field} · ${named("member", m.status)}`),
      ...community.departments.map((d) => `${d.name || d.id} (${d.id})`),
    ];
    parts.push(el("ul", { id: "community" }, lines.map((line) => el("li", {}, line))));
  }
  stateBox.replaceChildren(...parts);
}

async function loadState() {
  clearTimeout(asking);
  asking = null;
  const at = momentAt().toISOString().replace("Z", "+00:00");
  const asked = `${moment.value}/${clock.value}`;
  stateBox.setAttribute("aria-busy", "true");
  try {
    const answer = await call(`/incidents/${incident}/state?${new URLSearchParams({ at, clock: clock.value })}`);
    if (asked !== `${moment.value}/${clock.value}`) return; // the slider moved on meanwhile
    lastState = answer;
    renderState();
  } catch (error) {
    stateBox.replaceChildren(el("p", { class: "error" }, problemText(error)));
  } finally {
    stateBox.setAttribute("aria-busy", "false");
  }
}

function renderFigures() {
  if (!lastFigures) return;
  const { milestones, invitations, latency, never_acknowledged: never } = lastFigures;
  document.getElementById("figures").replaceChildren(
    ...facts([
      ["figures.first_report", when(milestones.first_report_at)],
      ["figures.opened", `${when(milestones.opened_at)} (${seconds(milestones.report_to_opened_s)})`],
      ["figures.first_accepted", `${when(milestones.first_accepted_at)} (${seconds(milestones.opened_to_first_accepted_s)})`],
      ["figures.seats_filled", `${when(milestones.seats_filled_at)} (${seconds(milestones.report_to_seats_filled_s)})`],
      ["figures.invitations", t("figures.invitation_line", invitations)],
      ...latency.map((l) => [
        "figures.latency",
        t("figures.latency_line", { channel: l.channel, kind: l.kind, delivered: l.delivered, p50: seconds(l.p50_s), max: seconds(l.max_s) }),
      ]),
      ...Object.entries(never).map(([kind, members]) => ["figures.never", `${kind}: ${members.join(", ")}`]),
    ]),
  );
}

function entryItem(entry) {
  return el(
    "li",
    { "data-position": `${entry.service}:${entry.position}` },
    el("p", { class: "muted" }, `${formatTime(entry.occurred_at)} · ${entry.service} · ${entry.actor || "—"}`),
    el("p", {}, entry.summary || entry.type),
  );
}

async function loadTimeline() {
  more.disabled = true;
  try {
    const query = new URLSearchParams({ limit: PAGE });
    if (next) query.set("after", next);
    const page = await call(`/incidents/${incident}/timeline?${query}`);
    timeline.append(...page.entries.map(entryItem));
    next = page.next;
    more.hidden = !next;
    return page.entries;
  } finally {
    more.disabled = false;
  }
}

async function open(id) {
  problem.hidden = true;
  analysis.hidden = true;
  incident = id;
  next = null;
  lastState = lastFigures = null;
  timeline.replaceChildren();
  try {
    const [first, figures] = await Promise.all([loadTimeline(), call(`/incidents/${id}/figures`)]);
    lastFigures = figures;
    renderFigures();
    const times = first.flatMap((e) => [Date.parse(e.occurred_at), Date.parse(e.recorded_at)]);
    const now = Date.now();
    origin = Math.floor(Math.min(now, ...times) / 1000) * 1000 - BEFORE_S * 1000;
    moment.max = String(Math.ceil((now - origin) / 1000));
    moment.value = moment.max; // now
    showMoment();
    analysis.hidden = false;
    await loadState();
  } catch (error) {
    problem.textContent = error.status === 404 ? t("pick.unknown") : problemText(error);
    problem.hidden = false;
  }
}

async function download(format, button) {
  button.disabled = true;
  exportState.textContent = t("export.working");
  try {
    const response = await fetch(`/incidents/${incident}/export?format=${format}`, {
      headers: { Authorization: `Bearer ${session.token}` },
      cache: "no-store",
      referrerPolicy: "no-referrer",
    });
    if (!response.ok) throw Object.assign(new Error(response.statusText), { status: response.status });
    const blob = await response.blob();
    const given = /filename="([^"]+)"/.exec(response.headers.get("content-disposition") || "");
    const link = el("a", { href: URL.createObjectURL(blob), download: given ? given[1] : `incident-${incident}.${format}` });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
    exportState.textContent = t("export.done", { size: Math.ceil(blob.size / 1024) });
  } catch (error) {
    if (error.status === 401) session.signOut(t("login.refused"));
    exportState.textContent = problemText(error);
  } finally {
    button.disabled = false;
  }
}

async function listRecent() {
  // GET /incidents?from=&to=: the week's openings, newest first; choosing one fills the number.
  const recent = pick.elements.recent;
  const to = new Date(Date.now() + 60_000);
  const from = new Date(to - WEEK_MS);
  const iso = (date) => date.toISOString().replace("Z", "+00:00");
  try {
    const opened = await call(`/incidents?${new URLSearchParams({ from: iso(from), to: iso(to) })}`);
    const choices = opened.reverse().map((o) => el("option", { value: o.incident_id }, o.incident_id));
    recent.replaceChildren(el("option", { value: "" }, t(choices.length ? "pick.choose" : "pick.none")), ...choices);
  } catch {
    recent.replaceChildren(el("option", { value: "" }, t("pick.none")));
  }
}

function connect(pasted) {
  listRecent();
  if (pasted) pick.elements.incident.focus();
}

pick.addEventListener("submit", (event) => {
  event.preventDefault();
  open(pick.elements.incident.value.trim().toLowerCase());
});
pick.elements.recent.addEventListener("change", () => {
  const chosen = pick.elements.recent.value;
  if (!chosen) return;
  pick.elements.incident.value = chosen;
  open(chosen);
});
moment.addEventListener("input", () => {
  showMoment();
  clearTimeout(asking);
  asking = setTimeout(loadState, 250); // dragging asks once it rests
});
moment.addEventListener("change", loadState);
clock.addEventListener("change", loadState);
more.addEventListener("click", () =>
  loadTimeline().catch((error) => {
    problem.textContent = problemText(error);
    problem.hidden = false;
  }),
);
for (const button of document.querySelectorAll("button[data-format]")) {
  button.addEventListener("click", () => download(button.dataset.format, button));
}
document.addEventListener("jikimi:lang", () => {
  if (incident) showMoment();
  renderState();
  renderFigures();
});

await session.begin();
ready();
