// The public complaint form: photos are shrunk on the phone before they are sent, by photos.js (the
// one rule the visit and the ticket use), so a few phone photos go over a weak signal in seconds.
// The form still posts as a plain page, as it does without this file: the shrunk files take the
// chosen ones' place in the file input, and the server answers as it always does (the tracking code,
// or the reasons inline). Where a browser cannot replace an input's files, the originals go as they
// are and the server's limit decides.
(function () {
  "use strict";
  if (!window.safecampusPhotos || !window.DataTransfer || !window.File) return;
  try { new DataTransfer(); } catch (e) { return; }  // older Safari: the constructor is missing

  var FORM = "form[data-shrink-photos]";
  var pending = new WeakMap();  // file input -> promise of the shrinking under way

  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches(FORM + " input[type=file]")) return;
    var form = input.form;
    var files = Array.prototype.slice.call(input.files || []);
    var shrunk = [];
    // One at a time: four 12 MP decodes at once can exhaust a cheap phone's memory.
    var run = files.reduce(function (step, file) {
      return step.then(function () {
        // Not a picture: sent as it is, so the server's message names what is wrong with it.
        if (!window.safecampusPhotos.isPicture(file)) return file;
        return window.safecampusPhotos.shrink(file, form.dataset.compressor);
      }).then(function (small) { shrunk.push(small); });
    }, Promise.resolve()).then(function () {
      if (pending.get(input) !== run) return;  // picked again meanwhile: the newer pick wins
      var list = new DataTransfer();
      shrunk.forEach(function (file) { list.items.add(file); });
      input.files = list.files;
    }).catch(function () {
      // Whatever went wrong, the chosen originals are still in the input and go as they are.
    }).then(function () {
      if (pending.get(input) === run) pending.delete(input);
    });
    pending.set(input, run);
  });

  // Sent before the shrinking is done: wait for it, then send the form as the page would have.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || !form.matches(FORM)) return;
    var waits = Array.prototype.map.call(form.querySelectorAll("input[type=file]"), function (input) {
      return pending.get(input);
    }).filter(Boolean);
    if (!waits.length) return;
    event.preventDefault();
    var button = form.querySelector("button[type=submit]");
    if (button) {
      button.dataset.label = button.textContent;
      button.disabled = true;
      button.textContent = form.dataset.shrinking;
    }
    Promise.all(waits).then(function () { form.submit(); });
  });

  // Back to the form from the answer (the page kept in memory): the button works again.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll(FORM + " button[type=submit][data-label]").forEach(function (button) {
      button.disabled = false;
      button.textContent = button.dataset.label;
    });
  });
})();
