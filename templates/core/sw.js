// SafeCampus Inspect service worker (version {{ version }}). Small and hand-written on purpose:
// fingerprinted files cache-first, pages network-first with the last copy as fallback, the API never.
"use strict";
const STATIC_CACHE = "static-{{ version }}";
const PAGE_CACHE = "pages-v1";
const PRECACHE = {{ precache|tojson }};
const PRECACHE_SIGNED_IN = {{ precache_signed_in|tojson }};
const OFFLINE_URL = {{ offline_url|tojson }};

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(STATIC_CACHE);
    await cache.addAll(PRECACHE);
    const pages = await caches.open(PAGE_CACHE);
    await pages.add(new Request(OFFLINE_URL, { credentials: "same-origin" }));
    // A new version on a phone that already held a visit's scripts takes them at once: the phone
    // may be offline at the next checklist, before any page asks for them again.
    if (await heldVisitScripts()) await addMissing(cache, PRECACHE_SIGNED_IN);
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith("static-") && name !== STATIC_CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

async function heldVisitScripts() {
  for (const name of await caches.keys()) {
    if (!name.startsWith("static-") || name === STATIC_CACHE) continue;
    const keys = await (await caches.open(name)).keys();
    if (keys.some((request) => new URL(request.url).pathname.startsWith("/static/js/visit."))) return true;
  }
  return false;
}

// Only what the cache lacks: a signed-in page says so on every load, and that must cost nothing.
async function addMissing(cache, urls) {
  const missing = [];
  for (const url of urls) if (!(await cache.match(url))) missing.push(url);
  if (missing.length) await cache.addAll(missing);
}

function isFingerprinted(url) {
  return url.pathname.startsWith("/static/") && /\.[0-9a-f]{10}\.[a-z0-9]+$/.test(url.pathname);
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/api/") || url.pathname === "/sw.js") return;  // never cached
  if (isFingerprinted(url)) {
    event.respondWith(caches.match(request).then((hit) => hit || fetch(request).then((response) => {
      if (response.ok) {
        const copy = response.clone();
        caches.open(STATIC_CACHE).then((cache) => cache.put(request, copy));
      }
      return response;
    })));
    return;
  }
  // htmx fragments are not pages: leave them to the network (Vary: HX-Request keeps caches apart).
  if (request.headers.get("HX-Request")) return;
  if (url.pathname.startsWith("/photos/")) {
    event.respondWith(caches.match(request).then((hit) => hit || fetch(request)));
    return;
  }
  event.respondWith((async () => {
    try {
      const response = await fetch(request);
      const cacheControl = response.headers.get("Cache-Control") || "";
      if (response.ok && response.type === "basic" && !cacheControl.includes("no-store")) {
        const copy = response.clone();
        caches.open(PAGE_CACHE).then((cache) => cache.put(request, copy));
      }
      return response;
    } catch (error) {
      const hit = await caches.match(request, { ignoreVary: true });
      if (hit) return hit;
      if (request.mode === "navigate") return caches.match(OFFLINE_URL);
      throw error;
    }
  })());
});

// Background Sync: wake the open pages so their outbox flushes (the outbox lives in IndexedDB).
self.addEventListener("sync", (event) => {
  if (event.tag !== "outbox") return;
  event.waitUntil(self.clients.matchAll({ type: "window" }).then((clients) => {
    clients.forEach((client) => client.postMessage({ type: "flush-outbox" }));
  }));
});

self.addEventListener("message", (event) => {
  if (event.data && event.data.type === "signed-in") {
    event.waitUntil(caches.open(STATIC_CACHE).then((cache) => addMissing(cache, PRECACHE_SIGNED_IN)));
  }
  if (event.data && event.data.type === "signed-out") {
    // Pages hold one person's data: drop them when that person signs out.
    event.waitUntil(caches.delete(PAGE_CACHE));
  }
});
