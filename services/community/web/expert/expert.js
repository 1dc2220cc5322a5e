// An expert's call-out: the invitation behind their link (the token arrives in the address's
// fragment, which no server sees, and is kept in this tab only), the answer, then the room live.
import { config, request, stream } from "/ui/common/api.js";
import { lang, t, translate } from "/ui/common/i18n.js";
import { el, formatTime, problemText, ready, start } from "/ui/common/page.js";
import "./words.js";

const LINK = "jikimi.expert.link"; // the invitation link's token, this tab only
const SEAT = "jikimi.expert.seat"; // {token, expires_at}: the room's link after accepting

start();

const state = document.getElementById("state");
const answer = document.getElementById("answer");
const answerError = document.getElementById("answer-error");
const room = document.getElementById("room");
const messages = document.getElementById("messages");
const postForm = document.getElementById("post");
const postError = document.getElementById("post-error");
const live = document.getElementById("live");

function session(key, value) {
  try {
    if (value === undefined) return JSON.parse(sessionStorage.getItem(key) ?? "null");
    if (value === null) sessionStorage.removeItem(key);
    else sessionStorage.setItem(key, JSON.stringify(value));
  } catch {
    // storage refused: the page works until it is closed
  }
  return null;
}

const fromLink = new URLSearchParams(location.hash.slice(1)).get("t");
if (fromLink) {
  if (fromLink !== session(LINK)) session(SEAT, null);
  session(LINK, fromLink);
  history.replaceState(null, "", location.pathname); // out of the address bar and its history
}
const link = session(LINK);
let seat = session(SEAT);
if (seat && new Date(seat.expires_at) <= new Date()) seat = null;
const { districts } = await config().catch(() => ({ districts: [] }));
let invitation = null;
let community = null;
let follow = null;
const shown = new Set();

function say(key) {
  state.dataset.key = key; // said again in the other language when it is switched
  state.textContent = t(key);
}

function sayError(error) {
  state.dataset.key = "";
  state.textContent = problemText(error);
}

function district(code) {
  const found = districts.find((d) => d.code === code);
  return found ? (lang() === "ko" ? found.ko : found.en) : t("district.unknown");
}

function who(author) {
  const [role, id] = author.split(":");
  if (author === `expert:${invitation?.expert_id}`) return t("me");
  if (role === "operator" || role === "admin") return t("operator");
  if (role === "citizen") return t("citizen");
  return id || author;
}

function renderInvitation() {
  if (!invitation) return;
  const type = (lang() === "ko" ? invitation.type_ko : invitation.type_en) || invitation.disaster_type;
  document.getElementById("incident-title").textContent = type;
  document.getElementById("severity").replaceChildren(
    el("span", { class: `badge ${invitation.severity}` }, t(`severity.${invitation.severity}`)),
  );
  document.getElementById("place").textContent = district(invitation.district_code);
  document.getElementById("seat").textContent = invitation.seat_field;
  document.getElementById("answer-by").textContent = formatTime(invitation.expires_at);
  const others = invitation.members.map((m) => el("li", {}, `${m.expert_id} · ${m.seat_field} · ${t(`member.${m.status}`)}`));
  if (invitation.reporters) others.push(el("li", {}, t("reporters", { count: invitation.reporters })));
  document.getElementById("others").replaceChildren(...(others.length ? others : [el("li", {}, t("nobody"))]));
  document.getElementById("incident").hidden = false;
}

function renderCommunity() {
  if (!community) return;
  const seats = community.seats.map((s) => el("li", {}, t("seat.line", s)));
  const members = community.members
    .filter((m) => m.status === "invited" || m.status === "accepted")
    .map((m) => el("li", {}, `${m.expert_id === invitation?.expert_id ? t("me") : m.expert_id} · ${m.seat_field} · ${t(`member.${m.status}`)}`));
  document.getElementById("seats").replaceChildren(...seats);
  document.getElementById("members").replaceChildren(...members);
}

function addMessage(message) {
  if (shown.has(message.number)) return;
  shown.add(message.number);
  const place = message.lat != null && message.lon != null ? t("at", { lat: message.lat.toFixed(5), lon: message.lon.toFixed(5) }) : "";
  messages.append(
    el(
      "li",
      { class: "card", "data-number": message.number },
      el("p", { class: "muted" }, `${who(message.author)} · ${formatTime(message.at)}`),
      message.text && el("p", {}, message.text),
      place && el("p", {}, place),
    ),
  );
}

async function enterRoom() {
  if (!seat) {
    seat = await request(`/invitations/${link}/seat`, { method: "POST" });
    session(SEAT, seat);
  }
  answer.hidden = true;
  room.hidden = false;
  follow?.close();
  follow = stream(`/invitations/${seat.token}/room/stream`, {
    onEvent({ event, data }) {
      if (event === "message") addMessage(data);
      else if (event === "community") {
        community = data;
        renderCommunity();
      } else if (event === "access_ended") {
        live.textContent = t("live.ended");
        postForm.hidden = true;
        follow.close();
      }
    },
    onState(how) {
      live.textContent = how === "open" ? t("live.open") : how === "reconnecting" ? t("live.reconnecting") : t("live.ended");
    },
  });
}

async function post(body) {
  postError.hidden = true;
  try {
    addMessage(await request(`/invitations/${seat.token}/room/messages`, { method: "POST", body }));
    return true;
  } catch (error) {
    postError.textContent = problemText(error);
    postError.hidden = false;
    return false;
  }
}

async function load() {
  const token = seat?.token ?? link;
  if (!token) {
    say("link.missing");
    return;
  }
  try {
    invitation = await request(`/invitations/${token}`);
  } catch (error) {
    if (error.status === 401) say("link.invalid");
    else sayError(error);
    return;
  }
  renderInvitation();
  say(`status.${invitation.status}`);
  if (invitation.status === "invited") answer.hidden = false;
  else if (invitation.status === "accepted") await enterRoom().catch(sayError);
}

async function respond(accept) {
  answerError.hidden = true;
  for (const button of answer.querySelectorAll("button")) button.disabled = true;
  try {
    const path = `/invitations/${link}/${accept ? "accept" : "decline"}`;
    await request(path, { method: "POST", body: accept ? undefined : { reason: answer.elements.reason.value.trim() } });
    invitation = { ...invitation, status: accept ? "accepted" : "declined" };
    say(`status.${invitation.status}`);
    answer.hidden = true;
    if (accept) {
      await enterRoom();
      postForm.elements.text.focus();
    } else state.focus();
  } catch (error) {
    answerError.textContent = problemText(error);
    answerError.hidden = false;
  } finally {
    for (const button of answer.querySelectorAll("button")) button.disabled = false;
  }
}

answer.addEventListener("submit", (event) => event.preventDefault()); // Enter in the reason answers nothing
document.getElementById("accept").addEventListener("click", () => respond(true));
document.getElementById("decline").addEventListener("click", () => respond(false));

postForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const text = postForm.elements.text.value.trim();
  if (!text) {
    postError.textContent = t("empty");
    postError.hidden = false;
    return;
  }
  const send = document.getElementById("send");
  send.disabled = true;
  send.textContent = t("sending");
  if (await post({ text })) postForm.reset();
  send.disabled = false;
  translate(postForm);
});

document.getElementById("locate").addEventListener("click", () => {
  if (!("geolocation" in navigator)) {
    postError.textContent = t("location.failed");
    postError.hidden = false;
    return;
  }
  live.textContent = t("locating");
  navigator.geolocation.getCurrentPosition(
    ({ coords }) => post({ lat: coords.latitude, lon: coords.longitude }).then(() => (live.textContent = t("live.open"))),
    () => {
      postError.textContent = t("location.failed");
      postError.hidden = false;
    },
    { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 },
  );
});

document.addEventListener("jikimi:lang", () => {
  if (state.dataset.key) say(state.dataset.key);
  renderInvitation();
  renderCommunity();
});

await load();
ready();
