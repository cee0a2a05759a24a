// Draws the trend chart with D3 v7: probes (mean line, min–max shade), the
// target's stretches, relay and outage bands, markers under the time axis, the
// legend of what is drawn, and the hover read-out. Text from a device (probe
// ids, event details) reaches the page only through textContent / D3 .text().

import {
  formatTemperature, formatTime, formatsReady, prepareFormats, capitalise, describeEvent,
} from "./format.js";
import {
  hasValue, targetStretches, targetAt, relayBands, layoutMarkers, timeAxis,
  MARKERS, OUTAGES, describeOutage,
} from "./trend_data.js";
import { d3 } from "./vendor.js";
import { drawPlan, planLegend, planTargets } from "./trend_plan.js";
import {
  temperatureUnit, toShown, unitSymbol, gravityUnit, platoFromSg, formatGravity,
} from "./units.js";

// Tooltips and screen-reader labels with a time in them (outage bands, markers)
// are written once the first view is painted: the page's first formatTime costs
// tens of ms of locale data (format.js), which would hold back the first draw.
// Text on screen (the legend's plan) is written with the chart as before.
const pendingLabels = [];

function labelWhenReady(write) {
  if (formatsReady()) write();
  else pendingLabels.push(write);
}

// Called after the first paint (and harmless at any time).
export function writePendingLabels() {
  prepareFormats();
  for (const write of pendingLabels.splice(0)) write();
}

// The time axis runs past the readings' end when a running profile is drawn ahead.
function shownEnd(data) {
  return data.shownEnd || data.end;
}

export const MARGIN = { top: 14, right: 14, bottom: 92, left: 46 };
// Room for the gravity axis's labels ("1.050", "12.5°P") on the right.
const GRAVITY_MARGIN = 52;
const MARKER_RADIUS = 6;
const MARKER_GAP = 2 * MARKER_RADIUS + 4; // px between marker centres: none overlaps
const LANES = 3;
const LANE_HEIGHT = 2 * MARKER_RADIUS + 3;
const MARKERS_TOP = 34; // below the tick labels
// Shown as lines and bands instead, or as the media's own markers.
const NOT_MARKERS = new Set(["relay", "target", "mode", "photo", "video"]);
// Names of D3's symbol types (looked up when drawing: D3 runs after this module).
const SYMBOLS = {
  circle: "symbolCircle", square: "symbolSquare", triangle: "symbolTriangle",
  diamond: "symbolDiamond", star: "symbolStar", cross: "symbolCross", wye: "symbolWye",
};

// Probe colours: beer and fridge have theirs, other probes take the next free one.
export function probeColours(probeIds) {
  const colours = {};
  let next = 2;
  for (const probe of probeIds) {
    if (probe === "beer") colours[probe] = 0;
    else if (probe === "fridge") colours[probe] = 1;
    else colours[probe] = Math.min(next++, 5);
  }
  return colours;
}

export function sortProbes(ids) {
  return [...ids].sort((a, b) => (a === "beer" ? -1 : b === "beer" ? 1 : a.localeCompare(b)));
}

function symbolPath(kind, radius) {
  const type = d3[SYMBOLS[(MARKERS[kind] || MARKERS.connected).symbol]];
  return d3.symbol(type, Math.PI * radius * radius)();
}

// Buckets with their values in the shown unit (the data keeps °C).
function shownBuckets(buckets, unit) {
  if (unit === "C") return buckets;
  return buckets.map((bucket) => ({
    ...bucket, min: toShown(bucket.min, unit), mean: toShown(bucket.mean, unit), max: toShown(bucket.max, unit),
  }));
}

// Everything the chart shows for ``celsiusData`` (see trend.js load()); ``view`` gives
// the device's current state, whether the user zoomed, and what to do on a
// brush or a marker click. Temperatures are drawn in the unit chosen in the
// page (units.js): the y axis, the target and the hover read-out.
export function render(chart, celsiusData, view) {
  const c = layout(chart, celsiusData, view);
  drawOutages(c);
  drawRelayBands(c);
  drawAxes(c);
  const plot = c.root.append("g").attr("clip-path", "url(#plot-clip)");
  let pointsDrawn = drawProbes(c, plot);
  drawTarget(c, plot);
  drawPlan(c, plot);
  pointsDrawn += drawGravity(c.root, plot, c.x, c.width, c.height, c.gravity, c.hydrometerIds).points;
  chart.dataset.points = String(pointsDrawn);
  chart.dataset.start = c.data.start.toISOString();
  chart.dataset.end = c.data.end.toISOString();
  chart.dataset.shownEnd = shownEnd(c.data).toISOString();
  if (!pointsDrawn) {
    c.root.append("text").attr("class", "empty").attr("x", c.width / 2).attr("y", c.height / 2)
      .attr("text-anchor", "middle").text("No readings in this range yet.");
  }
  const brushLayer = addBrush(c);
  addHover(c, brushLayer);
  const kinds = drawMarkers(c.root, c.x, c.height, c.data, view);
  chart.dataset.markerKinds = [...kinds].sort().join(" ");
  const { probeIds, colours, stretches, bands, hydrometerIds } = c;
  return { probeIds, colours, stretches, bands, markerKinds: kinds, hydrometerIds };
}

// What every part of the drawing needs: the data in the shown unit, the target's
// stretches and relay bands, the size, both scales and an empty SVG to draw in.
function layout(chart, celsiusData, view) {
  const unit = temperatureUnit();
  const data = { ...celsiusData, probes: Object.fromEntries(
    Object.entries(celsiusData.probes).map(([probe, buckets]) => [probe, shownBuckets(buckets, unit)]),
  ) };
  const gravity = shownGravity(celsiusData.gravity || {});
  const hydrometerIds = Object.keys(gravity).filter((id) => gravity[id].some(hasValue)).sort();
  const right = hydrometerIds.length ? GRAVITY_MARGIN : MARGIN.right;
  const width = Math.max(120, chart.clientWidth - MARGIN.left - right);
  const height = Math.max(120, chart.clientHeight - MARGIN.top - MARGIN.bottom);
  const state = view.state || {};
  const stretches = targetStretches(data.events, data.start, data.end, state.thermostat || {})
    .map((stretch) => ({ ...stretch, target: toShown(stretch.target, unit) }));
  const bands = relayBands(data.events, data.start, data.end, state.relays || {}, Boolean(view.zoom));
  const probeIds = sortProbes(Object.keys(data.probes));
  return {
    chart, view, unit, symbol: unitSymbol(unit), data, width, height, stretches, bands, probeIds,
    gravity, hydrometerIds,
    colours: probeColours(probeIds),
    x: d3.scaleTime().domain([data.start, shownEnd(data)]).range([0, width]),
    y: yScale(data, [...stretches.map((stretch) => stretch.target), ...planTargets(data, unit)], unit, height),
    root: emptyPlot(chart, width, height, right),
  };
}

// Every value drawn (bucket ranges and targets) fits, with half a degree to spare.
function yScale(data, targets, unit, height) {
  const values = [];
  for (const buckets of Object.values(data.probes)) {
    for (const bucket of buckets) {
      if (hasValue(bucket)) values.push(bucket.min ?? bucket.mean, bucket.max ?? bucket.mean);
    }
  }
  values.push(...targets);
  const [low, high] = values.length ? d3.extent(values) : [toShown(15, unit), toShown(25, unit)];
  return d3.scaleLinear().domain([low - 0.5, high + 0.5]).nice().range([height, 0]);
}

// The chart's SVG, emptied, and the plot group inside its margins (with its clip path).
function emptyPlot(chart, width, height, right) {
  const svg = d3.select(chart).selectAll("svg").data([null]).join("svg")
    .attr("viewBox", `0 0 ${width + MARGIN.left + right} ${height + MARGIN.top + MARGIN.bottom}`)
    .attr("aria-hidden", "true");
  svg.selectAll("*").remove();
  const root = svg.append("g").attr("transform", `translate(${MARGIN.left},${MARGIN.top})`);
  root.append("clipPath").attr("id", "plot-clip").append("rect").attr("width", width).attr("height", height);
  return root;
}

// Outages: full-height bands, their cause written at the top when it fits.
function drawOutages({ root, x, height, data }) {
  const outageLayer = root.append("g").attr("class", "outages").attr("clip-path", "url(#plot-clip)");
  const outage = outageLayer.selectAll("g").data(data.outages).join("g")
    .attr("class", (item) => `outage outage-${item.cause}${item.readings_lost ? "" : " recovered"}`)
    .attr("data-cause", (item) => item.cause);
  const title = outage.append("title");
  labelWhenReady(() => title.text((item) => `${describeOutage(item)} (${formatTime(item.start)} – ${formatTime(item.end)})`));
  outage.append("rect")
    .attr("x", (item) => x(item.start)).attr("y", 0).attr("height", height)
    .attr("width", (item) => Math.max(2, x(item.end) - x(item.start)));
  outage.append("text").attr("class", "outage-label")
    .text((item) => OUTAGES[item.cause].label)
    .each(function place(item) {
      // Across the top of the band when it fits, else upright along it; a band
      // too thin for either is told by its title, the hover and the legend.
      const bandWidth = x(item.end) - x(item.start);
      const length = this.getComputedTextLength();
      if (length + 8 <= bandWidth) {
        d3.select(this).attr("x", x(item.start) + 4).attr("y", 14);
      } else if (bandWidth >= 14 && length + 12 <= height) {
        d3.select(this).attr("transform", `translate(${x(item.start) + bandWidth / 2 - 4},6) rotate(90)`);
      } else {
        this.remove();
      }
    });
}

// Relay on-periods: faint full-height bands plus a solid strip along the axis.
function drawRelayBands({ root, x, height, bands }) {
  const bandLayer = root.append("g").attr("class", "bands").attr("clip-path", "url(#plot-clip)");
  bandLayer.selectAll("rect.band").data(bands).join("rect")
    .attr("class", (band) => `band band-${band.relay === "heater" || band.relay === "cooler" ? band.relay : "other"}`)
    .attr("data-relay", (band) => band.relay)
    .attr("x", (band) => x(band.start))
    .attr("width", (band) => Math.max(1, x(band.end) - x(band.start)))
    .attr("y", 0).attr("height", height);
  bandLayer.selectAll("rect.strip").data(bands).join("rect")
    .attr("class", (band) => `strip band-strip-${band.relay === "heater" || band.relay === "cooler" ? band.relay : "other"}`)
    .attr("x", (band) => x(band.start))
    .attr("width", (band) => Math.max(1, x(band.end) - x(band.start)))
    .attr("y", (band) => height - (band.relay === "heater" ? 8 : 4)).attr("height", 4);
}

// The grid, the time axis below the plot and the temperature axis on its left.
function drawAxes({ root, x, y, width, height, data, unit, symbol }) {
  root.append("g").attr("class", "grid")
    .call(d3.axisLeft(y).ticks(6).tickSize(-width).tickFormat(""));
  const axis = timeAxis(data.start, shownEnd(data), width);
  // A label centred on a tick at the right end would be cut by the chart's edge.
  const ticks = axis.ticks.filter((tick) => x(tick) <= width - 34);
  root.append("g").attr("class", "axis axis-x").attr("transform", `translate(0,${height})`)
    .attr("data-format", axis.format)
    .call(d3.axisBottom(x).tickValues(ticks).tickFormat(axis.formatter));
  root.append("g").attr("class", "axis axis-y")
    .attr("data-unit", unit)
    .call(d3.axisLeft(y).ticks(6).tickFormat((value) => `${value}${symbol}`));
}

// Each probe: its min–max shade, its mean line and, when there is room, a dot per
// bucket. Returns how many buckets with a value were drawn.
function drawProbes({ x, y, width, data, probeIds, colours }, plot) {
  let pointsDrawn = 0;
  for (const probe of probeIds) {
    const buckets = data.probes[probe];
    const group = plot.append("g").attr("class", `probe c${colours[probe]}`).attr("data-probe", probe);
    group.append("path").datum(buckets).attr("class", "envelope")
      .attr("d", d3.area().defined(hasValue).x((bucket) => x(bucket.time))
        .y0((bucket) => y(bucket.min ?? bucket.mean)).y1((bucket) => y(bucket.max ?? bucket.mean)));
    const withValues = buckets.filter(hasValue);
    group.append("path").datum(buckets).attr("class", "line")
      .attr("data-points", withValues.length)
      .attr("d", d3.line().defined(hasValue).x((bucket) => x(bucket.time)).y((bucket) => y(bucket.mean)));
    // Dots for the buckets when there is room for them (a sparse or zoomed-in range).
    if (withValues.length && withValues.length <= width / 8) {
      group.selectAll("circle").data(withValues).join("circle").attr("class", "point")
        .attr("r", 2.5).attr("cx", (bucket) => x(bucket.time)).attr("cy", (bucket) => y(bucket.mean));
    }
    pointsDrawn += withValues.length;
  }
  return pointsDrawn;
}

// The target: one horizontal line per stretch, joined by a step where one
// stretch ends as the next begins.
function drawTarget({ x, y, stretches }, plot) {
  const targetPath = d3.path();
  let previous = null;
  for (const stretch of stretches) {
    const x0 = x(stretch.start);
    if (previous && previous.end.getTime() === stretch.start.getTime()) targetPath.lineTo(x0, y(stretch.target));
    else targetPath.moveTo(x0, y(stretch.target));
    targetPath.lineTo(x(stretch.end), y(stretch.target));
    previous = stretch;
  }
  plot.append("path").attr("class", "target").attr("data-stretches", stretches.length)
    .attr("d", targetPath.toString());
}

// Brush to zoom, double-click to go back; the hover read-out listens on the same surface.
function addBrush({ root, x, width, height, view }) {
  const brush = d3.brushX().extent([[0, 0], [width, height]]).on("end", (event) => {
    if (!event.selection || !event.sourceEvent) return;
    const [from, to] = event.selection.map(x.invert);
    brushLayer.call(brush.move, null);
    view.onZoom(from, to);
  });
  const brushLayer = root.append("g").attr("class", "brush").call(brush);
  brushLayer.on("dblclick", () => view.onResetZoom());
  return brushLayer;
}

// The hover rule, a dot on each probe's nearest bucket and the read-out box beside them.
function addHover(c, brushLayer) {
  const { chart, root, x, y, height, data, probeIds, colours } = c;
  const hover = root.append("g").attr("class", "hover").attr("display", "none");
  hover.append("line").attr("class", "hover-rule").attr("y1", 0).attr("y2", height);
  const dots = hover.selectAll("circle").data(probeIds).join("circle")
    .attr("class", (probe) => `hover-dot c${colours[probe]}`).attr("r", 4);
  const readout = d3.select(chart).selectAll("div.readout").data([null]).join("div")
    .attr("class", "readout").attr("hidden", true);

  const bisect = d3.bisector((bucket) => bucket.time).center;
  const showAt = (px) => {
    const time = x.invert(px);
    hover.attr("display", null).select("line").attr("x1", px).attr("x2", px);
    const rows = [[strong(formatTime(time))]];
    dots.each(function placeDot(probe) {
      const buckets = data.probes[probe].filter(hasValue);
      const bucket = buckets.length ? buckets[bisect(buckets, time)] : null;
      const near = bucket && Math.abs(x(bucket.time) - px) < 30;
      d3.select(this).attr("display", near ? null : "none")
        .attr("cx", near ? x(bucket.time) : 0).attr("cy", near ? y(bucket.mean) : 0);
      if (near) rows.push(probeRow(c, probe, bucket));
    });
    for (const id of c.hydrometerIds) rows.push(...gravityRows(c, id, time, px, bisect));
    rows.push(...contextRows(c, time));
    placeReadout(chart, readout.node(), rows, px);
  };
  brushLayer.on("pointermove.hover", (event) => {
    const [px] = d3.pointer(event, root.node());
    chart.dataset.hoverX = String(px);
    showAt(px);
  });
  brushLayer.on("pointerleave.hover", () => {
    delete chart.dataset.hoverX;
    hover.attr("display", "none");
    readout.attr("hidden", true);
  });
  // A live redraw replaces the chart under a still pointer: show the read-out again
  // where the pointer was, with the new data, instead of waiting for it to move.
  const px = Number(chart.dataset.hoverX);
  if (chart.dataset.hoverX !== undefined && px >= 0 && px <= c.width) showAt(px);
}

// A probe's line of the read-out: its mean, and the range of a bucket of several
// readings (only their count when the range reads as one value: "20.0–20.0").
function probeRow({ colours, symbol }, probe, bucket) {
  const [low, high] = [formatTemperature(bucket.min), formatTemperature(bucket.max)];
  const range = low === high ? "" : `${low}–${high}, `;
  return [
    swatch(`c${colours[probe]}`),
    `${capitalise(probe)}: `,
    strong(`${formatTemperature(bucket.mean)} ${symbol}`),
    bucket.count > 1 ? ` (${range}${bucket.count} readings)` : "",
  ];
}

// A hydrometer's line of the read-out, when a bucket of it lies near the pointer.
function gravityRows({ x, gravity }, id, time, px, bisect) {
  const buckets = gravity[id].filter(hasValue);
  const bucket = buckets.length ? buckets[bisect(buckets, time)] : null;
  if (!bucket || Math.abs(x(bucket.time) - px) >= 30) return [];
  return [[swatch("gravity"), `Gravity ${id}: `, strong(formatGravity(bucket.sg))]];
}

// The read-out's lines for the target, the relays on and any outage at ``time``.
function contextRows({ stretches, bands, data, symbol }, time) {
  const rows = [];
  const target = targetAt(stretches, time);
  if (target !== null) rows.push([`Target: ${formatTemperature(target)} ${symbol}`]);
  const onNow = bands.filter((band) => band.start <= time && time <= band.end).map((band) => capitalise(band.relay));
  if (onNow.length) rows.push([`${onNow.join(", ")} on`]);
  for (const item of data.outages.filter((o) => o.start <= time && time <= o.end)) {
    rows.push([strong(OUTAGES[item.cause].label), ` ${formatTime(item.start)} – ${formatTime(item.end)}`]);
  }
  return rows;
}

// The read-out right of the pointer, or left of it where it would leave the chart.
function placeReadout(chart, box, rows, px) {
  box.replaceChildren(...rows.map((parts) => line(parts)));
  box.hidden = false;
  const size = box.getBoundingClientRect();
  const left = MARGIN.left + px + 14 + size.width > chart.clientWidth ? MARGIN.left + px - 14 - size.width : MARGIN.left + px + 14;
  box.style.left = `${Math.max(0, left)}px`;
  box.style.top = `${MARGIN.top + 4}px`;
}

// Gravity buckets (kept in SG) with their values in the shown gravity unit, and
// the SG mean kept for the read-out.
function shownGravity(gravity) {
  const plato = gravityUnit() === "P";
  const shown = (value) => (value === null || value === undefined || !plato ? value : platoFromSg(value));
  return Object.fromEntries(Object.entries(gravity).map(([id, buckets]) => [id, buckets.map((bucket) => ({
    ...bucket, sg: bucket.mean, min: shown(bucket.min), mean: shown(bucket.mean), max: shown(bucket.max),
  }))]));
}

// Each hydrometer's mean gravity as a line on its own axis at the right (SG
// falls as the beer ferments; the scale is the gravity's own, not the
// temperatures'). Hydrometer ids reach the page only as D3 .attr/.text.
function drawGravity(root, plot, x, width, height, gravity, ids) {
  if (!ids.length) return { points: 0 };
  const plato = gravityUnit() === "P";
  const values = ids.flatMap((id) => gravity[id].filter(hasValue).map((bucket) => bucket.mean));
  const [low, high] = d3.extent(values);
  const pad = plato ? 0.5 : 0.002;
  const y = d3.scaleLinear().domain([low - pad, high + pad]).nice().range([height, 0]);
  const format = plato ? (value) => `${value.toFixed(1)}°P` : (value) => value.toFixed(3);
  // Drawn as a right-hand D3 axis would be, from the scale's own ticks (the page's D3
  // bundle carries only the exports it needs; see scripts/vendor_js.py).
  const axis = root.append("g").attr("class", "axis axis-gravity").attr("data-unit", plato ? "P" : "SG")
    .attr("transform", `translate(${width},0)`).attr("font-size", 10).attr("font-family", "sans-serif");
  axis.append("path").attr("class", "domain").attr("fill", "none").attr("d", `M6,0H0V${height}H6`);
  const tick = axis.selectAll("g.tick").data(y.ticks(6)).join("g").attr("class", "tick")
    .attr("transform", (value) => `translate(0,${y(value)})`);
  tick.append("line").attr("x2", 6);
  tick.append("text").attr("x", 9).attr("dy", "0.32em").text(format);
  let points = 0;
  for (const id of ids) {
    const buckets = gravity[id];
    const withValues = buckets.filter(hasValue);
    plot.append("g").attr("class", "gravity").attr("data-hydrometer", id)
      .append("path").datum(buckets).attr("class", "gravity-line")
      .attr("data-points", withValues.length)
      .attr("d", d3.line().defined(hasValue).x((bucket) => x(bucket.time)).y((bucket) => y(bucket.mean)));
    points += withValues.length;
  }
  return { points };
}

function strong(text) {
  const element = document.createElement("strong");
  element.textContent = text;
  return element;
}

function swatch(className) {
  const element = document.createElement("span");
  element.className = `swatch ${className}`;
  return element;
}

function line(parts) {
  const element = document.createElement("div");
  element.append(...parts.filter((part) => part !== ""));
  return element;
}

// Events and media as markers under the time axis; returns the kinds drawn.
function drawMarkers(root, x, height, data, view) {
  const items = [
    // Labels made when read (the photo viewer, the tooltips below), not when drawn.
    ...data.media.map((item) => ({ kind: item.kind, time: item.time, media: item,
      get label() { return `${capitalise(item.kind)} ${formatTime(item.time)}`; } })),
    ...data.events.filter((event) => !NOT_MARKERS.has(event.kind) && event.kind in MARKERS)
      .map((event) => ({ kind: event.kind, time: event.time, event,
        get label() { return `${describeEvent(event)} · ${formatTime(event.time)}`; } })),
  ].filter((item) => item.time >= data.start && item.time <= data.end)
    .map((item) => Object.assign(item, { x: x(item.time) }));
  const placed = layoutMarkers(items, MARKER_GAP, LANES);
  const kinds = new Set();
  const layer = root.append("g").attr("class", "markers")
    .attr("transform", `translate(0,${height + MARKERS_TOP})`);
  const marker = layer.selectAll("g").data(placed).join("g")
    .attr("class", "marker-group")
    .attr("transform", (spot) => `translate(${spot.x},${spot.lane * LANE_HEIGHT})`)
    .attr("tabindex", 0)
    .attr("role", "button")
    .attr("data-kind", (spot) => (spot.items.length > 1 ? "cluster" : spot.items[0].kind));
  marker.each((spot) => kinds.add(spot.items.length > 1 ? "cluster" : spot.items[0].kind));
  const title = marker.append("title");
  labelWhenReady(() => {
    marker.attr("aria-label", (spot) => (spot.items.length > 1
      ? `${spot.items.length} events around ${formatTime(spot.items[0].time)}`
      : spot.items[0].label));
    title.text((spot) => spot.items.map((item) => item.label).join("\n"));
  });
  marker.append("path")
    .attr("class", (spot) => `marker m-${spot.items.length > 1 ? "cluster" : spot.items[0].kind}`)
    .attr("d", (spot) => symbolPath(spot.items.length > 1 ? "cluster" : spot.items[0].kind, MARKER_RADIUS));
  marker.filter((spot) => spot.items.length > 1).append("text")
    .attr("class", "marker-count").attr("text-anchor", "middle").attr("dy", "0.35em")
    .text((spot) => String(spot.items.length));
  marker.on("click", (event, spot) => view.onMarker(spot.items))
    .on("keydown", (event, spot) => {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        view.onMarker(spot.items);
      }
    });
  return kinds;
}

// The legend lists what the chart shows now: each probe, the target, relays,
// outage causes and every kind of marker, drawn with the chart's own classes.
export function renderLegend(container, drawn, data) {
  const entries = [];
  for (const probe of drawn.probeIds) {
    entries.push({ kind: `probe:${probe}`, swatch: ["swatch", `c${drawn.colours[probe]}`], text: `${capitalise(probe)} (line: mean, shade: min–max)` });
  }
  for (const id of drawn.hydrometerIds || []) {
    entries.push({ kind: `gravity:${id}`, swatch: ["swatch", "gravity"], text: `Gravity, ${id} (right axis)` });
  }
  if (drawn.stretches.length) entries.push({ kind: "target", swatch: ["swatch", "target"], text: "Target" });
  const plan = planLegend(data);
  if (plan) entries.push(plan);
  for (const relay of [...new Set(drawn.bands.map((band) => band.relay))].sort()) {
    const known = relay === "heater" || relay === "cooler" ? relay : "other";
    entries.push({ kind: `relay:${relay}`, swatch: ["swatch", `relay-${known}`], text: `${capitalise(relay)} on` });
  }
  for (const cause of Object.keys(OUTAGES)) {
    if (data.outages.some((item) => item.cause === cause && item.readings_lost)) {
      entries.push({ kind: `outage:${cause}`, swatch: ["swatch", `outage-${cause}`], text: `${OUTAGES[cause].label}: ${OUTAGES[cause].detail}` });
    }
    if (data.outages.some((item) => item.cause === cause && !item.readings_lost)) {
      entries.push({ kind: `outage:${cause}:recovered`, swatch: ["swatch", `outage-${cause}`, "recovered"], text: `${OUTAGES[cause].label}, readings recovered from the Pi` });
    }
  }
  for (const kind of Object.keys(MARKERS)) {
    if (drawn.markerKinds.has(kind)) entries.push({ kind: `marker:${kind}`, marker: kind, text: MARKERS[kind].label });
  }
  container.replaceChildren(...entries.map((entry) => {
    const item = document.createElement("span");
    item.className = "legend-item";
    item.dataset.kind = entry.kind;
    if (entry.marker) {
      // D3 holds the SVG namespace's name (not something fetched).
      const icon = document.createElementNS(d3.namespaces.svg, "svg");
      icon.setAttribute("class", "legend-marker");
      icon.setAttribute("viewBox", "-8 -8 16 16");
      const path = document.createElementNS(d3.namespaces.svg, "path");
      path.setAttribute("class", `marker m-${entry.marker}`);
      path.setAttribute("d", symbolPath(entry.marker, MARKER_RADIUS));
      icon.append(path);
      item.append(icon);
    } else {
      const mark = document.createElement("span");
      mark.className = entry.swatch.join(" ");
      item.append(mark);
    }
    item.append(document.createTextNode(entry.text));
    return item;
  }));
}
