// The trend page: temperature over time, drawn with D3 v7.
//
// It never asks for more points than the chart has pixels: the bucket count
// sent to GET .../readings comes from the chart's width, and the service
// answers min/mean/max per bucket (a year of 1-minute readings is still a few
// hundred buckets). Dragging across the chart (a brush) zooms in, and the
// zoomed range is fetched again with finer buckets.

import { api, deviceUrl, query, describeError } from "./api.js";
import { ensureSession, loadDevices, connectLive, setLiveStatus, showPageError } from "./common.js";
import { formatTemperature, formatTime, formatDuration, describeEvent, capitalise } from "./format.js";

const d3 = window.d3;
const HOUR = 3600 * 1000;
const DAY = 24 * HOUR;
const RANGES = { "6h": 6 * HOUR, "24h": DAY, "7d": 7 * DAY, "30d": 30 * DAY, all: null };
const MIN_ZOOM_MS = 2 * 60 * 1000;
const PIXELS_PER_BUCKET = 2;
const MARGIN = { top: 14, right: 14, bottom: 52, left: 46 };
const MARKER_KINDS_SHOWN_ELSEWHERE = new Set(["relay", "target", "mode", "photo", "video"]);

const view = {
  device: null,
  state: null,         // latest state payload, for the device's clock and current relays/target
  receivedAt: Date.now(),
  range: "24h",
  zoom: null,          // [Date, Date] while zoomed in
  data: null,          // what the chart shows (see load())
  loading: 0,          // sequence number: answers to older requests are dropped
  reloadTimer: null,
  live: null,          // connectLive()'s answer: rewatch() after a device change
};

const chart = document.getElementById("chart");

// ---- helpers -----------------------------------------------------------------

// "Now" by the device's clock (the state's timestamp plus the time since it
// arrived), so ranges end where the readings end even when the Pi's clock and
// the browser's disagree (or a simulated daemon runs faster than real time).
function deviceNow() {
  const stateTime = view.state && Date.parse(view.state.timestamp);
  return stateTime ? stateTime + (Date.now() - view.receivedAt) : Date.now();
}

function innerSize() {
  const width = Math.max(120, chart.clientWidth - MARGIN.left - MARGIN.right);
  const height = Math.max(120, chart.clientHeight - MARGIN.top - MARGIN.bottom);
  return { width, height };
}

// Never more buckets than pixels: one bucket per PIXELS_PER_BUCKET pixels of width.
function bucketCount() {
  return Math.max(10, Math.floor(innerSize().width / PIXELS_PER_BUCKET));
}

function parseBuckets(buckets) {
  return (buckets || []).map((bucket) => {
    const start = new Date(bucket.start);
    const end = new Date(bucket.end);
    return {
      start,
      end,
      time: new Date((start.getTime() + end.getTime()) / 2),
      min: bucket.min,
      mean: bucket.mean,
      max: bucket.max,
      count: bucket.count,
    };
  });
}

// The service leaves empty buckets out. Where readings are missing for longer
// than three buckets (and ten minutes), put a gap in the line instead of
// drawing straight across the hole.
const MIN_GAP_MS = 10 * 60 * 1000;
function withGaps(buckets, bucketMs) {
  const gap = Math.max(3 * bucketMs, MIN_GAP_MS);
  const out = [];
  for (const bucket of buckets) {
    const previous = out[out.length - 1];
    if (previous && bucket.time - previous.time > gap) {
      out.push({ time: new Date(previous.end.getTime()), start: previous.end, end: bucket.start, count: 0, mean: null });
    }
    out.push(bucket);
  }
  return out;
}

function hasValue(bucket) {
  return bucket.count > 0 && bucket.mean !== null && bucket.mean !== undefined;
}

// ---- loading -----------------------------------------------------------------

async function findFirstReading(end) {
  // "All": one coarse request over the last 10 years finds where the data starts.
  const start = new Date(end.getTime() - 3650 * DAY);
  const answer = await api(deviceUrl(view.device.id, `/readings${query({
    start: start.toISOString(), end: end.toISOString(), buckets: 500,
  })}`));
  let first = null;
  for (const buckets of Object.values(answer.probes || {})) {
    const found = parseBuckets(buckets).find(hasValue);
    if (found && (!first || found.start < first)) first = found.start;
  }
  return first;
}

async function currentRange() {
  if (view.zoom) return view.zoom;
  const end = new Date(deviceNow() + 60 * 1000);
  const span = RANGES[view.range];
  if (span) return [new Date(end.getTime() - span), end];
  const first = await findFirstReading(end);
  return [first || new Date(end.getTime() - DAY), end];
}

async function load() {
  if (!view.device) return;
  const sequence = ++view.loading;
  setRangeLabel("Loading…");
  try {
    const [start, end] = await currentRange();
    const buckets = bucketCount();
    const span = query({ start: start.toISOString(), end: end.toISOString() });
    const id = view.device.id;
    const [readings, events, media] = await Promise.all([
      api(deviceUrl(id, `/readings${query({ start: start.toISOString(), end: end.toISOString(), buckets })}`)),
      api(deviceUrl(id, `/events${span}`)).catch(() => []),
      api(deviceUrl(id, `/media${span}`)).catch(() => []),
    ]);
    if (sequence !== view.loading) return; // a newer request was made meanwhile
    const probes = {};
    const bucketMs = (end - start) / buckets;
    for (const [probe, list] of Object.entries(readings.probes || {})) {
      probes[probe] = withGaps(parseBuckets(list), bucketMs);
    }
    view.data = {
      start, end, buckets, probes,
      events: events.map((event) => ({ ...event, time: new Date(event.timestamp) }))
        .sort((a, b) => a.time - b.time),
      media: media.map((item) => ({ ...item, time: new Date(item.timestamp) })),
    };
    updateCsvLink(start, end);
    setRangeLabel(`${formatTime(start)} – ${formatTime(end)} · ${buckets} buckets of ${formatDuration((end - start) / buckets / 1000)}`);
    showPageError("");
    render();
    chart.dataset.loaded = String(sequence);
  } catch (error) {
    if (sequence !== view.loading) return;
    setRangeLabel("");
    showPageError(`Could not load the history: ${describeError(error)}`);
  }
}

function scheduleReload(delay = 250) {
  window.clearTimeout(view.reloadTimer);
  view.reloadTimer = window.setTimeout(load, delay);
}

function setRangeLabel(text) {
  document.getElementById("range-label").textContent = text;
}

function updateCsvLink(start, end) {
  const link = document.getElementById("csv-link");
  link.href = deviceUrl(view.device.id, `/readings.csv${query({ start: start.toISOString(), end: end.toISOString() })}`);
  const stamp = (date) => date.toISOString().slice(0, 16).replace(":", "");
  link.setAttribute("download", `beerpi-${view.device.id}-${stamp(start)}-${stamp(end)}.csv`);
}

// ---- derived series: target steps and relay bands ----------------------------

// The target in force over time, as points for a step line: from the
// target/mode events in the range, starting from the value before the first
// one (its "previous"), else the current state. null while the mode is off.
function targetSteps(data) {
  const thermostat = (view.state && view.state.thermostat) || {};
  const changes = data.events.filter((event) => event.kind === "target" || event.kind === "mode");
  const firstTarget = changes.find((event) => event.kind === "target");
  const firstMode = changes.find((event) => event.kind === "mode");
  let target = firstTarget ? firstTarget.data.previous ?? firstTarget.data.target : thermostat.target;
  let mode = firstMode ? firstMode.data.previous ?? firstMode.data.mode : thermostat.mode;
  const value = () => (mode === "off" || target === undefined ? null : target);
  const points = [{ time: data.start, target: value() }];
  for (const event of changes) {
    if (event.kind === "target") target = event.data.target;
    else mode = event.data.mode;
    points.push({ time: event.time, target: value() });
  }
  points.push({ time: data.end, target: value() });
  return points;
}

// On-periods of each relay, [{relay, start, end}], from the relay events.
function relayBands(data) {
  const bands = [];
  const relayIds = new Set([
    ...Object.keys((view.state && view.state.relays) || {}),
    ...data.events.filter((event) => event.kind === "relay").map((event) => event.data.relay),
  ]);
  for (const relay of relayIds) {
    const changes = data.events.filter((event) => event.kind === "relay" && event.data.relay === relay);
    const current = view.state && view.state.relays && view.state.relays[relay];
    let on = changes.length ? !changes[0].data.on : Boolean(current && current.on && !view.zoom);
    let since = data.start;
    for (const event of changes) {
      if (on && !event.data.on) bands.push({ relay, start: since, end: event.time });
      if (!on && event.data.on) since = event.time;
      on = Boolean(event.data.on);
    }
    if (on) bands.push({ relay, start: since, end: data.end });
  }
  return bands;
}

function stepAt(points, time) {
  let value = null;
  for (const point of points) {
    if (point.time > time) break;
    value = point.target;
  }
  return value;
}

// ---- drawing -------------------------------------------------------------------

function render() {
  const data = view.data;
  if (!data) return;
  const { width, height } = innerSize();
  const x = d3.scaleTime().domain([data.start, data.end]).range([0, width]);
  const steps = targetSteps(data);
  const bands = relayBands(data);

  const values = [];
  for (const buckets of Object.values(data.probes)) {
    for (const bucket of buckets.filter(hasValue)) values.push(bucket.min ?? bucket.mean, bucket.max ?? bucket.mean);
  }
  for (const point of steps) if (point.target !== null && point.target !== undefined) values.push(point.target);
  const [low, high] = values.length ? d3.extent(values) : [15, 25];
  const y = d3.scaleLinear().domain([low - 0.5, high + 0.5]).nice().range([height, 0]);

  const svg = d3.select(chart).selectAll("svg").data([null]).join("svg")
    .attr("viewBox", `0 0 ${width + MARGIN.left + MARGIN.right} ${height + MARGIN.top + MARGIN.bottom}`)
    .attr("aria-hidden", "true");
  svg.selectAll("*").remove();
  const root = svg.append("g").attr("transform", `translate(${MARGIN.left},${MARGIN.top})`);
  root.append("clipPath").attr("id", "plot-clip").append("rect").attr("width", width).attr("height", height);

  // Relay on-periods: faint full-height bands plus a solid strip along the axis.
  const bandLayer = root.append("g").attr("class", "bands").attr("clip-path", "url(#plot-clip)");
  bandLayer.selectAll("rect.band").data(bands).join("rect")
    .attr("class", (band) => `band band-${band.relay}`)
    .attr("x", (band) => x(band.start))
    .attr("width", (band) => Math.max(1, x(band.end) - x(band.start)))
    .attr("y", 0).attr("height", height);
  bandLayer.selectAll("rect.strip").data(bands).join("rect")
    .attr("class", (band) => `strip band-strip-${band.relay}`)
    .attr("x", (band) => x(band.start))
    .attr("width", (band) => Math.max(1, x(band.end) - x(band.start)))
    .attr("y", (band) => height - (band.relay === "heater" ? 8 : 4)).attr("height", 4);

  root.append("g").attr("class", "grid")
    .call(d3.axisLeft(y).ticks(6).tickSize(-width).tickFormat(""));
  root.append("g").attr("class", "axis axis-x").attr("transform", `translate(0,${height})`)
    .call(d3.axisBottom(x).ticks(Math.max(2, Math.floor(width / 90))));
  root.append("g").attr("class", "axis axis-y")
    .call(d3.axisLeft(y).ticks(6).tickFormat((value) => `${value}°`));

  const plot = root.append("g").attr("clip-path", "url(#plot-clip)");
  const probeIds = Object.keys(data.probes).sort((a, b) => (a === "beer" ? -1 : b === "beer" ? 1 : a.localeCompare(b)));
  let pointsDrawn = 0;
  for (const probe of probeIds) {
    const buckets = data.probes[probe];
    const group = plot.append("g").attr("class", `probe probe-${probe}`).attr("data-probe", probe);
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
  plot.append("path").datum(steps).attr("class", "target")
    .attr("d", d3.line().defined((point) => point.target !== null && point.target !== undefined)
      .curve(d3.curveStepAfter).x((point) => x(point.time)).y((point) => y(point.target)));
  chart.dataset.points = String(pointsDrawn);
  chart.dataset.start = data.start.toISOString();
  chart.dataset.end = data.end.toISOString();

  if (!pointsDrawn) {
    root.append("text").attr("class", "empty").attr("x", width / 2).attr("y", height / 2)
      .attr("text-anchor", "middle").text("No readings in this range yet.");
  }

  // Brush to zoom; the hover read-out listens on the same surface.
  const brush = d3.brushX().extent([[0, 0], [width, height]]).on("end", (event) => {
    if (!event.selection || !event.sourceEvent) return;
    const [from, to] = event.selection.map(x.invert);
    brushLayer.call(brush.move, null);
    if (to - from < MIN_ZOOM_MS) return;
    view.zoom = [from, to];
    document.getElementById("zoom-reset").hidden = false;
    load();
  });
  const brushLayer = root.append("g").attr("class", "brush").call(brush);
  brushLayer.on("dblclick", resetZoom);

  const hover = root.append("g").attr("class", "hover").style("display", "none");
  hover.append("line").attr("class", "hover-rule").attr("y1", 0).attr("y2", height);
  const dots = hover.selectAll("circle").data(probeIds).join("circle")
    .attr("class", (probe) => `hover-dot probe-${probe}`).attr("r", 4)
    .style("fill", (probe) => (probe === "beer" ? "var(--beer)" : probe === "fridge" ? "var(--fridge)" : "var(--muted)"));
  const readout = d3.select(chart).selectAll("div.readout").data([null]).join("div")
    .attr("class", "readout").style("display", "none");

  const bisect = d3.bisector((bucket) => bucket.time).center;
  brushLayer.on("pointermove.hover", (event) => {
    const [px] = d3.pointer(event, root.node());
    const time = x.invert(px);
    hover.style("display", null).select("line").attr("x1", px).attr("x2", px);
    // Each row is [text, bold text, text after]; probe and relay ids come from
    // the device, so they only ever reach the DOM as text (never as HTML).
    const rows = [["", formatTime(time)]];
    dots.each(function placeDot(probe) {
      const buckets = data.probes[probe].filter(hasValue);
      const bucket = buckets.length ? buckets[bisect(buckets, time)] : null;
      const near = bucket && Math.abs(x(bucket.time) - px) < 30;
      d3.select(this).style("display", near ? null : "none")
        .attr("cx", near ? x(bucket.time) : 0).attr("cy", near ? y(bucket.mean) : 0);
      if (near) {
        rows.push([`${capitalise(probe)}: `, `${formatTemperature(bucket.mean, 2)} °C`,
          bucket.count > 1 ? ` (${formatTemperature(bucket.min)}–${formatTemperature(bucket.max)}, ${bucket.count} readings)` : ""]);
      }
    });
    const target = stepAt(steps, time);
    if (target !== null && target !== undefined) rows.push([`Target: ${formatTemperature(target)} °C`]);
    const onNow = bands.filter((band) => band.start <= time && time <= band.end).map((band) => capitalise(band.relay));
    if (onNow.length) rows.push([`${onNow.join(", ")} on`]);
    readout.style("display", null).selectAll("div").data(rows).join("div")
      .each(function fillRow([before, bold, after]) {
        const line = d3.select(this).text(before);
        if (bold) line.append("strong").text(bold);
        if (after) line.append("span").text(after);
      });
    const box = readout.node().getBoundingClientRect();
    const left = MARGIN.left + px + 14 + box.width > chart.clientWidth ? MARGIN.left + px - 14 - box.width : MARGIN.left + px + 14;
    readout.style("left", `${Math.max(0, left)}px`).style("top", `${MARGIN.top + 4}px`);
  });
  brushLayer.on("pointerleave.hover", () => {
    hover.style("display", "none");
    readout.style("display", "none");
  });

  drawMarkers(root, x, height, data);
}

// Events and photos as markers under the time axis; a photo's opens it.
function drawMarkers(root, x, height, data) {
  const markers = [
    ...data.media.map((item) => ({ kind: item.kind, time: item.time, media: item,
      label: `${capitalise(item.kind)} ${formatTime(item.time)}` })),
    ...data.events.filter((event) => !MARKER_KINDS_SHOWN_ELSEWHERE.has(event.kind))
      .map((event) => ({ kind: event.kind, time: event.time, event,
        label: `${describeEvent(event)} · ${formatTime(event.time)}` })),
  ].filter((marker) => marker.time >= data.start && marker.time <= data.end);
  const radius = window.matchMedia("(pointer: coarse)").matches ? 8 : 6;
  const layer = root.append("g").attr("class", "markers").attr("transform", `translate(0,${height + 36})`);
  const marker = layer.selectAll("g").data(markers).join("g")
    .attr("class", "marker-group")
    .attr("transform", (item) => `translate(${x(item.time)},0)`)
    .attr("tabindex", 0)
    .attr("role", "button")
    .attr("aria-label", (item) => item.label)
    .attr("data-kind", (item) => item.kind);
  marker.append("title").text((item) => item.label);
  marker.append("circle").attr("r", radius)
    .attr("class", (item) => `marker ${item.kind === "photo" || item.kind === "video" ? "marker-photo"
      : item.kind.startsWith("fault") ? "marker-fault" : "marker-other"}`);
  marker.on("click", (event, item) => openMarker(item))
    .on("keydown", (event, item) => {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        openMarker(item);
      }
    });
}

function openMarker(item) {
  const viewer = document.getElementById("photo-viewer");
  const image = document.getElementById("viewer-img");
  const caption = document.getElementById("viewer-caption");
  caption.replaceChildren();
  if (item.media && item.media.kind === "photo") {
    document.getElementById("viewer-title").textContent = "Photo";
    image.hidden = false;
    image.src = item.media.url;
    caption.textContent = `Taken ${formatTime(item.time)}`;
  } else if (item.media) {
    document.getElementById("viewer-title").textContent = "Video";
    image.hidden = true;
    const link = document.createElement("a");
    link.href = item.media.url;
    link.download = "";
    link.textContent = `Download the video of ${formatTime(item.time)}`;
    caption.append(link);
  } else {
    document.getElementById("viewer-title").textContent = "Event";
    image.hidden = true;
    caption.textContent = item.label;
  }
  viewer.hidden = false;
  viewer.scrollIntoView({ behavior: "smooth", block: "nearest" });
}

function resetZoom() {
  view.zoom = null;
  document.getElementById("zoom-reset").hidden = true;
  load();
}

// ---- start -------------------------------------------------------------------

function chooseRange(range) {
  view.range = range;
  view.zoom = null;
  document.getElementById("zoom-reset").hidden = true;
  for (const button of document.querySelectorAll("[data-range]")) {
    button.setAttribute("aria-pressed", String(button.dataset.range === range));
  }
  window.localStorage.setItem("beerpi.range", range);
  load();
}

function selectDevice(entry) {
  view.device = entry || null;
  view.state = entry ? entry.state : null;
  view.receivedAt = Date.now();
  view.zoom = null;
  if (entry) document.title = `BeerPi · trend · ${entry.name || entry.id}`;
  view.live?.rewatch(); // live pushes for this fermenter only
  load();
}

async function start() {
  try {
    await ensureSession();
    for (const button of document.querySelectorAll("[data-range]")) {
      button.addEventListener("click", () => chooseRange(button.dataset.range));
    }
    document.getElementById("zoom-reset").addEventListener("click", resetZoom);
    document.getElementById("viewer-close").addEventListener("click", () => {
      document.getElementById("photo-viewer").hidden = true;
    });
    const saved = window.localStorage.getItem("beerpi.range");
    if (saved && saved in RANGES) {
      view.range = saved;
      for (const button of document.querySelectorAll("[data-range]")) {
        button.setAttribute("aria-pressed", String(button.dataset.range === saved));
      }
    }
    const { chosen } = await loadDevices(selectDevice);
    selectDevice(chosen);

    let lastWidth = chart.clientWidth;
    new ResizeObserver(() => {
      if (chart.clientWidth === lastWidth) return;
      lastWidth = chart.clientWidth;
      // A new width means a new bucket count: fetch again (debounced).
      scheduleReload(300);
    }).observe(chart);

    let lastLiveReload = 0;
    view.live = connectLive({
      // Only this page's fermenter's state and readings are pushed.
      watching: () => (view.device ? [view.device.id] : []),
      onStatus: (connected) => setLiveStatus(connected ? "live" : "offline", connected ? "Live" : "Not live"),
      onState(message) {
        if (!view.device || message.device !== view.device.id) return;
        view.state = message.state;
        view.receivedAt = Date.now();
      },
      onReadings(message) {
        // New readings: redraw the live range, at most every 10 s (not while zoomed in).
        if (!view.device || message.device !== view.device.id || view.zoom) return;
        const now = Date.now();
        if (now - lastLiveReload > 10000) {
          lastLiveReload = now;
          scheduleReload(500);
        }
      },
      onEvent(message) {
        if (view.device && message.device === view.device.id && !view.zoom) scheduleReload(1000);
      },
    });
    document.body.dataset.ready = "1";
  } catch (error) {
    showPageError(`BeerPi could not start: ${describeError(error)}`);
    document.getElementById("app").hidden = false;
  }
}

start();
