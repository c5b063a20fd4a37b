// A ticket's evidence forms (the school's report, the verifier's re-check). Photos are shrunk on the
// phone as the visit does (a dozen 2 MB phone photos would pass the upload limit otherwise), picks
// from the camera and the album add up, and the form is sent in the background: an error shows
// under the form with everything typed and picked still there; success swaps in the ticket as it now
// is. Without this file the form posts as a plain page, which answers errors inline too.
(function () {
  "use strict";
  if (!window.fetch || !window.FormData || !window.safecampusPhotos) return;
  var picks = new WeakMap();    // form -> [{ file, url }]
  var pending = new WeakMap();  // form -> promise of the shrinking under way

  function work() { return document.getElementById("ticket-work"); }
  function label(name) { var w = work(); return (w && w.dataset[name]) || ""; }

  // Which files are pictures, and shrinking them as the visit does: photos.js, one rule for both.
  function isPicture(file) { return window.safecampusPhotos.isPicture(file); }
  function shrink(file) { return window.safecampusPhotos.shrink(file, label("compressor")); }

  function showError(form, message) {
    var box = form.querySelector(".form-error");
    if (!box) return;
    box.textContent = message;
    box.hidden = !message;
  }

  function renderPicks(form) {
    var list = form.querySelector(".thumbs.picked");
    if (!list) return;
    list.textContent = "";
    (picks.get(form) || []).forEach(function (pick, i) {
      var li = document.createElement("li");
      var img = document.createElement("img");
      img.src = pick.url;
      img.alt = "";
      img.width = 96;
      img.height = 96;
      var remove = document.createElement("button");
      remove.type = "button";
      remove.className = "button secondary";
      remove.textContent = "✕";
      remove.setAttribute("aria-label", label("remove").replace("{n}", String(i + 1)));
      remove.addEventListener("click", function () {
        var kept = (picks.get(form) || []).filter(function (p) { return p !== pick; });
        URL.revokeObjectURL(pick.url);
        picks.set(form, kept);
        renderPicks(form);
      });
      li.appendChild(img);
      li.appendChild(remove);
      list.appendChild(li);
    });
  }

  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches("form[data-evidence] input[type=file]")) return;
    var form = input.form;
    var files = Array.prototype.slice.call(input.files || []);
    // The bytes now live in the list below; the input is free for the next photo.
    input.value = "";
    var refused = files.filter(function (f) { return !isPicture(f); });
    showError(form, refused.length ? label("notImage").replace("{name}", refused.map(function (f) { return f.name; }).join("、")) : "");
    var chain = (pending.get(form) || Promise.resolve()).then(function () {
      return files.filter(isPicture).reduce(function (step, file) {
        return step.then(function () { return shrink(file); }).then(function (small) {
          picks.set(form, (picks.get(form) || []).concat([{ file: small, url: URL.createObjectURL(small) }]));
          renderPicks(form);
        });
      }, Promise.resolve());
    });
    pending.set(form, chain);
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || !form.matches("form[data-evidence]")) return;
    event.preventDefault();
    var submitter = event.submitter;
    var buttons = form.querySelectorAll("button[type=submit]");
    var original = submitter ? submitter.textContent : "";
    buttons.forEach(function (b) { b.disabled = true; });
    if (submitter) submitter.textContent = label("shrinking");
    showError(form, "");
    (pending.get(form) || Promise.resolve()).then(function () {
      var body = new FormData(form);
      body.delete("photos");
      if (submitter && submitter.name) body.set(submitter.name, submitter.value);
      var total = 0;
      (picks.get(form) || []).forEach(function (pick) {
        body.append("photos", pick.file, pick.file.name);
        total += pick.file.size;
      });
      if (total > Number(label("maxBytes"))) throw new Error("too-large");
      if (submitter) submitter.textContent = label("sending");
      return fetch(form.action, { method: "POST", body: body, credentials: "same-origin",
                                  headers: { "HX-Request": "true" } });
    }).then(function (response) {
      return response.text().then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById("ticket-work");
        if (fresh && (response.ok || response.status === 422)) {
          // Success, or the server's inline errors with what was sent filled back in.
          var typed = response.ok ? null : keepPicks(form);
          work().replaceWith(fresh);
          if (typed) restorePicks(typed);
          return;
        }
        var message = doc.querySelector("[role=alert] p");
        throw new Error(message ? message.textContent : label("failed"));
      });
    }).catch(function (error) {
      var message = error.message === "too-large" ? label("tooLarge")
        : error instanceof TypeError ? label("offline") : (error.message || label("failed"));
      showError(form, message);
    }).then(function () {
      if (!document.contains(form)) return;
      buttons.forEach(function (b) { b.disabled = false; });
      if (submitter) submitter.textContent = original;
    });
  });

  // The server cannot send photos back: carry the picks over into the re-rendered form.
  function keepPicks(form) {
    return { action: form.getAttribute("action"), picks: picks.get(form) || [] };
  }
  function restorePicks(kept) {
    var form = document.querySelector("form[data-evidence][action='" + kept.action + "']");
    if (!form) return;
    picks.set(form, kept.picks);
    renderPicks(form);
  }
})();
