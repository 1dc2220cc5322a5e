// Current disasters in my district: the public incidents broadcast serves, refreshed every minute.
import { config, request } from "/ui/common/api.js";
import { lang, t } from "/ui/common/i18n.js";
import { el, formatTime, problemText, ready, start, store, stored } from "/ui/common/page.js";
import "./words.js";

const CHOSEN = "jikimi.district";
const REFRESH_MS = 60000;

start({ worker: { url: "/ui/citizen/sw.js", scope: "/ui/citizen/" } });

const select = document.getElementById("district");
const list = document.getElementById("incidents");
const where = document.getElementById("where");
const { services, districts, error: unconfigured } = await config().catch((error) => ({ services: null, districts: [], error }));

function name(district) {
  return lang() === "ko" ? district.ko : district.en;
}

function fillDistricts() {
  const chosen = select.value || stored(CHOSEN, "");
  select.replaceChildren(el("option", { value: "" }, t("all")), ...districts.map((d) => el("option", { value: d.code }, name(d))));
  select.value = chosen;
}

function card(incident) {
  const type = lang() === "ko" ? incident.type_ko : incident.type_en;
  const place = incident.place ? name(incident.place) : "";
  const casualties = [
    incident.casualties_injured ? t("incidents.injured", { count: incident.casualties_injured }) : "",
    incident.casualties_dead ? t("incidents.dead", { count: incident.casualties_dead }) : "",
  ].filter(Boolean);
  return el(
    "li",
    { class: "card" },
    el("h3", {}, `${type} · ${place} `, el("span", { class: `badge ${incident.severity}` }, t(`severity.${incident.severity}`))),
    el("p", {}, el("strong", {}, incident.headline)),
    incident.instruction && el("p", {}, incident.instruction),
    incident.situation && el("p", {}, incident.situation),
    casualties.length > 0 && el("p", {}, casualties.join(" · ")),
    el("p", { class: "muted" }, t("incidents.updated", { time: formatTime(incident.updated_at) })),
    incident.guide && el("p", {}, el("a", { href: `/ui/citizen/guide.html?slug=${encodeURIComponent(incident.guide)}` }, t("incidents.guide", { type }))),
  );
}

let shown = [];

function render() {
  const district = districts.find((d) => d.code === select.value);
  list.replaceChildren(
    shown.length ? el("ul", { class: "cards" }, shown.map(card)) : el("p", {}, t("incidents.none", { place: district ? name(district) : t("all") })),
  );
}

async function load() {
  list.setAttribute("aria-busy", "true");
  try {
    if (!services) throw unconfigured;
    const query = select.value ? `?district=${select.value}` : "";
    shown = await request(`${services.broadcast}/public/incidents${query}`, { keep: "jikimi-data" });
    render();
  } catch (error) {
    list.replaceChildren(el("p", { class: "error", role: "alert" }, problemText(error)));
  } finally {
    list.setAttribute("aria-busy", "false");
    ready();
  }
}

select.addEventListener("change", () => {
  store(CHOSEN, select.value);
  where.textContent = "";
  load();
});

document.getElementById("nearest").addEventListener("click", () => {
  if (!districts.length) return;
  where.textContent = t("location.asking");
  navigator.geolocation.getCurrentPosition(
    ({ coords }) => {
      const distance = (d) => (d.lat - coords.latitude) ** 2 + ((d.lon - coords.longitude) * Math.cos((coords.latitude * Math.PI) / 180)) ** 2;
      const nearest = districts.reduce((best, d) => (distance(d) < distance(best) ? d : best));
      select.value = nearest.code;
      store(CHOSEN, nearest.code);
      where.textContent = t("incidents.nearest.found", { district: name(nearest) });
      load();
    },
    () => {
      where.textContent = t("location.failed");
    },
    { timeout: 15000, maximumAge: 300000 },
  );
});

document.addEventListener("jikimi:lang", () => {
  fillDistricts();
  render();
});
setInterval(() => document.visibilityState === "visible" && load(), REFRESH_MS);

fillDistricts();
load();
