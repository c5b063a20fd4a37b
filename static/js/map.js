// The coverage map (reports/map.html): every school of the bureau, or of one district, as a dot
// coloured by its state, grouped into numbered clusters where they crowd.
//
// Why supercluster and canvas: a province is 20,000 schools. One DOM marker each is 20,000 nodes to
// move on every frame; one canvas circle each still redraws all 20,000 on every zoom and is a smear
// at province scale. supercluster indexes the points once (a k-d tree, about 0.1 s for 20,000 on a
// throttled phone); after each pan or zoom the map asks it for the clusters and points in view only,
// draws the points on one canvas and the clusters as a few dozen DOM icons. While a finger drags,
// nothing is computed: Leaflet only moves the panes. Figures in docs/benchmarks.md (bench/map.py).
(function () {
  "use strict";
  var el = document.getElementById("map");
  if (!el || !window.L || !window.Supercluster) return;
  var words = JSON.parse(document.getElementById("map-words").textContent);
  var status = document.getElementById("map-status");
  var popupTemplate = document.getElementById("map-popup");
  // In the order of reports.services.MAP_STATES (overdue, today, open, unvisited, ok); the legend's
  // dots (css state-*) use the same colours.
  var COLOURS = ["#b3261e", "#1a5fb4", "#b36b00", "#5f6368", "#1e6b35"];
  var CLASSES = ["overdue", "today", "open", "unvisited", "ok"];

  var renderer = L.canvas({ padding: 0.3, tolerance: 10 });  // a finger is wider than a dot
  var map = L.map(el, { renderer: renderer, zoomControl: false, attributionControl: !!el.dataset.tiles,
                        minZoom: 3, maxZoom: 18, zoomSnap: 1 });
  window.inspectMap = map;  // for the browser test and bench/map.py: nothing the page does not show
  L.control.zoom({ position: "bottomright", zoomInTitle: "+", zoomOutTitle: "-" }).addTo(map);
  L.control.scale({ imperial: false, position: "bottomleft" }).addTo(map);
  var labelPane = map.createPane("labels");
  labelPane.style.pointerEvents = "none";
  labelPane.style.zIndex = 650;  // above the clusters (600), under popups (700)
  var drawn = L.layerGroup().addTo(map);
  var labels = L.layerGroup().addTo(map);
  var blank = !el.dataset.tiles;
  var rows = [], names = [], index = null, districts = [];

  if (!blank) {
    var loaded = 0, failures = 0;
    var tiles = L.tileLayer(el.dataset.tiles, { maxZoom: 18, attribution: el.dataset.attribution });
    tiles.on("tileload", function () { loaded++; });
    tiles.on("tileerror", function () {
      // A closed network or a tile server that is down: drop the background, keep the schools.
      if (++failures === 4 && !loaded) {
        map.removeLayer(tiles);
        blank = true;
        el.classList.add("blank");
        note(words.tiles_failed);
        placeLabels();
      }
    });
    tiles.addTo(map);
  }

  function say(text) { status.textContent = text; }
  function note(text) { status.textContent = status.textContent + " " + text; }
  function fill(text, n) { return text.replace("{n}", n); }

  function load() {
    say(words.loading);
    el.setAttribute("aria-busy", "true");
    fetch(el.dataset.src, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(start)
      .catch(function () {
        say(words.failed);
        var retry = document.createElement("button");
        retry.type = "button";
        retry.className = "link";
        retry.textContent = words.retry;
        retry.addEventListener("click", load);
        status.appendChild(document.createTextNode(" "));
        status.appendChild(retry);
      })
      .then(function () { el.removeAttribute("aria-busy"); });
  }

  function start(data) {
    var started = performance.now();
    rows = data.schools;
    names = data.districts;
    var counts = [0, 0, 0, 0, 0];
    var points = rows.map(function (row, i) {
      counts[row[5]]++;
      return { type: "Feature", properties: { i: i, s: row[5] },
               geometry: { type: "Point", coordinates: [row[4], row[3]] } };
    });
    document.querySelectorAll("#map-legend .count").forEach(function (cell) {
      cell.textContent = counts[Number(cell.dataset.state)];
    });
    if (!rows.length) {
      say(words.empty);
      map.setView([32, 120], 7);
      return;
    }
    // Each cluster carries how many of its schools are in each state (n0..n4: flat numbers, because
    // supercluster copies cluster properties shallowly), drawn as the ring around its count.
    index = new Supercluster({
      // radius is in 512-unit tile space: 120 is 60 screen pixels, more than the widest icon, so
      // clusters do not cover one another.
      radius: 120, maxZoom: 15, minPoints: 3,
      map: function (p) { var c = { n0: 0, n1: 0, n2: 0, n3: 0, n4: 0 }; c["n" + p.s] = 1; return c; },
      reduce: function (a, b) { a.n0 += b.n0; a.n1 += b.n1; a.n2 += b.n2; a.n3 += b.n3; a.n4 += b.n4; }
    }).load(points);
    districts = centres(data.districts);
    map.on("moveend", render);
    var bounds = L.latLngBounds(rows.map(function (row) { return [row[3], row[4]]; }));
    map.fitBounds(bounds, { padding: [24, 24], maxZoom: 15, animate: false });
    render();  // fitBounds to the view it already has fires no moveend
    el.dataset.startMs = (performance.now() - started).toFixed(1);  // indexing and first drawing
    say(fill(words.shown, rows.length));
  }

  // Where to write each district's name on a blank map: the mean position of its schools.
  function centres(names) {
    var sums = names.map(function (name) { return { name: name, lat: 0, lon: 0, n: 0 }; });
    rows.forEach(function (row) {
      var d = sums[row[2]];
      d.lat += row[3]; d.lon += row[4]; d.n++;
    });
    return sums.filter(function (d) { return d.n; }).map(function (d) {
      return { name: d.name, at: L.latLng(d.lat / d.n, d.lon / d.n), n: d.n };
    }).sort(function (a, b) { return b.n - a.n; });
  }

  function render() {
    var started = performance.now();
    var b = map.getBounds().pad(0.2);
    var items = index.getClusters([b.getWest(), b.getSouth(), b.getEast(), b.getNorth()],
                                  Math.floor(map.getZoom()));
    drawn.clearLayers();
    var clusters = 0, markers = 0;
    items.forEach(function (item) {
      var ll = L.latLng(item.geometry.coordinates[1], item.geometry.coordinates[0]);
      if (item.properties.cluster) {
        clusters++;
        drawn.addLayer(cluster(item, ll));
      } else {
        markers++;
        drawn.addLayer(point(item.properties.i, ll));
      }
    });
    placeLabels();
    // Read by the browser test and bench/map.py.
    el.dataset.clusters = clusters;
    el.dataset.markers = markers;
    el.dataset.renderMs = (performance.now() - started).toFixed(1);
    el.dataset.rendered = "true";
    el.dataset.renders = Number(el.dataset.renders || 0) + 1;
  }

  function cluster(item, ll) {
    var p = item.properties, total = p.point_count, at = 0, stops = [];
    for (var k = 0; k < 5; k++) {
      var n = p["n" + k];
      if (!n) continue;
      var end = at + 100 * n / total;
      stops.push(COLOURS[k] + " " + at.toFixed(1) + "% " + end.toFixed(1) + "%");
      at = end;
    }
    var ring = document.createElement("div");
    ring.className = "map-cluster";
    // Set through the CSSOM, which the page's CSP (style-src 'self') allows; no style attribute.
    ring.style.background = "conic-gradient(" + stops.join(",") + ")";
    var label = document.createElement("span");
    label.textContent = p.point_count_abbreviated;
    ring.appendChild(label);
    var size = Math.round(40 + 5 * Math.log10(total));  // 42 px (a fingertip) to 62 px
    var marker = L.marker(ll, { icon: L.divIcon({ html: ring, className: "map-cluster-icon", iconSize: [size, size] }),
                                title: fill(words.cluster, total), alt: fill(words.cluster, total),
                                riseOnHover: true });
    marker.on("add", function () {
      var icon = marker.getElement();
      icon.dataset.count = total;
      icon.setAttribute("role", "button");
    });
    marker.on("click", function () {
      map.setView(ll, Math.min(index.getClusterExpansionZoom(p.cluster_id), map.getMaxZoom()));
    });
    return marker;
  }

  function point(i, ll) {
    var row = rows[i];
    var marker = L.circleMarker(ll, { renderer: renderer, radius: 8, weight: 2, color: "#fff",
                                      fillColor: COLOURS[row[5]], fillOpacity: 0.95 });
    // One popup on the map, not bound to the marker: a redraw after the popup pans the map into
    // view replaces the markers, and a bound popup would close with its marker.
    marker.on("click", function () { L.popup({ maxWidth: 280 }).setLatLng(ll).setContent(popup(row)).openOn(map); });
    return marker;
  }

  function popup(row) {
    var box = popupTemplate.content.firstElementChild.cloneNode(true);
    function field(name) { return box.querySelector('[data-field="' + name + '"]'); }
    field("name").textContent = row[1];
    field("district").textContent = names[row[2]];
    field("dot").classList.add("state-" + CLASSES[row[5]]);
    field("state").textContent = words.states[row[5]];
    field("open").textContent = row[6];
    field("overdue").textContent = row[7];
    field("last").textContent = row[8] === null ? words.never : row[8] === 0 ? words.today : fill(words.days_ago, row[8]);
    field("school").href = el.dataset.school.replace(/\/1$/, "/" + row[0]);
    field("route").href = "geo:" + row[3] + "," + row[4] + "?q=" + row[3] + "," + row[4] + "(" + encodeURIComponent(row[1]) + ")";
    return box;
  }

  // District names on the blank canvas, largest districts first, none over another.
  function placeLabels() {
    labels.clearLayers();
    if (!blank) return;
    var size = map.getSize(), taken = [];
    districts.forEach(function (d) {
      var p = map.latLngToContainerPoint(d.at);
      var w = d.name.length * 15 + 8, h = 20;
      var box = [p.x - w / 2, p.y - h / 2 - 26, p.x + w / 2, p.y + h / 2 - 26];  // above the cluster
      if (box[2] < 0 || box[0] > size.x || box[3] < 0 || box[1] > size.y) return;
      for (var k = 0; k < taken.length; k++) {
        var t = taken[k];
        if (box[0] < t[2] && box[2] > t[0] && box[1] < t[3] && box[3] > t[1]) return;
      }
      taken.push(box);
      var text = document.createElement("span");
      text.textContent = d.name;
      labels.addLayer(L.marker(d.at, { pane: "labels", interactive: false, keyboard: false,
        icon: L.divIcon({ html: text, className: "map-district", iconSize: [w, h], iconAnchor: [w / 2, h / 2 + 26] }) }));
    });
  }

  // The filters apply as soon as they change; the button stays for keyboards and no script.
  var filters = document.getElementById("map-filters");
  filters.addEventListener("change", function () { filters.submit(); });

  load();
})();
