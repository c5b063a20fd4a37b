// The coverage map: Leaflet from npm, tiles from the configured server; the list stays either way.
(function () {
  "use strict";
  var el = document.getElementById("map");
  if (!el || !window.L) return;
  var points = JSON.parse(document.getElementById("map-points").textContent);
  var colours = { overdue: "#b3261e", open: "#b36b00", unvisited: "#5f6368", ok: "#1e6b35" };
  var map = L.map(el);
  var failures = 0;
  var layer = L.tileLayer(el.dataset.tiles, { maxZoom: 18, attribution: el.dataset.attribution });
  layer.on("tileerror", function () {
    // No tiles reachable: step aside for the list rather than show an empty grey box.
    if (++failures === 4) {
      el.hidden = true;
      var note = document.getElementById("map-note");
      note.textContent = el.dataset.failed;
      note.hidden = false;
    }
  });
  layer.addTo(map);
  var bounds = [];
  points.forEach(function (p) {
    var marker = L.circleMarker([p.lat, p.lon], { radius: 8, color: colours[p.state], fillOpacity: 0.8 });
    var link = document.createElement("a");
    link.href = p.url;
    link.textContent = p.name;
    marker.bindPopup(link).addTo(map);
    bounds.push([p.lat, p.lon]);
  });
  if (bounds.length) map.fitBounds(bounds, { padding: [20, 20] }); else map.setView([32, 120], 8);
})();
