// The citizen pages' service worker: networks fail in disasters, so the action guides keep
// working once visited. Guides (the pages and their data) come from the cache first and are
// refreshed behind; current incidents and the other pages come from the network first, the
// saved copy only when it fails. Reports and their status never go through a cache.

const VERSION = "1";
const SHELL = `jikimi-citizen-shell-${VERSION}`;
const DATA = "jikimi-data"; // shared with the pages (api.js request({keep}))
const NETWORK_WAIT_MS = 4000;

const PRECACHE = [
  "/ui/citizen/",
  "/ui/citizen/guides.html",
  "/ui/citizen/guide.html",
  "/ui/citizen/incidents.js",
  "/ui/citizen/guides.js",
  "/ui/citizen/guide.js",
  "/ui/citizen/words.js",
  "/ui/common/jikimi.css",
  "/ui/common/i18n.js",
  "/ui/common/api.js",
  "/ui/common/page.js",
  "/ui/config.json",
];

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(SHELL)
      .then((cache) => cache.addAll(PRECACHE))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((n) => n.startsWith("jikimi-citizen-shell-") && n !== SHELL).map((n) => caches.delete(n))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  const own = url.origin === self.location.origin;
  if (url.pathname.startsWith("/public/guides")) {
    event.respondWith(cacheFirst(request, DATA));
  } else if (url.pathname === "/public/incidents") {
    event.respondWith(networkFirst(request, DATA));
  } else if (own && /^\/ui\/citizen\/guides?\.html$/.test(url.pathname)) {
    event.respondWith(cacheFirst(request, SHELL, { ignoreSearch: true }));
  } else if (own && (request.mode === "navigate" || url.pathname === "/ui/config.json")) {
    event.respondWith(networkFirst(request, SHELL, { ignoreSearch: true }));
  } else if (own && url.pathname.startsWith("/ui/")) {
    event.respondWith(cacheFirst(request, SHELL));
  }
});

// The saved copy at once if there is one (refreshed behind for next time), else the network.
async function cacheFirst(request, name, options = {}) {
  const cache = await caches.open(name);
  const saved = await cache.match(request, options);
  const fresh = fetch(request).then((response) => {
    if (response.ok) cache.put(options.ignoreSearch ? stripSearch(request) : request, response.clone());
    return response;
  });
  if (saved) {
    fresh.catch(() => {});
    return saved;
  }
  return fresh;
}

// The network if it answers in time, else the saved copy, else the network's own failure.
async function networkFirst(request, name, options = {}) {
  const cache = await caches.open(name);
  const fresh = fetch(request).then((response) => {
    if (response.ok) cache.put(options.ignoreSearch ? stripSearch(request) : request, response.clone());
    return response;
  });
  const late = new Promise((resolve) => setTimeout(resolve, NETWORK_WAIT_MS, null));
  try {
    const response = await Promise.race([fresh, late]);
    if (response) return response;
  } catch {
    // offline: the saved copy below
  }
  const saved = await cache.match(request, options);
  return saved || fresh;
}

function stripSearch(request) {
  const url = new URL(request.url);
  url.search = "";
  return url.href;
}
