// The report form: text, place, the browser's location; sent to intake's POST /reports with an
// Idempotency-Key, so pressing again after a failure is received once. The receipt is kept on
// this device (localStorage) for the status page.
import { request } from "/ui/common/api.js";
import { lang, t, translate } from "/ui/common/i18n.js";
import { el, problemText, randomId, ready, start, store, stored } from "/ui/common/page.js";
import "./words.js";

const REPORTS = "jikimi.reports"; // read by status.js
const DEVICE = "jikimi.device";

start({ worker: { url: "/ui/citizen/sw.js", scope: "/ui/citizen/" } });

const form = document.getElementById("report");
const send = document.getElementById("send");
const failure = document.getElementById("form-error");
const place = document.getElementById("location");
const done = document.getElementById("done");
let point = null;
let pending = null; // {key, body}: a failed send's key, reused while the report is unchanged

function device() {
  let id = stored(DEVICE, "");
  if (!id) {
    id = randomId();
    store(DEVICE, id);
  }
  return id;
}

function describePlace() {
  place.textContent = point ? t("location.found", { accuracy: Math.round(point.accuracy_m ?? 0) }) : t("location.none");
}

document.getElementById("locate").addEventListener("click", () => {
  if (!("geolocation" in navigator)) {
    place.textContent = t("location.failed");
    return;
  }
  place.textContent = t("location.asking");
  navigator.geolocation.getCurrentPosition(
    ({ coords }) => {
      point = { lat: coords.latitude, lon: coords.longitude, accuracy_m: coords.accuracy };
      describePlace();
    },
    () => {
      point = null;
      place.textContent = t("location.failed");
    },
    { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 },
  );
});

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const body = {
    text: form.elements.text.value.trim(),
    address: form.elements.address.value.trim(),
    location: point,
    reporter: device(),
    language: lang(),
  };
  const same = pending && JSON.stringify(pending.body) === JSON.stringify(body);
  pending = same ? pending : { key: randomId(), body };
  failure.hidden = true;
  send.disabled = true;
  send.textContent = t("report.sending");
  try {
    const receipt = await request("/reports", { method: "POST", body, headers: { "Idempotency-Key": pending.key } });
    pending = null;
    if (receipt.report_id) {
      const kept = stored(REPORTS, []).filter((r) => r.id !== receipt.report_id);
      store(REPORTS, [{ id: receipt.report_id, receipt: receipt.receipt, at: new Date().toISOString() }, ...kept].slice(0, 20));
    }
    document.getElementById("receipt").textContent = receipt.receipt ?? "";
    document.getElementById("messages").replaceChildren(...receipt.messages.map((m) => el("p", {}, m)));
    form.hidden = true;
    done.hidden = false;
    done.focus();
  } catch (error) {
    failure.textContent = error.status === 0 || error.status >= 500 ? t("report.retry") : problemText(error);
    failure.hidden = false;
  } finally {
    send.disabled = false;
    translate(form); // the button's own label again
  }
});

document.getElementById("again").addEventListener("click", () => {
  form.reset();
  point = null;
  describePlace();
  done.hidden = true;
  form.hidden = false;
  form.elements.text.focus();
});

document.addEventListener("jikimi:lang", describePlace);
describePlace();
ready();
