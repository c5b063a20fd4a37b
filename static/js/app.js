// Small progressive enhancements; every page works without this file.
(function () {
  "use strict";

  // Confirm destructive plain-form submits (htmx forms use hx-confirm).
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    var message = button && button.dataset.confirm;
    if (message && !window.confirm(message)) event.preventDefault();
  });

  // Distance to the school, only when the user already allowed location: no prompt on page load.
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

  document.addEventListener("DOMContentLoaded", showDistance);
})();
