// What the phone does to a photo before it is sent, for every form that sends one (a visit's
// findings, a ticket's evidence): one rule and one set of settings, so the two never drift apart.
(function () {
  "use strict";

  // The file picker can hand over anything ("all files"): only pictures go on.
  function isPicture(file) {
    if (/^image\//.test(file.type)) return true;
    return !file.type && /\.(jpe?g|png|webp|heic|heif)$/i.test(file.name || "");
  }

  // The resizer is loaded on the first photo, not with the page: most taps are not photos.
  var loading = null;
  function loadCompressor(url) {
    if (window.imageCompression) return Promise.resolve(window.imageCompression);
    loading = loading || new Promise(function (resolve) {
      var script = document.createElement("script");
      script.src = url;
      script.onload = function () { resolve(window.imageCompression); };
      script.onerror = function () { loading = null; resolve(null); };
      document.head.appendChild(script);
    });
    return loading;
  }

  // The upload size is the only lever left on a slow uplink (sync runs at its physical floor).
  // Chosen on the shared fixture photos (docs/benchmarks.md, "Photo bytes"): the smallest setting
  // whose crops still read as well as today's. WebP where the browser encodes it (Chrome, Android,
  // Safari 17+), else JPEG; maxSizeMB is the ceiling the resizer lowers quality to reach.
  var SETTINGS = { edge: 1600, webp: 0.6, jpeg: 0.6, maxSizeMB: 0.5 };

  var webp = null;
  function encodesWebp() {
    if (webp === null) {
      var canvas = document.createElement("canvas");
      canvas.width = canvas.height = 1;
      webp = canvas.toDataURL("image/webp").indexOf("data:image/webp") === 0;
    }
    return webp;
  }

  // In a worker, with the library served by us (libUrl). A file it cannot read goes as it is: the
  // server has the last word and says why it refuses. `settings` is for the benchmark only.
  function shrink(file, libUrl, settings) {
    if (!/^image\/(jpeg|png|webp)$/.test(file.type)) return Promise.resolve(file);
    var s = settings || SETTINGS;
    var type = s.webp && encodesWebp() ? "image/webp" : "image/jpeg";
    return loadCompressor(libUrl).then(function (imageCompression) {
      if (!imageCompression) return file;
      return imageCompression(file, {
        maxSizeMB: s.maxSizeMB, maxWidthOrHeight: s.edge, useWebWorker: true, fileType: type,
        initialQuality: type === "image/webp" ? s.webp : s.jpeg, libURL: libUrl,
      }).then(function (blob) {
        var name = (file.name || "photo").replace(/\.[^.]*$/, "") + (type === "image/webp" ? ".webp" : ".jpg");
        return new File([blob], name, { type: blob.type || type });
      }).catch(function () { return file; });
    });
  }

  window.safecampusPhotos = { isPicture: isPicture, shrink: shrink, settings: SETTINGS, encodesWebp: encodesWebp };
})();
