// Talking to Jikimi's services from a page: where each one is (/ui/config.json), JSON with
// problem details, and live streams (SSE read through fetch, so that a bearer token can go along).

export class ApiError extends Error {
  // status 0: the request never got an answer (offline, timed out)
  constructor(status, title, detail = "", problem = null) {
    super(detail || title);
    this.status = status;
    this.title = title;
    this.problem = problem;
  }
}

let configuration;
const keeping = new Set(); // copies still being written to a Cache

// Resolves once every copy asked for with {keep} is in its Cache.
export async function kept() {
  await Promise.all([...keeping]);
}

export function config() {
  configuration ??= request("/ui/config.json").catch((error) => {
    configuration = undefined; // asked again next time
    throw error;
  });
  return configuration;
}

export async function serviceUrl(service, path) {
  const { services } = await config();
  return services[service] + path;
}

// keep: the name of a Cache to keep a copy of a good answer in (read offline by the service worker).
export async function request(url, { method = "GET", body, headers = {}, token, timeoutMs = 15000, keep } = {}) {
  const sent = { Accept: "application/json", ...headers };
  if (body !== undefined) sent["Content-Type"] = "application/json";
  if (token) sent.Authorization = `Bearer ${token}`;
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  let response;
  try {
    response = await fetch(url, {
      method,
      headers: sent,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: abort.signal,
      referrerPolicy: "no-referrer",
    });
  } catch (error) {
    throw new ApiError(0, "network", String(error));
  } finally {
    clearTimeout(timer);
  }
  const copy = keep && response.ok && method === "GET" && "caches" in self ? response.clone() : null;
  const type = response.headers.get("content-type") || "";
  const data = type.includes("json") ? await response.json().catch(() => null) : await response.text();
  if (!response.ok) {
    throw new ApiError(response.status, data?.title || response.statusText, data?.detail || "", data);
  }
  if (copy) {
    // Off the page's path: writing a Cache can take longer than the request did.
    const writing = caches.open(keep).then((cache) => cache.put(url, copy)).catch(() => {});
    keeping.add(writing);
    writing.finally(() => keeping.delete(writing));
  }
  return data;
}

// Reads a text/event-stream answer; reconnects (1 s, doubling to 30 s) with Last-Event-ID, so
// nothing is missed or repeated. onEvent({event, id, data}) gets data parsed as JSON when it is.
// Returns {close()}.
export function stream(url, { token, lastEventId, onEvent, onState = () => {} }) {
  let closed = false;
  let abort;
  let last = lastEventId;
  let wait = 1000;

  async function readOnce() {
    abort = new AbortController();
    const headers = { Accept: "text/event-stream" };
    if (token) headers.Authorization = `Bearer ${token}`;
    if (last) headers["Last-Event-ID"] = last;
    const response = await fetch(url, { headers, signal: abort.signal, cache: "no-store", referrerPolicy: "no-referrer" });
    if (!response.ok) {
      onState("refused", response.status);
      return response.status >= 500 || response.status === 429; // worth another try
    }
    onState("open");
    wait = 1000;
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    const parse = parser((event) => {
      if (event.id) last = event.id;
      onEvent(event);
    });
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return true;
      parse(value);
    }
  }

  (async () => {
    while (!closed) {
      let again = true;
      try {
        again = await readOnce();
      } catch {
        again = !closed;
      }
      if (closed || !again) return;
      onState("reconnecting");
      await new Promise((resolve) => setTimeout(resolve, wait));
      wait = Math.min(wait * 2, 30000);
    }
  })();

  return {
    close() {
      closed = true;
      abort?.abort();
    },
  };
}

function parser(dispatch) {
  let buffer = "";
  let data = [];
  let event = "";
  let id = "";
  return (chunk) => {
    buffer += chunk;
    let held = "";
    if (buffer.endsWith("\r")) {
      held = "\r"; // may be the first half of a CRLF split across chunks
      buffer = buffer.slice(0, -1);
    }
    const lines = buffer.split(/\r\n|\r|\n/);
    buffer = lines.pop() + held;
    for (const line of lines) {
      if (line === "") {
        if (data.length) {
          const text = data.join("\n");
          let parsed = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // not JSON: given as text
          }
          dispatch({ event: event || "message", id, data: parsed });
        }
        data = [];
        event = "";
        continue;
      }
      if (line.startsWith(":")) continue; // keep-alive comment
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? "" : line.slice(colon + 1);
      if (value.startsWith(" ")) value = value.slice(1);
      if (field === "data") data.push(value);
      else if (field === "event") event = value;
      else if (field === "id") id = value;
    }
  };
}
