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

  // ~1600 px and ≤ 500 KB as JPEG, in a worker, with the library served by us (libUrl). A file it
  // cannot read goes as it is: the server has the last word and says why it refuses.
  function shrink(file, libUrl) {
    if (!/^image\/(jpeg|png|webp)$/.test(file.type)) return Promise.resolve(file);
    return loadCompressor(libUrl).then(function (imageCompression) {
      if (!imageCompression) return file;
      return imageCompression(file, {
        maxSizeMB: 0.5, maxWidthOrHeight: 1600, useWebWorker: true, fileType: "image/jpeg",
        initialQuality: 0.8, libURL: libUrl,
      }).then(function (blob) {
        var name = (file.name || "photo").replace(/\.[^.]*$/, "") + ".jpg";
        return new File([blob], name, { type: "image/jpeg" });
      }).catch(function () { return file; });
    });
  }

  window.safecampusPhotos = { isPicture: isPicture, shrink: shrink };
})();
