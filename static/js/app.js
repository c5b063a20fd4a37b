// Small progressive enhancements; every page works without this file.
(function () {
  "use strict";

  // Confirm destructive plain-form submits (htmx forms use hx-confirm).
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    var message = button && button.dataset.confirm;
    if (message && !window.confirm(message)) event.preventDefault();
  });

  // Discarding a draft: the phone forgets its copy first, or its outbox would send the visit again.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || !form.matches("form[data-discard-visit]") || !window.idbKeyval) return;
    event.preventDefault();
    var idb = window.idbKeyval, id = form.dataset.discardVisit;
    idb.update("outbox", function (list) {
      return (list || []).filter(function (e) { return !(e.kind === "visit" && e.id === id); });
    }).then(function () { return idb.entries(); }).then(function (entries) {
      var gone = entries.filter(function (kv) {
        var key = String(kv[0]);
        return key === "visit:" + id || (key.indexOf("draft:") === 0 && kv[1] === id);
      }).map(function (kv) { return kv[0]; });
      return idb.delMany(gone);
    }).catch(function () {}).then(function () { form.submit(); });
  });

  // The offline page stands in for the page that was asked for (the service worker's fallback keeps
  // its address): once that page answers again, it is loaded, so a phone whose signal comes back
  // (or a link that failed on a bad bar) lands where it was going without a tap.
  var offline = document.querySelector("[data-offline-page]");
  if (offline && location.pathname !== offline.dataset.offlinePage) {
    var retry = function () {
      if (navigator.onLine === false) return;
      fetch(location.href, { method: "HEAD", cache: "no-store", credentials: "same-origin" })
        .then(function (r) { if (r.ok) location.reload(); }, function () {});
    };
    window.addEventListener("online", retry);
    setInterval(retry, 5000);
  }

  // --- Location -------------------------------------------------------------------------------
  // The latest fix from watchPosition; forms take it when they are sent (flagged, never required).
  var lastFix = null;
  var watching = false;
  window.safecampusLastFix = function () { return lastFix; };

  function watchLocation() {
    if (watching || !navigator.geolocation) return;
    watching = true;
    navigator.geolocation.watchPosition(function (pos) {
      lastFix = pos;
      showAccuracy();
    }, function () {}, { enableHighAccuracy: true, maximumAge: 30000, timeout: 20000 });
  }

  // "定位精度 ±12 米" under every camera button, at each new fix.
  function showAccuracy() {
    if (!lastFix) return;
    var label = document.body.dataset.accuracyLabel || "";
    document.querySelectorAll(".geo-status").forEach(function (el) {
      el.textContent = label.replace("{m}", String(Math.round(lastFix.coords.accuracy)));
    });
  }

  function fill(form) {
    var set = function (name, value) {
      var input = form.querySelector("input[name='" + name + "']");
      if (input) input.value = value;
    };
    if (lastFix) {
      set("lat", lastFix.coords.latitude);
      set("lon", lastFix.coords.longitude);
      set("accuracy_m", Math.round(lastFix.coords.accuracy));
    }
    var now = new Date().toISOString();
    set("client_time", now);
    set("captured_at", now);
  }

  // Plain forms (start, submit): wait briefly for a first fix when there is none yet.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || !form.querySelector("input[name='client_time'], input[name='captured_at']")) return;
    if (form.hasAttribute("data-geolocate") && !lastFix && navigator.geolocation && !form.dataset.waited) {
      event.preventDefault();
      form.dataset.waited = "1";
      var status = form.querySelector(".geo-status");
      if (status) status.textContent = document.body.dataset.locatingLabel || "";
      navigator.geolocation.getCurrentPosition(function (pos) {
        lastFix = pos; fill(form); form.submit();
      }, function () { fill(form); form.submit(); }, { enableHighAccuracy: true, timeout: 8000, maximumAge: 30000 });
      return;
    }
    fill(form);
  }, true);

  // --- Errors of htmx requests (the school search, the user list) ----------------------------------
  // htmx does not swap 4xx/5xx answers; show their message instead of failing silently.
  document.addEventListener("htmx:responseError", function (event) {
    var box = document.getElementById("toast");
    if (!box) return;
    var doc = new DOMParser().parseFromString(event.detail.xhr.responseText || "", "text/html");
    var message = doc.querySelector("[role=alert] p");
    box.textContent = message ? message.textContent : box.dataset.fallback;
    box.hidden = false;
  });
  document.addEventListener("htmx:sendError", function () {
    var box = document.getElementById("toast");
    if (box) { box.textContent = box.dataset.offline; box.hidden = false; }
  });

  // --- Distance to the school on its page ------------------------------------------------------
  function haversine(lat1, lon1, lat2, lon2) {
    var r = 6371000, rad = Math.PI / 180;
    var dLat = (lat2 - lat1) * rad, dLon = (lon2 - lon1) * rad;
    var a = Math.sin(dLat / 2) * Math.sin(dLat / 2) +
      Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) * Math.sin(dLon / 2);
    return 2 * r * Math.asin(Math.sqrt(a));
  }

  function showDistance() {
    var el = document.querySelector("[data-distance-to]");
    if (!el || !navigator.geolocation || !navigator.permissions) return;
    // Only when location was already allowed: no permission prompt just for opening a page.
    navigator.permissions.query({ name: "geolocation" }).then(function (status) {
      if (status.state !== "granted") return;
      navigator.geolocation.getCurrentPosition(function (pos) {
        var target = el.dataset.distanceTo.split(",").map(Number);
        var metres = haversine(pos.coords.latitude, pos.coords.longitude, target[0], target[1]);
        el.textContent = el.dataset.label.replace("{m}", String(Math.round(metres)));
        el.hidden = false;
      }, function () {}, { maximumAge: 60000, timeout: 10000 });
    }).catch(function () {});
  }

  // "Schools near me": one fix, then the list nearest first (the server orders and measures).
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-near]");
    if (!link || !navigator.geolocation) return;
    event.preventDefault();
    var label = link.textContent;
    link.textContent = link.dataset.locating;
    navigator.geolocation.getCurrentPosition(function (pos) {
      var url = new URL(link.href, window.location.href);
      url.searchParams.set("near", pos.coords.latitude.toFixed(5) + "," + pos.coords.longitude.toFixed(5));
      window.location.assign(url.toString());
    }, function () {
      link.textContent = label;
      var toast = document.getElementById("toast");
      if (toast) { toast.textContent = link.dataset.failed; toast.hidden = false; }
    }, { enableHighAccuracy: false, maximumAge: 60000, timeout: 15000 });
  });

  // --- Installable app and offline pages ------------------------------------------------------
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () {});
    // Signed in: the worker keeps a visit's scripts for offline use (a signed-out visitor never
    // downloads them). It fetches only what it does not hold yet.
    if (document.body.hasAttribute("data-signed-in")) {
      navigator.serviceWorker.ready.then(function (registration) {
        if (registration.active) registration.active.postMessage({ type: "signed-in" });
      }).catch(function () {});
    }
  }

  // Signing out with visits or photos still on the phone: say so first; then drop cached pages.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches("form[data-sign-out]")) return;
    if (form.dataset.confirmed) return;
    event.preventDefault();
    var pending = window.idbKeyval ? window.idbKeyval.get("outbox") : Promise.resolve([]);
    pending.then(function (list) {
      if (list && list.length && !window.confirm(form.dataset.unsent.replace("{n}", list.length))) return;
      if (navigator.serviceWorker && navigator.serviceWorker.controller) {
        navigator.serviceWorker.controller.postMessage({ type: "signed-out" });
      }
      localStorage.removeItem("offline-pack");
      form.dataset.confirmed = "1";
      form.submit();
    }).catch(function () { form.dataset.confirmed = "1"; form.submit(); });
  }, true);

  // Starting a visit: with this script the phone creates the visit itself (its own UUID), so a
  // visit can start with no signal; the plain form post remains for browsers without it.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches("form.start[data-new-url]") || !window.idbKeyval) return;
    event.preventDefault();
    var select = form.querySelector("select[name=template_id]");
    var option = select && select.options[select.selectedIndex];
    window.location.assign((option && option.dataset.newUrl) || form.dataset.newUrl);
  });

  // Exports: the chosen kind is part of the address, not a query parameter.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-export]");
    if (!button) return;
    var kind = document.getElementById("kind").value;
    button.formAction = button.formAction.replace(/\/exports\/[a-z]+\./, "/exports/" + kind + ".");
  });

  // --- Offline pack: keep a school's page and empty checklists on the phone --------------------
  function formatSize(bytes) {
    return bytes > 1048576 ? (bytes / 1048576).toFixed(1) + " MB" : Math.max(1, Math.round(bytes / 1024)) + " KB";
  }

  function packSummary() {
    var summary = document.getElementById("pack-summary");
    if (!summary || !window.caches) return;
    var packs = JSON.parse(localStorage.getItem("offline-pack") || "{}");
    var ids = Object.keys(packs);
    document.querySelectorAll("button.pack").forEach(function (b) {
      b.hidden = false;
      if (packs[b.dataset.school]) b.textContent = summary.dataset.saved.replace("{size}", formatSize(packs[b.dataset.school]));
    });
    if (!ids.length) { summary.hidden = true; return; }
    var total = ids.reduce(function (sum, id) { return sum + packs[id]; }, 0);
    summary.textContent = summary.dataset.template.replace("{n}", ids.length).replace("{size}", formatSize(total));
    summary.hidden = false;
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button.pack");
    if (!button || !window.caches) return;
    var summary = document.getElementById("pack-summary");
    button.textContent = summary.dataset.saving;
    fetch(button.dataset.packUrl, { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) throw new Error(r.status);
      return r.json();
    }).then(function (pack) {
      return caches.open("pages-v1").then(function (cache) {
        return Promise.all(pack.urls.map(function (url) {
          return fetch(url, { credentials: "same-origin" }).then(function (response) {
            if (!response.ok) throw new Error(response.status);
            return response.clone().blob().then(function (blob) {
              return cache.put(url, response).then(function () { return blob.size; });
            });
          });
        }));
      });
    }).then(function (sizes) {
      var packs = JSON.parse(localStorage.getItem("offline-pack") || "{}");
      packs[button.dataset.school] = sizes.reduce(function (a, b) { return a + b; }, 0);
      localStorage.setItem("offline-pack", JSON.stringify(packs));
      packSummary();
    }).catch(function () { button.textContent = summary.dataset.failed; });
  });

  document.addEventListener("htmx:afterSettle", packSummary);

  document.addEventListener("DOMContentLoaded", function () {
    packSummary();
    showDistance();
    if (navigator.geolocation) {
      document.querySelectorAll("a[data-near]").forEach(function (a) { a.hidden = false; });
    }
    if (document.querySelector("[data-geolocate]")) {
      watchLocation();
      // Over plain http (other than localhost) a browser withholds the camera capture, location and
      // the service worker: say so before the visit, not after a photo with no place.
      var banner = document.getElementById("insecure-banner");
      if (banner && window.isSecureContext === false) banner.hidden = false;
    }
  });
  // A searchable list of ticks (macros.search_checklist): typing hides the choices that do not match
  // (ticked ones stay, so what is chosen is always in sight); the count says how many are ticked.
  function filterList(box) {
    var input = box.querySelector("[data-filter-input]");
    var words = (input ? input.value : "").trim().toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0, ticked = 0;
    box.querySelectorAll(".checklist-items li").forEach(function (li) {
      var tick = li.querySelector("input");
      var text = li.textContent.toLowerCase();
      var match = tick.checked || words.every(function (w) { return text.indexOf(w) !== -1; });
      li.hidden = !match;
      if (match) shown += 1;
      if (tick.checked) ticked += 1;
    });
    var none = box.querySelector("[data-filter-none]");
    if (none) none.hidden = shown > 0;
    var count = box.querySelector("[data-filter-count]");
    if (count) count.textContent = (box.dataset.countLabel || "{n}").replace("{n}", ticked);
  }
  document.querySelectorAll("[data-filter-list]").forEach(filterList);
  document.addEventListener("input", function (event) {
    var box = event.target.closest && event.target.closest("[data-filter-list]");
    if (box) filterList(box);
  });
  document.addEventListener("change", function (event) {
    var box = event.target.closest && event.target.closest("[data-filter-list]");
    if (box) filterList(box);
  });
  // Enter in the search box narrows the list; it must not send the form half-filled.
  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && event.target.matches && event.target.matches("[data-filter-input]")) {
      event.preventDefault();
    }
  });
})();
