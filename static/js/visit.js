// The checklist, offline-first. Every tap is written to IndexedDB before anything else; an outbox
// sends the whole visit (then its photos, one by one) through the idempotent API, and forgets an
// entry only once the server has confirmed it. One entry's failure is that entry's alone: a photo the
// server refuses for good is set aside (kept on the phone, shown with the reason and a delete button),
// a transient failure waits with backoff, and everything queued behind either still goes.
// Without this file the page still works by plain forms.
(function () {
  "use strict";
  var root = document.getElementById("checklist");
  var dataEl = document.getElementById("visit-state");
  if (!root || !dataEl || !window.idbKeyval || !window.fetch || !window.safecampusPhotos) return;
  var idb = window.idbKeyval;
  var server = JSON.parse(dataEl.textContent);
  var L = server.labels;
  var visitKey = server.visit.id ? "visit:" + server.visit.id : null;
  var OUTBOX = "outbox";
  var state = null;
  var flushing = false;
  // Asked to send while a round was under way (the signal came back during a round that was failing
  // for the lack of it): one more round follows, rather than waiting for the 30 s tick.
  var flushAgain = false;
  var lastError = "";
  var csrfToken = JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"];

  function uuid() {
    if (crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  function now() { return new Date().toISOString(); }

  // ---- State ---------------------------------------------------------------------------------
  function fromServer() {
    var v = server.visit;
    if (!v.id) {
      // A visit started on the phone (possibly offline): its id, time and place are the phone's.
      return { id: uuid(), school_id: v.school_id, version_id: v.version_id, mode: v.mode,
               started_at: now(), location: here(), qr_token: v.qr_token, answers: {}, findings: {},
               submitted_at: null, rev: 0 };
    }
    var findings = {};
    v.findings.forEach(function (f) { findings[f.id] = f; });
    return { id: v.id, school_id: v.school_id, version_id: v.version_id, mode: v.mode,
             started_at: v.started_at, location: v.location, qr_token: v.qr_token,
             answers: v.answers, findings: findings, submitted_at: null, rev: 0 };
  }

  // Saves on their way into the outbox. Until each is there the status must not say "all sent": it is
  // drawn only after two IndexedDB round trips (the visit, then the outbox), hundreds of milliseconds
  // on a busy cheap phone, and a tap in that time still read 已同步.
  var saving = 0;

  function save() {
    state.rev += 1;
    saving += 1;
    var el = document.querySelector("[data-sync-state]");
    if (el && el.dataset.state === "saved") { el.textContent = L.saving; el.dataset.state = "saving"; }
    function done() { saving -= 1; }
    return idb.set(visitKey, state).then(function () { return enqueue({ kind: "visit", id: state.id, rev: state.rev }); })
      .then(done, function (error) { done(); renderStatus(); throw error; });
  }

  // A visit's entry carries the newest revision saved (rev): the entry goes only once that revision
  // has been sent (dequeue), in the same transaction that reads it, so a change saved while an older
  // one was on its way is never dropped with it.
  function enqueue(entry) {
    return idb.update(OUTBOX, function (list) {
      list = list || [];
      var existing = list.find(function (e) { return sameEntry(e, entry); });
      if (!existing) list.push(Object.assign({ queued_at: now() }, entry));
      else if (entry.rev) existing.rev = Math.max(existing.rev || 0, entry.rev);
      return list;
    }).then(function () {
      renderStatus();
      if (navigator.serviceWorker && navigator.serviceWorker.ready) {
        navigator.serviceWorker.ready.then(function (reg) {
          if (reg.sync) reg.sync.register("outbox").catch(function () {});
        });
      }
      flushSoon();
    });
  }

  function findingForCode(code) {
    for (var id in state.findings) if (state.findings[id].code === code) return state.findings[id];
    return null;
  }

  function item(code) {
    return server.items.find(function (i) { return i.code === code; });
  }

  // ---- Rendering -----------------------------------------------------------------------------
  function render() {
    // Touch only the items the page does not already show as stored: restyling sixty items on a
    // slow phone is most of the time it takes to become usable.
    server.items.forEach(function (it) {
      var shown = server.visit.answers[it.code];
      var stored = state.answers[it.code];
      var same = shown === stored || (shown && stored && shown.result === stored.result && shown.note === stored.note);
      var el = document.getElementById("item-" + it.code);
      if (!same || (el && el.querySelector(".finding"))) renderItem(it.code);
    });
    var adhoc = document.getElementById("adhoc-list");
    adhoc.textContent = "";
    Object.keys(state.findings).forEach(function (id) {
      var f = state.findings[id];
      if (f.code === null) adhoc.appendChild(findingEditor(f));
    });
    renderRecheck();
    renderProgress();
  }

  function renderItem(code) {
    var el = document.getElementById("item-" + code);
    if (!el) return;
    var answer = state.answers[code];
    el.classList.remove("answered", "result-pass", "result-fail", "result-na");
    if (answer) el.classList.add("answered", "result-" + answer.result);
    el.querySelectorAll("button.choice").forEach(function (b) {
      b.setAttribute("aria-pressed", answer && answer.result === b.value ? "true" : "false");
    });
    var note = el.querySelector("input[name=note]");
    if (note && document.activeElement !== note) note.value = answer ? answer.note || "" : "";
    var old = el.querySelector(".finding");
    if (old) old.remove();
    var finding = answer && answer.result === "fail" ? findingForCode(code) : null;
    if (finding) el.appendChild(findingEditor(finding));
  }

  // A finding's box is _finding.html, rendered once by the server with a placeholder id: this copy
  // gets the finding's id (in ids, labels and form actions) and what the phone holds for it.
  var findingTemplate = document.getElementById("finding-template");
  function findingEditor(f) {
    var node = findingTemplate.content.firstElementChild.cloneNode(true);
    var placeholder = findingTemplate.dataset.placeholder;
    [node].concat(Array.prototype.slice.call(node.querySelectorAll("[id], [for], [action]"))).forEach(function (el) {
      ["id", "for", "action"].forEach(function (name) {
        var value = el.getAttribute(name);
        if (value) el.setAttribute(name, value.split(placeholder).join(f.id));
      });
    });
    node.dataset.finding = f.id;
    node.querySelector("textarea").value = f.description || "";
    node.querySelectorAll("input[type=radio]").forEach(function (r) { r.checked = r.value === f.severity; });
    node.querySelector("input[name=fixed_on_site]").checked = !!f.fixed_on_site;
    // The outbox sends each picture on its own; the plain form (no script) takes one at a time.
    node.querySelector("input[type=file]").multiple = true;
    var thumbs = node.querySelector(".thumbs");
    (f.photos || []).forEach(function (p) { addThumb(thumbs, p); });
    return node;
  }

  function addThumb(list, photo) {
    var li = document.createElement("li");
    var img = document.createElement("img");
    img.width = 96; img.height = 96; img.alt = L.photo;
    if (photo.thumb_url) img.src = photo.thumb_url;
    else idb.get("photo:" + photo.id).then(function (p) {
      if (p) img.src = URL.createObjectURL(new Blob([p.buf], { type: p.type }));
    });
    li.appendChild(img);
    if (photo.rejected) {
      // Refused by the server for good: say why where the photo is, and let it go.
      li.className = "rejected";
      var why = document.createElement("p");
      why.className = "why";
      why.textContent = L.not_sent + photo.rejected;
      var remove = document.createElement("button");
      remove.type = "button";
      remove.className = "button secondary";
      remove.dataset.deletePhoto = photo.id;
      remove.textContent = L.delete_photo;
      li.appendChild(why);
      li.appendChild(remove);
    }
    list.appendChild(li);
  }

  function usablePhotos(f) {
    return (f.photos || []).filter(function (p) { return !p.rejected; });
  }

  // Plain words for each photo the server refused: which item, and why.
  function rejectedNotices() {
    var out = [];
    Object.keys(state.findings).forEach(function (id) {
      var f = state.findings[id];
      (f.photos || []).forEach(function (p) {
        if (!p.rejected) return;
        var where = f.code ? L.item_n.replace("{n}", (item(f.code) || {}).position || "") : L.added_problem;
        out.push(L.photo_rejected.replace("{where}", where).replace("{reason}", p.rejected));
      });
    });
    return out;
  }

  // What stops submission, in the server's words. The rule is the server's (visits.services.submit_rule):
  // for each item, what each of its states blocks, and what an added problem blocks. The phone must
  // apply it to what it holds, offline too, so here it only reads each item's state and looks it up,
  // then phrases the kinds found as services.phrase() does.
  var rule = server.submit_rule;
  function itemState(it) {
    var a = state.answers[it.code];
    if (!a) return "unanswered";
    var f = a.result === "fail" ? findingForCode(it.code) : null;
    return f && usablePhotos(f).length ? a.result + "+photo" : a.result;
  }

  function problems() {
    var found = {};
    function add(kind, value) { if (kind) (found[kind] = found[kind] || []).push(value); }
    server.items.forEach(function (it) { add(rule.items[it.code][itemState(it)], it.position); });
    Object.keys(state.findings).forEach(function (id) {
      var f = state.findings[id];
      if (f.code === null) add(rule.added[(f.description || "").trim() ? "described" : "empty"], id);
    });
    return rule.phrases.filter(function (p) { return found[p.kind]; }).map(function (p) {
      var values = found[p.kind];
      return p[values.length === 1 ? "one" : "many"].replace("{first}", values[0])
        .replace("{list}", values.join(rule.list_sep)).replace("{n}", values.length);
    }).concat(recheckProblems());
  }

  function renderProgress() {
    var count = document.querySelector("#progress .count");
    if (count) count.textContent = Object.keys(state.answers).length + " / " + server.items.length;
    var list = problems();
    var button = document.querySelector("#submit button[type=submit]");
    var reason = document.getElementById("submit-reason");
    if (!reason) {
      reason = document.createElement("p");
      reason.id = "submit-reason";
      reason.className = "blocked";
      button.parentNode.parentNode.insertBefore(reason, button.parentNode);
    }
    reason.textContent = list.join(rule.join);
    reason.hidden = !list.length;
    button.disabled = !!list.length || !!state.submitted_at;
    if (state.submitted_at) {
      reason.textContent = L.submitted_pending;
      reason.hidden = false;
    }
  }

  // Leaving with records not yet sent: they stay on the phone, but only a checklist page sends them,
  // so the browser asks first (the count is kept here because "beforeunload" cannot wait for IDB).
  var unsent = 0;
  window.addEventListener("beforeunload", function (event) {
    // Signing out already asked about them (app.js marks the form it let through): once is enough.
    if ((!unsent && !saving) || document.querySelector("form[data-sign-out][data-confirmed]")) return;
    event.preventDefault();
    event.returnValue = "";
  });

  function renderStatus() {
    idb.get(OUTBOX).then(function (list) {
      list = list || [];
      unsent = list.length;
      var el = document.querySelector("[data-sync-state]");
      if (!el) return;
      var offline = navigator.onLine === false;
      var text, stateName;
      if (!list.length && saving) { text = L.saving; stateName = "saving"; }
      else if (!list.length) { text = L.synced; stateName = "saved"; }
      else {
        var oldest = list[0].queued_at ? Math.round((Date.now() - Date.parse(list[0].queued_at)) / 60000) : 0;
        text = (offline ? L.offline + " · " : "") + L.pending.replace("{n}", list.length) +
          (oldest >= 1 ? " · " + L.oldest.replace("{m}", oldest) : "");
        stateName = offline ? "offline" : "pending";
      }
      el.textContent = text;
      el.dataset.state = stateName;
      var err = document.getElementById("sync-error");
      var messages = (lastError ? [lastError] : []).concat(state ? rejectedNotices() : []);
      if (err) { err.textContent = messages.join("\n"); err.hidden = !messages.length; }
      var banner = document.getElementById("offline-banner");
      if (banner) banner.hidden = !offline;
    });
  }

  // ---- Input ---------------------------------------------------------------------------------
  // Capture phase, so no form on this page posts while the script runs: the outbox sends instead.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!root.contains(form) && form.closest("#submit") === null) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    if (form.closest("#submit")) return submitVisit();
    var itemEl = form.closest(".item");
    if (itemEl && form.classList.contains("answer")) {
      var button = event.submitter;
      if (button && button.name === "result") setAnswer(itemEl.id.slice(5), button.value);
    }
  }, true);

  function setAnswer(code, result) {
    if (state.submitted_at) return;
    var note = document.querySelector("#item-" + code + " input[name=note]");
    state.answers[code] = { result: result, note: note ? note.value : "" };
    var f = findingForCode(code);
    if (result === "fail" && !f) {
      var it = item(code);
      // One field for what was found: a note typed before the item failed moves into it, and left
      // empty the ticket says the requirement (shown above it) was not met.
      f = { id: uuid(), code: code, description: note && note.value.trim() ? note.value.trim() : "",
            severity: it.severity, fixed_on_site: false,
            location: here(), captured_at: now(), photos: [] };
      state.findings[f.id] = f;
    } else if (result !== "fail" && f) {
      delete state.findings[f.id];  // its photos stay on the phone and on the server
    }
    renderItem(code);
    renderProgress();
    save();
  }

  root.addEventListener("change", function (event) {
    var t = event.target;
    if (state.submitted_at) return;
    var itemEl = t.closest(".item");
    if (t.name === "note" && itemEl) {
      var code = itemEl.id.slice(5);
      if (state.answers[code]) { state.answers[code].note = t.value; save(); }
      return;
    }
    var box = t.closest("[data-finding]");
    if (!box) return;
    var f = state.findings[box.dataset.finding];
    if (!f) return;
    if (t.tagName === "TEXTAREA") f.description = t.value;
    else if (t.type === "radio") f.severity = t.value;
    else if (t.name === "fixed_on_site") f.fixed_on_site = t.checked;
    else if (t.type === "file" && t.files.length) return addPhotos(f, Array.prototype.slice.call(t.files), t);
    renderProgress();
    save();
  });

  // What is typed is kept as it is typed (not only on "change", which fires on blur: a photo picked
  // straight after typing must not redraw the box with older text).
  var typing = null;
  root.addEventListener("input", function (event) {
    var t = event.target;
    var box = t.tagName === "TEXTAREA" && t.closest("[data-finding]");
    if (!box || state.submitted_at) return;
    var f = state.findings[box.dataset.finding];
    if (!f) return;
    f.description = t.value;
    clearTimeout(typing);
    typing = setTimeout(function () { renderProgress(); save(); }, 800);
  });

  root.addEventListener("click", function (event) {
    var button = event.target.closest("[data-delete-photo]");
    if (!button) return;
    event.preventDefault();
    deletePhoto(button.dataset.deletePhoto);
  });

  function deletePhoto(photoId) {
    Object.keys(state.findings).forEach(function (id) {
      var f = state.findings[id];
      var kept = (f.photos || []).filter(function (p) { return p.id !== photoId; });
      if (kept.length === (f.photos || []).length) return;
      f.photos = kept;
      var box = document.getElementById("finding-" + f.id);
      if (box) box.replaceWith(findingEditor(f));
    });
    recheckPhotoChanged(photoId);
    return idb.del("photo:" + photoId).then(function () {
      return idb.set(visitKey, state);
    }).then(function () {
      renderProgress();
      renderStatus();
      flush();
    });
  }

  // Which files are pictures, and shrinking them: photos.js, shared with the ticket's forms.
  function isPicture(file) { return window.safecampusPhotos.isPicture(file); }
  function shrink(file) { return window.safecampusPhotos.shrink(file, server.urls.compressor); }

  function here() {
    var fix = window.safecampusLastFix && window.safecampusLastFix();
    return fix ? { lat: fix.coords.latitude, lon: fix.coords.longitude, accuracy_m: Math.round(fix.coords.accuracy) } : null;
  }

  function addPhotos(finding, files, input) {
    var when = now(), where = here();
    var refused = files.filter(function (file) { return !isPicture(file); });
    files = files.filter(isPicture);
    lastError = refused.length ? L.not_image.replace("{name}", refused.map(function (f) { return f.name; }).join("、")) : "";
    if (refused.length) renderStatus();
    return files.reduce(function (chain, file) {
      return chain.then(function () { return shrink(file); }).then(function (blob) {
        return blob.arrayBuffer().then(function (buf) {
          var photo = { id: uuid(), finding_id: finding.id, buf: buf, type: blob.type || "image/jpeg",
                        captured_at: when, location: where };
          // Safari cannot always store Blobs in IndexedDB: keep bytes and type instead.
          return idb.set("photo:" + photo.id, photo).then(function () {
            finding.photos = (finding.photos || []).concat([{ id: photo.id }]);
            return enqueue({ kind: "photo", id: photo.id });
          });
        });
      });
    }, Promise.resolve()).then(function () {
      input.value = "";
      var box = document.getElementById("finding-" + finding.id);
      if (box) box.replaceWith(findingEditor(finding));
      renderProgress();
      return save();
    }).catch(function (error) {
      lastError = L.photo_failed;
      renderStatus();
      console.error(error);
    });
  }

  document.getElementById("add-finding").addEventListener("click", function (event) {
    event.preventDefault();
    event.stopImmediatePropagation();
    if (state.submitted_at) return;
    var f = { id: uuid(), code: null, description: "", severity: "minor", fixed_on_site: false,
              location: here(), captured_at: now(), photos: [] };
    state.findings[f.id] = f;
    document.getElementById("adhoc-list").appendChild(findingEditor(f));
    renderProgress();
    save();
  }, true);

  function submitVisit() {
    if (problems().length || state.submitted_at) return;
    // Submitting freezes the visit and opens the school's tickets: asked once, never by accident.
    var question = isFollowUp ? followUpConfirm() : L.confirm_submit.replace("{n}", Object.keys(state.findings).length);
    if (!window.confirm(question)) return;
    state.submitted_at = now();
    renderProgress();
    save().then(function () {
      // The next "start" from the same page begins a new visit.
      return server.visit.draft_key ? idb.del(server.visit.draft_key) : null;
    }).then(flush);
  }

  // ---- Follow-up (回头看) ---------------------------------------------------------------------
  // Kept apart from the checklist code above. A follow-up visit re-checks the school's tickets
  // (server.tickets, in the offline pack with their photos): each is closed out (销号) with a photo
  // taken here, or sent back with a new deadline. The verdicts live in state.ticket_results and travel
  // in the visit's own body (ticket_results), so they are kept offline and sent idempotently like the
  // rest; their photos go out first, since the server wants them uploaded before the submission that
  // names them (and that submission's check-in is then the close-out's proof of presence).
  var FL = server.follow_up_labels;
  var isFollowUp = !!FL;

  function ticketResults() { return state.ticket_results || (state.ticket_results = {}); }

  function ticketOf(id) {
    return server.tickets.find(function (t) { return String(t.id) === String(id); });
  }

  function node(tag, className, text) {
    var el = document.createElement(tag);
    if (className) el.className = className;
    if (text) el.textContent = text;
    return el;
  }

  function recheckThumbs(photos) {
    var ul = node("ul", "thumbs");
    (photos || []).forEach(function (p) { addThumb(ul, p); });
    return ul;
  }

  function renderRecheck() {
    var list = document.getElementById("recheck-list");
    if (!isFollowUp || !list) return;
    list.textContent = "";
    if (!server.tickets.length) list.appendChild(node("p", "empty", FL.none));
    server.tickets.forEach(function (t) { list.appendChild(recheckCard(t)); });
  }

  function redrawRecheck(ticketId) {
    var old = document.getElementById("ticket-" + ticketId);
    if (old) old.replaceWith(recheckCard(ticketOf(ticketId)));
  }

  function recheckCard(t) {
    var r = ticketResults()[t.id] || {};
    var card = node("article", "card recheck");
    card.id = "ticket-" + t.id;
    card.dataset.ticket = t.id;
    card.appendChild(node("p", "item-text", t.description));
    card.appendChild(node("p", "sub", t.status_label + " · " + FL.deadline.replace("{when}", t.deadline_label)));
    card.appendChild(node("h3", null, FL.before));
    card.appendChild(recheckThumbs(t.before));
    card.appendChild(node("h3", null, FL.after));
    card.appendChild(node("p", null, t.response || FL.no_report));
    card.appendChild(recheckThumbs(t.after));
    if (!t.may_verify) {
      card.appendChild(node("p", "blocked", t.refusal));
      return card;
    }
    var choices = node("div", "choices");
    choices.setAttribute("role", "group");
    [["close", "choice-pass"], ["reopen", "choice-fail"]].forEach(function (pair) {
      var b = node("button", "choice " + pair[1], FL[pair[0]]);
      b.type = "button";
      b.dataset.outcome = pair[0];
      b.setAttribute("aria-pressed", r.outcome === pair[0] ? "true" : "false");
      b.disabled = !!state.submitted_at;
      choices.appendChild(b);
    });
    card.appendChild(choices);
    if (r.outcome === "close") {
      var photoId = "ticket-photo-" + t.id;
      var label = node("label", null, FL.photo);
      label.htmlFor = photoId;
      var file = node("input");
      file.type = "file"; file.id = photoId; file.accept = "image/*"; file.multiple = true;
      file.setAttribute("capture", "environment");
      file.name = "ticket_photo";
      card.appendChild(label);
      card.appendChild(file);
      card.appendChild(recheckThumbs(r.photos));
    } else if (r.outcome === "reopen") {
      card.appendChild(recheckField(t, "new_deadline", FL.new_deadline, "date", r.day));
    }
    if (r.outcome && t.needs_reason) card.appendChild(recheckField(t, "reason", FL.reason, "text", r.reason));
    if (r.outcome) card.appendChild(recheckField(t, "note", FL.note, "text", r.note));
    return card;
  }

  function recheckField(t, name, words, type, value) {
    var wrap = node("p");
    var label = node("label", null, words);
    label.htmlFor = "ticket-" + name + "-" + t.id;
    var input = node("input");
    input.type = type; input.id = label.htmlFor; input.name = name; input.value = value || "";
    wrap.appendChild(label);
    wrap.appendChild(input);
    return wrap;
  }

  function dayPassed(day) {
    return !day || !(Date.parse(day + "T23:59:59") > Date.now());
  }

  // What stops a follow-up's submission (a close-out without a photo, a sending-back without a future
  // deadline, a leader's own finding without a reason), in the server's words. The rule is the server's
  // (tickets.models.recheck_blocks), sent with each ticket as a table: the phone only reads what each
  // verdict holds and looks it up.
  function recheckProblems() {
    if (!isFollowUp) return [];
    var out = [];
    Object.keys(ticketResults()).forEach(function (id) {
      var r = ticketResults()[id], t = ticketOf(id);
      if (!t || !r.outcome) return;
      var key = [r.outcome, usablePhotos(r).length ? 1 : 0, dayPassed(r.day) ? 0 : 1,
                 (r.reason || "").trim() ? 1 : 0].join("|");
      ((t.blocks || {})[key] || []).forEach(function (kind) { out.push(FL[kind].replace("{n}", id)); });
    });
    return out;
  }

  function ticketResultsBody(v) {
    if (v.mode !== "follow_up") return [];
    var results = v.ticket_results || {};
    return Object.keys(results).filter(function (id) { return results[id].outcome; }).map(function (id) {
      var r = results[id];
      return { ticket_id: parseInt(id, 10), outcome: r.outcome, note: r.note || "",
               photo_ids: r.outcome === "close" ? usablePhotos(r).map(function (p) { return p.id; }) : [],
               new_deadline: r.outcome === "reopen" && r.day ? new Date(r.day + "T23:59:59").toISOString() : null,
               override_reason: r.reason || null };
    });
  }

  function followUpConfirm() {
    var results = ticketResultsBody(state);
    var count = function (outcome) { return results.filter(function (r) { return r.outcome === outcome; }).length; };
    return FL.confirm.replace("{closed}", count("close")).replace("{reopened}", count("reopen"));
  }

  function recheckFor(target) {
    var card = target.closest("[data-ticket]");
    if (!card || !isFollowUp || state.submitted_at) return null;
    var id = card.dataset.ticket;
    return ticketResults()[id] || (ticketResults()[id] = { outcome: null, photos: [] });
  }

  root.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-outcome]");
    var r = button && recheckFor(button);
    if (!r) return;
    event.preventDefault();
    r.outcome = r.outcome === button.dataset.outcome ? null : button.dataset.outcome;  // a second tap undoes
    redrawRecheck(button.closest("[data-ticket]").dataset.ticket);
    renderProgress();
    save();
  });

  root.addEventListener("change", function (event) {
    var t = event.target;
    var r = recheckFor(t);
    if (!r) return;
    var ticketId = t.closest("[data-ticket]").dataset.ticket;
    if (t.type === "file") {
      if (t.files.length) addRecheckPhotos(ticketId, r, Array.prototype.slice.call(t.files));
      return;
    }
    if (t.name === "new_deadline") r.day = t.value;
    else if (t.name === "reason") r.reason = t.value;
    else if (t.name === "note") r.note = t.value;
    renderProgress();
    save();
  });

  function addRecheckPhotos(ticketId, r, files) {
    var when = now(), where = here();
    files = files.filter(isPicture);
    return files.reduce(function (chain, file) {
      return chain.then(function () { return shrink(file); }).then(function (blob) {
        return blob.arrayBuffer().then(function (buf) {
          // No finding: a close-out photo belongs to the ticket's step, named in ticket_results.
          var photo = { id: uuid(), finding_id: null, ticket_id: ticketId, buf: buf, type: blob.type || "image/jpeg",
                        captured_at: when, location: where };
          return idb.set("photo:" + photo.id, photo).then(function () {
            r.photos = (r.photos || []).concat([{ id: photo.id }]);
            return enqueue({ kind: "photo", id: photo.id, ticket: true });
          });
        });
      });
    }, Promise.resolve()).then(function () {
      redrawRecheck(ticketId);
      renderProgress();
      return save();
    }).catch(function (error) {
      lastError = L.photo_failed;
      renderStatus();
      console.error(error);
    });
  }

  // A close-out photo refused for good (or deleted): the same bookkeeping as a finding's.
  function recheckPhotoChanged(photoId, rejected) {
    if (!isFollowUp) return;
    Object.keys(ticketResults()).forEach(function (id) {
      var r = ticketResults()[id];
      var before = (r.photos || []).length;
      if (rejected === undefined) r.photos = (r.photos || []).filter(function (p) { return p.id !== photoId; });
      else (r.photos || []).forEach(function (p) { if (p.id === photoId) p.rejected = rejected; });
      if (before) redrawRecheck(id);
    });
  }

  // The outbox sends a ticket's photos before anything else: a submitted follow-up names them.
  function nextEntry(due) {
    return due.filter(function (e) { return e.ticket; })[0] || due[0];
  }

  // ---- Sending -------------------------------------------------------------------------------
  function body(v) {
    var answers = Object.keys(v.answers).map(function (code) {
      return { code: code, result: v.answers[code].result, note: v.answers[code].note || "" };
    });
    var findings = Object.keys(v.findings).map(function (id) {
      var f = v.findings[id];
      return { id: f.id, code: f.code, description: f.description, severity: f.severity,
               fixed_on_site: !!f.fixed_on_site, location: f.location || null, captured_at: f.captured_at || null };
    });
    return { school_id: v.school_id, version_id: v.version_id, mode: v.mode,
             started_at: v.started_at, submitted_at: v.submitted_at, location: v.location,
             qr_token: v.qr_token, answers: answers, findings: findings, ticket_results: ticketResultsBody(v) };
  }

  function send(method, url, payload, json) {
    var headers = { "X-CSRFToken": csrfToken, "X-Client-Time": now(), "Accept-Language": document.documentElement.lang };
    if (json) {
      headers["Content-Type"] = "application/json";
      // The outbox reads nothing back from a visit's PUT but its status: no body over one bar (RFC 7240).
      headers["Prefer"] = "return=minimal";
    }
    return fetch(url, { method: method, body: payload, headers: headers, credentials: "same-origin" })
      .then(function (response) {
        if (response.status === 400 || response.status === 401) {
          // An expired CSRF token (or session) while offline: renew and try once more, queue intact.
          return fetch(server.urls.csrf, { credentials: "same-origin" }).then(function (r) {
            if (r.status === 401) throw { signedOut: true };
            return r.json();
          }).then(function (data) {
            csrfToken = data.token;
            headers["X-CSRFToken"] = csrfToken;
            return fetch(url, { method: method, body: payload, headers: headers, credentials: "same-origin" });
          });
        }
        return response;
      });
  }

  // A proxy's error page is not JSON: read what there is, and never let that stop the queue.
  function answerOf(response) {
    return response.json().catch(function () { return {}; });
  }

  // Refused for good: the same bytes will be refused again, so retrying only blocks the queue.
  // 401 (sign in again), 408 (slow link), 409 (a replay to sort out) and 429 (wait) are not final.
  function isFinal(status) {
    return status >= 400 && status < 500 && [401, 408, 409, 429].indexOf(status) < 0;
  }

  function failure(response, data) {
    var retryAfter = parseInt(response.headers.get("Retry-After") || "", 10);
    return { message: (data.error && data.error.message) || L.server_status.replace("{n}", response.status),
             status: response.status, permanent: isFinal(response.status),
             retryAfter: isFinite(retryAfter) ? retryAfter : 0 };
  }

  function sendEntry(entry) {
    if (entry.kind === "visit") {
      var key = "visit:" + entry.id;
      return idb.get(key).then(function (v) {
        if (!v) return {};
        var rev = v.rev;
        return send("PUT", server.urls.visits + entry.id, JSON.stringify(body(v)), true).then(function (r) {
          return answerOf(r).then(function (data) {
            if (!r.ok) throw failure(r, data);
            return { rev: rev };  // what was sent: a later revision keeps the entry (dequeue)
          });
        });
      });
    }
    return idb.get("photo:" + entry.id).then(function (p) {
      if (!p) return {};
      var form = new FormData();
      form.append("file", new Blob([p.buf], { type: p.type }), p.type === "image/webp" ? "photo.webp" : "photo.jpg");
      if (p.finding_id) form.append("finding_id", p.finding_id);
      form.append("captured_at", p.captured_at);
      if (p.location) {
        form.append("lat", p.location.lat); form.append("lon", p.location.lon);
        form.append("accuracy_m", p.location.accuracy_m);
      }
      return send("PUT", server.urls.photos + p.id, form, false).then(function (r) {
        return answerOf(r).then(function (data) {
          if (!r.ok) throw failure(r, data);
          // Confirmed: only now does the phone let go of the bytes.
          return idb.del("photo:" + p.id).then(function () { return {}; });
        });
      });
    });
  }

  function sameEntry(a, b) { return a.kind === b.kind && a.id === b.id; }

  // `sent.rev`: the visit's revision that went; an entry saved again since stays, and goes next.
  function dequeue(entry, sent) {
    var rev = sent && sent.rev;
    return idb.update(OUTBOX, function (current) {
      return (current || []).filter(function (e) { return !sameEntry(e, entry) || (rev !== undefined && e.rev > rev); });
    });
  }

  // Transient trouble (5xx, 429, a refusal of the visit itself): this entry waits, 5 s doubling up
  // to 5 min (or what Retry-After asks), while the rest of the queue goes on.
  function backOff(entry, error) {
    return idb.update(OUTBOX, function (current) {
      return (current || []).map(function (e) {
        if (!sameEntry(e, entry)) return e;
        var attempts = (e.attempts || 0) + 1;
        var wait = Math.max(Math.min(300, 5 * Math.pow(2, attempts - 1)), error.retryAfter || 0);
        return Object.assign({}, e, { attempts: attempts, retry_at: new Date(Date.now() + wait * 1000).toISOString() });
      });
    });
  }

  // A photo the server will never take: out of the queue, kept on the phone with the reason, shown
  // on its finding until the user deletes it (and takes another).
  function setAside(entry, error) {
    return idb.update("photo:" + entry.id, function (p) {
      if (p) p.rejected = error.message;
      return p;
    }).then(function () {
      Object.keys(state.findings).forEach(function (id) {
        var f = state.findings[id];
        var changed = false;
        (f.photos || []).forEach(function (p) {
          if (p.id === entry.id) { p.rejected = error.message; changed = true; }
        });
        if (!changed) return;
        var box = document.getElementById("finding-" + f.id);
        if (box) box.replaceWith(findingEditor(f));
      });
      recheckPhotoChanged(entry.id, error.message);
      renderProgress();
      return idb.set(visitKey, state);
    }).then(function () { return dequeue(entry); });
  }

  function isDue(entry) {
    return !entry.retry_at || Date.parse(entry.retry_at) <= Date.now();
  }

  function flush() {
    if (flushing) { flushAgain = true; return Promise.resolve(); }
    flushing = true;
    flushAgain = false;
    var failed = [];  // entries that failed in this round wait for the next one
    var messages = [];
    function next() {
      return idb.get(OUTBOX).then(function (list) {
        var entry = nextEntry((list || []).filter(function (e) {
          return isDue(e) && !failed.some(function (f) { return sameEntry(f, e); });
        }));
        if (!entry) return;
        return sendEntry(entry).then(function (sent) {
          // A visit changed while it was being sent stays queued and goes again at once.
          return dequeue(entry, sent);
        }, function (error) {
          // No network or no session: nothing else will get through either; stop this round.
          if (error instanceof TypeError || (error && error.signedOut)) throw error;
          failed.push(entry);
          if (error && error.permanent && entry.kind === "photo") return setAside(entry, error);
          messages.push((error && error.message) || String(error));
          return backOff(entry, error || {});
        }).then(next);
      });
    }
    return next().then(function () {
      lastError = messages[0] || "";
    }).catch(function (error) {
      if (error && error.signedOut) lastError = L.signed_out;
      else if (error instanceof TypeError) lastError = "";  // no network: nothing to report, it waits
      else lastError = (error && error.message) || String(error);
    }).then(function () {
      flushing = false;
      if (flushAgain) flushSoon();
      renderStatus();
      return idb.get(OUTBOX).then(function (list) {
        list = list || [];
        unsent = list.length;
        scheduleRetry(list);
        // On to the summary once everything is through — not while a refused photo still waits for
        // the user to see it and let it go.
        if (state.submitted_at && !list.length && !rejectedNotices().length && navigator.onLine !== false) {
          window.location.assign(server.urls.summary);
        }
      });
    });
  }

  // The 30 s tick also retries, but a short backoff should not wait that long.
  var retryTimer = null;
  function scheduleRetry(list) {
    clearTimeout(retryTimer);
    var times = list.filter(function (e) { return e.retry_at; }).map(function (e) { return Date.parse(e.retry_at); });
    if (!times.length) return;
    var wait = Math.min.apply(null, times) - Date.now();
    if (wait < 30000) retryTimer = setTimeout(flush, Math.max(wait, 0) + 50);
  }

  var timer = null;
  function flushSoon() {
    clearTimeout(timer);
    timer = setTimeout(flush, 300);
  }

  // Test hook and "sync now": send everything that is queued, and again what was already sent.
  window.safecampusOutbox = {
    flush: flush,
    visitId: function () { return state && state.id; },
    pending: function () { return idb.get(OUTBOX).then(function (l) { return (l || []).length; }); },
    replayAll: function () {
      return send("PUT", server.urls.visits + state.id, JSON.stringify(body(state)), true).then(function (r) { return r.status; });
    },
  };

  // ---- Start ---------------------------------------------------------------------------------
  // A new visit resumes the draft this phone started from the same page, unless it was submitted.
  var draftKey = server.visit.draft_key;
  (draftKey ? idb.get(draftKey) : Promise.resolve(null)).then(function (draftId) {
    if (draftId) visitKey = "visit:" + draftId;
    return visitKey ? idb.get(visitKey) : null;
  }).then(function (stored) {
    if (stored && stored.submitted_at && draftKey) stored = null;
    state = stored || fromServer();
    visitKey = "visit:" + state.id;
    server.urls.summary = server.visit.id ? server.urls.summary : server.urls.summary + state.id;
    if (!stored) {
      return idb.set(visitKey, state).then(function () {
        return draftKey ? idb.set(draftKey, state.id) : null;
      }).then(function () { if (!server.visit.id) return enqueue({ kind: "visit", id: state.id }); });
    }
  }).then(function () {
    if (!state.location) {
      // The check-in place: the first fix that arrives, if there was none at the start.
      var wait = setInterval(function () {
        var fix = here();
        if (fix && !state.location) { state.location = fix; save(); }
        if (fix || state.submitted_at) clearInterval(wait);
      }, 1000);
    }
    root.classList.add("js");
    render();
    renderStatus();
    document.getElementById("sync-now").hidden = false;
    document.getElementById("sync-now").addEventListener("click", flush);
    if (navigator.storage && navigator.storage.persist) navigator.storage.persist().catch(function () {});
    window.addEventListener("online", function () { renderStatus(); flush(); });
    window.addEventListener("offline", renderStatus);
    document.addEventListener("visibilitychange", function () { if (!document.hidden) flush(); });
    if (navigator.serviceWorker) navigator.serviceWorker.addEventListener("message", function (e) {
      if (e.data && e.data.type === "flush-outbox") flush();
    });
    setInterval(flush, 30000);
    flush();
  });
})();
