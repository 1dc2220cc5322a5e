// A desk page's sign-in (the operator's, a department's, the analyst's): the token pasted once
// into form#login, kept in this tab's sessionStorage (never in the address), forgotten by
// button#logout or as soon as a service refuses it (401); div#desk is shown while signed in.

import { request } from "./api.js";
import { add, t } from "./i18n.js";

add({
  en: {
    "login.hint": "Kept in this tab only, never in the address.",
    "login.connect": "Connect",
    "login.forget": "Forget token",
    "login.refused": "The token is wrong or has expired.",
  },
  ko: {
    "login.refused": "토큰이 맞지 않거나 만료되었습니다.",
  },
});

function read(key) {
  try {
    return sessionStorage.getItem(key) || "";
  } catch {
    return "";
  }
}

function keep(key, value) {
  try {
    if (value) sessionStorage.setItem(key, value);
    else sessionStorage.removeItem(key);
  } catch {
    // refused: kept in this page only
  }
}

// key: the sessionStorage key; connect(pasted): fills the desk once signed in (pasted: the token
// was just typed, not read back), may return a promise; leave(): clears what the desk showed.
// Returns {token, call, signOut, begin}: begin() shows the desk or the form, once, at start.
export function openDesk({ key, connect, leave = () => {} }) {
  const login = document.getElementById("login");
  const loginError = document.getElementById("login-error");
  const desk = document.getElementById("desk");
  let token = read(key);

  function signOut(why = "") {
    leave();
    token = "";
    keep(key, "");
    desk.hidden = true;
    login.hidden = false;
    loginError.textContent = why;
    loginError.hidden = !why;
    login.elements.token.focus();
  }

  async function show(pasted) {
    login.hidden = true;
    desk.hidden = false;
    await connect(pasted);
  }

  login.addEventListener("submit", async (event) => {
    event.preventDefault();
    token = login.elements.token.value.trim();
    login.reset();
    keep(key, token);
    await show(true);
  });
  document.getElementById("logout").addEventListener("click", () => signOut());

  return {
    get token() {
      return token;
    },
    // request() with the token; a 401 signs out (and is thrown on, like any other error).
    async call(path, options = {}) {
      try {
        return await request(path, { token, ...options });
      } catch (error) {
        if (error.status === 401) signOut(t("login.refused"));
        throw error;
      }
    },
    signOut,
    async begin() {
      if (token) await show(false);
      else login.hidden = false;
    },
  };
}
