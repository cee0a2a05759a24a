// The trend page: temperature over time, drawn with D3 v7 (trend_chart.js).
//
// It never asks for more points than the chart has pixels: the bucket count
// sent to GET .../readings comes from the chart's width, and the service
// answers min/mean/max per bucket from its rollups. Dragging across the chart
// (a brush) zooms in, and the zoomed range is fetched again with finer buckets.
// "All" runs from the device's first reading to now by the device's clock.

import { api, deviceUrl, query, describeError, firstGuess } from "./api.js";
import {
  ensureSession, loadDevices, connectLive, setLiveStatus, showPageError, deviceNow as deviceClock,
} from "./common.js";
import { formatTime, formatDuration } from "./format.js";
import { setupGravityPicker, setupUnitPicker, temperatureUnit, unitSymbol } from "./units.js";
import { parseBuckets, withBreaks, parseOutages, HOUR, DAY } from "./trend_data.js";
import { render, renderLegend, writePendingLabels, MARGIN } from "./trend_chart.js";
import { withPlan, planKey } from "./trend_plan.js";
import { loadD3, loadSocketIo } from "./vendor.js";

const RANGES = { "6h": 6 * HOUR, "24h": DAY, "7d": 7 * DAY, "30d": 30 * DAY, all: null };
const MIN_ZOOM_MS = 2 * 60 * 1000;
const PIXELS_PER_BUCKET = 2;
// A device whose history is shorter than this opens on "All" (its whole
// history, filling the chart); an older one on the last 30 days.
const FIT_ALL_MS = 30 * DAY;

const view = {
  device: null,
  state: null,         // latest state payload, for the device's clock and current relays/target
  receivedAt: Date.now(),
  range: "24h",
  span: null,          // {first, last} of the device's history (GET .../readings/span)
  zoom: null,          // [Date, Date] while zoomed in
  data: null,          // what the chart shows (see load())
  loading: 0,          // sequence number: answers to older requests are dropped
  gravityPushes: new Set(), // per load on its way: the gravity pushes that came meanwhile
  reloadTimer: null,
  live: null,          // connectLive()'s answer: rewatch() after a device change
};

const chart = document.getElementById("chart");
// A brew session's span from the current page's "Trend" link (?from=ISO[&to=ISO]),
// shown once, as a zoom, on the first fermenter drawn.
let sessionSpan = new URLSearchParams(window.location.search);

// "Now" by the device's clock (see common.js).
function deviceNow() {
  return deviceClock(view.state, view.receivedAt);
}

// Never more buckets than pixels: one bucket per PIXELS_PER_BUCKET pixels of width.
function bucketCount() {
  const width = Math.max(120, chart.clientWidth - MARGIN.left - MARGIN.right);
  return Math.max(10, Math.floor(width / PIXELS_PER_BUCKET));
}

// ---- ranges --------------------------------------------------------------------

// {first, last} of the device's history (the caller keeps it if it still shows that device).
async function fetchSpan() {
  const answer = await api(deviceUrl(view.device.id, "/readings/span"));
  return {
    first: answer.first ? new Date(answer.first) : null,
    last: answer.last ? new Date(answer.last) : null,
  };
}

// The range a device opens on when the user never chose one for it: all of a
// short history, else the last 30 days (all again when it has been silent
// for longer: the last 30 days would be empty).
function fittingRange(span) {
  if (!span || !span.first) return "24h";
  const now = deviceNow();
  if (now - span.first.getTime() <= FIT_ALL_MS) return "all";
  return span.last && now - span.last.getTime() < FIT_ALL_MS ? "30d" : "all";
}

// [start, end] to show; for "All" the start is null: the service starts the
// readings at the first one ("start=first"), which saves asking for it first.
function currentRange(now) {
  if (view.zoom) return view.zoom;
  // A minute past now, so the newest reading is inside the half-open range.
  const end = new Date(Math.max(now, view.span?.last?.getTime() ?? 0) + 60 * 1000);
  const span = RANGES[view.range];
  return [span ? new Date(end.getTime() - span) : null, end];
}

function rangeKey(device) {
  return `beerpi.range.${device.id}`;
}

function showRange(range) {
  view.range = range;
  chart.dataset.range = range;
  for (const button of document.querySelectorAll("[data-range]")) {
    button.setAttribute("aria-pressed", String(button.dataset.range === range));
  }
}

// ---- loading -------------------------------------------------------------------

// The service's guess of the first draw's requests, with their answers in the
// page (api.js firstGuess, from trend_preload.py). Used once, by the first load,
// and only if it is what that load would ask for: the same device, range and
// bucket count, and a range within PRELOAD_SLACK_MS of this one (the guess was
// made a moment earlier).
const PRELOAD_SLACK_MS = 30 * 1000;
let preloaded = firstGuess();

// {start, end, urls} of the preloaded requests if they match [asked, end] and
// buckets of this device; else null (then the page asks for its own).
function takePreloaded(asked, end, buckets) {
  const guess = preloaded;
  preloaded = null;
  if (!guess?.urls.readings || guess.device !== view.device.id || view.zoom) return null;
  const params = new URL(guess.urls.readings, window.location.href).searchParams;
  const first = params.get("start") === "first";
  const start = first ? null : new Date(params.get("start"));
  const guessedEnd = new Date(params.get("end"));
  const near = (a, b) => Math.abs(a - b) <= PRELOAD_SLACK_MS;
  if (Number(params.get("buckets")) !== buckets || first !== (asked === null)) return null;
  if (!near(guessedEnd, end) || (asked && !near(start, asked))) return null;
  return { start, end: guessedEnd, urls: guess.urls };
}

// The bucket count, for the service's next guess (trend_preload.py reads it).
function rememberBuckets(buckets) {
  document.cookie = `beerpi_trend_buckets=${buckets}; max-age=31536000; samesite=strict`;
}

async function load() {
  if (!view.device) return;
  const sequence = ++view.loading;
  setRangeLabel("Loading…");
  const gravityPushed = [];
  view.gravityPushes.add(gravityPushed);
  try {
    // One "now" for the whole load: a simulated device's clock runs fast (600x
    // in the demo), so a second reading after the answers came could already
    // lie past the range's end, and the plan ahead would be left out.
    const now = deviceNow();
    let [asked, end] = currentRange(now);
    const buckets = bucketCount();
    rememberBuckets(buckets);
    const guess = takePreloaded(asked, end, buckets);
    if (guess) [asked, end] = [guess.start, guess.end];
    const ask = (name, own) => api(guess?.urls[name] ?? own);
    // Events and media of "All": everything before its end (the chart keeps
    // those from the first reading on).
    const span = query({ start: (asked || new Date(0)).toISOString(), end: end.toISOString() });
    const id = view.device.id;
    // "All" starts at the first reading ("first": the answers say when).
    const series = query({ start: asked ? asked.toISOString() : "first", end: end.toISOString(), buckets });
    const answers = Promise.all([
      ask("readings", deviceUrl(id, `/readings${series}`)),
      ask("events", deviceUrl(id, `/events${span}`)).catch(() => []),
      ask("media", deviceUrl(id, `/media${span}`)).catch(() => []),
      ask("gravity", deviceUrl(id, `/gravity/series${series}`)).catch(() => ({ hydrometers: {} })),
    ]);
    const d3Ready = loadD3(); // at once where trend.html ran it; else while the answers come
    const [readings, events, media, gravityAnswer] = await answers;
    await d3Ready;
    if (sequence !== view.loading) return; // a newer request was made meanwhile
    const start = asked || new Date(readings.start);
    const probes = {};
    const bucketMs = (end - start) / buckets;
    for (const [probe, list] of Object.entries(readings.probes || {})) {
      probes[probe] = withBreaks(parseBuckets(list), bucketMs);
    }
    const gravity = {};
    for (const [hydrometer, list] of Object.entries(gravityAnswer.hydrometers || {})) {
      gravity[hydrometer] = withBreaks(parseBuckets(list), bucketMs);
    }
    view.data = withPlan({
      start, end, buckets, probes, gravity,
      outages: parseOutages(readings.outages),
      events: events.map((event) => ({ ...event, time: new Date(event.timestamp) }))
        .filter((event) => event.time >= start).sort((a, b) => a.time - b.time),
      media: media.map((item) => ({ ...item, time: new Date(item.timestamp) }))
        .filter((item) => item.time >= start),
    }, view.state, now, Boolean(view.zoom));
    // Readings pushed while the answers were on their way may be newer than them.
    for (const readings of gravityPushed) appendGravity(view.data, readings);
    updateCsvLink(start, end);
    showPageError("");
    draw();
    chart.dataset.loaded = String(sequence);
    // The range in words once the chart is on screen: the page's first
    // Intl.DateTimeFormat loads the browser's locale data (40 ms and more on
    // this machine, per new page), which would hold back the first draw.
    afterPaint(() => {
      writePendingLabels(); // the chart's tooltips, and the formats for the hover read-out
      if (sequence !== view.loading) return;
      setRangeLabel(`${rangeTime(start, end, start)} – ${rangeTime(start, end, end)} · ${buckets} buckets of ${formatDuration((end - start) / buckets / 1000)}`);
    });
  } catch (error) {
    if (sequence !== view.loading) return;
    setRangeLabel("");
    showPageError(`Could not load the history: ${describeError(error)}`);
  } finally {
    view.gravityPushes.delete(gravityPushed);
  }
}

function draw() {
  if (!view.data) return;
  const began = performance.now();
  const drawn = render(chart, view.data, {
    state: view.state,
    zoom: view.zoom,
    onZoom(from, to) {
      if (to - from < MIN_ZOOM_MS) return;
      view.zoom = [from, to];
      document.getElementById("zoom-reset").hidden = false;
      load();
    },
    onResetZoom: resetZoom,
    onMarker: openMarker,
  });
  renderLegend(document.getElementById("legend"), drawn, view.data);
  // For the browser tests: when (since the page was requested) the chart was drawn.
  chart.dataset.drawnAt = String(Math.round(performance.now()));
  chart.dataset.drawing = String(Math.round(performance.now() - began));
}

// After the next frame is painted (a frame's callbacks run before its paint).
function afterPaint(callback) {
  window.requestAnimationFrame(() => window.setTimeout(callback, 0));
}

// Pushed gravity readings as one-reading buckets at the end of their lines; true
// when one was added. A reading after the range's end moves the end up to it.
function appendGravity(data, readings) {
  if (!data || !Array.isArray(readings)) return false;
  let added = false;
  for (const reading of readings) {
    const time = new Date(reading?.timestamp);
    if (typeof reading?.hydrometer !== "string" || !Number.isFinite(reading.sg) || !(time >= data.start)) continue;
    const line = data.gravity[reading.hydrometer] || (data.gravity[reading.hydrometer] = []);
    if (line.length && !(time > line[line.length - 1].time)) continue;
    line.push({ start: time, end: time, time, min: reading.sg, mean: reading.sg, max: reading.sg, count: 1 });
    if (time > data.end) data.end = time;
    added = true;
  }
  return added;
}

let drawQueued = false;
function drawSoon() {
  if (drawQueued) return;
  drawQueued = true;
  window.requestAnimationFrame(() => { drawQueued = false; draw(); });
}

function scheduleReload(delay = 250) {
  window.clearTimeout(view.reloadTimer);
  view.reloadTimer = window.setTimeout(load, delay);
}

// A range that crosses a new year names the years (made on first use, like
// format.js's formatter).
let withYear = null;
function rangeTime(start, end, time) {
  if (start.getFullYear() === end.getFullYear()) return formatTime(time);
  withYear ??= new Intl.DateTimeFormat(undefined, {
    year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  });
  return withYear.format(time);
}

function setRangeLabel(text) {
  document.getElementById("range-label").textContent = text;
}

// The readings shown, as CSV in the unit the page shows (its header names it:
// temperature_c or temperature_f), so the file's numbers are the ones on screen.
function updateCsvLink(start = view.data?.start, end = view.data?.end) {
  if (!view.device || !start || !end) return;
  const unit = temperatureUnit();
  const link = document.getElementById("csv-link");
  link.href = deviceUrl(view.device.id, `/readings.csv${query({ start: start.toISOString(), end: end.toISOString(), unit })}`);
  const stamp = (date) => date.toISOString().slice(0, 16).replace(":", "");
  link.setAttribute("download", `beerpi-${view.device.id}-${stamp(start)}-${stamp(end)}-${unit}.csv`);
  link.textContent = `Download CSV (${unitSymbol(unit)})`;
}

// ---- markers -------------------------------------------------------------------

// A photo opens in the viewer, a video offers its file, an event or a cluster
// of markers lists what happened.
function openMarker(items) {
  const viewer = document.getElementById("photo-viewer");
  const image = document.getElementById("viewer-img");
  const caption = document.getElementById("viewer-caption");
  const title = document.getElementById("viewer-title");
  caption.replaceChildren();
  image.hidden = true;
  const [item] = items;
  if (items.length > 1) {
    title.textContent = `${items.length} events`;
    const list = document.createElement("ul");
    list.className = "marker-list";
    for (const each of items) {
      const entry = document.createElement("li");
      if (each.media) {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "link";
        button.textContent = each.label;
        button.addEventListener("click", () => openMarker([each]));
        entry.append(button);
      } else {
        entry.textContent = each.label;
      }
      list.append(entry);
    }
    caption.append(list);
  } else if (item.media && item.media.kind === "photo") {
    title.textContent = "Photo";
    image.hidden = false;
    image.src = item.media.url;
    caption.textContent = `Taken ${formatTime(item.time)}`;
  } else if (item.media) {
    title.textContent = "Video";
    const link = document.createElement("a");
    link.href = item.media.url;
    link.download = "";
    link.textContent = `Download the video of ${formatTime(item.time)}`;
    caption.append(link);
  } else {
    title.textContent = "Event";
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

// ---- start ---------------------------------------------------------------------

function chooseRange(range) {
  showRange(range);
  view.zoom = null;
  document.getElementById("zoom-reset").hidden = true;
  if (view.device) window.localStorage.setItem(rangeKey(view.device), range);
  load();
}

async function selectDevice(entry) {
  view.device = entry || null;
  view.state = entry ? entry.state : null;
  view.receivedAt = Date.now();
  view.zoom = null;
  view.span = null;
  view.data = null;
  if (!entry) return;
  document.title = `BeerPi · trend · ${entry.name || entry.id}`;
  view.live?.rewatch(); // live pushes for this fermenter only
  const sequence = ++view.loading;
  // The range: the page's address, else what the user chose for this device,
  // else one that fits its history.
  const asked = new URLSearchParams(window.location.search).get("range");
  let range = asked in RANGES ? asked : window.localStorage.getItem(rangeKey(entry));
  if (!(range in RANGES)) {
    let span = null;
    try {
      span = await fetchSpan();
    } catch (error) {
      // the range falls back to 24 h
    }
    if (sequence !== view.loading) return; // another device was chosen meanwhile
    view.span = span;
    range = span ? fittingRange(span) : "24h";
  }
  showRange(range);
  const from = Date.parse(sessionSpan?.get("from") ?? "");
  const to = Date.parse(sessionSpan?.get("to") ?? "") || deviceNow() + 60 * 1000;
  sessionSpan = null;
  if (from < to) [view.zoom, document.getElementById("zoom-reset").hidden] = [[new Date(from), new Date(to)], false];
  await load();
}

async function start() {
  try {
    // Asked together with the session, not after it (both are in the page, or
    // trend.html preloads them): the first draw waits for both. Without a
    // session it fails and loadDevices() asks again.
    const devices = api("api/devices");
    devices.catch(() => {});
    await ensureSession();
    for (const button of document.querySelectorAll("[data-range]")) {
      button.addEventListener("click", () => chooseRange(button.dataset.range));
    }
    document.getElementById("zoom-reset").addEventListener("click", resetZoom);
    setupUnitPicker(() => { draw(); updateCsvLink(); }); // the data stays in °C; only the drawing changes
    setupGravityPicker(() => draw()); // and in SG
    document.getElementById("viewer-close").addEventListener("click", () => {
      document.getElementById("photo-viewer").hidden = true;
    });
    const { chosen } = await loadDevices(selectDevice, devices);
    // The first draw before the live connection: its handshake would compete
    // with the readings for the service.
    await selectDevice(chosen);

    let lastWidth = chart.clientWidth;
    new ResizeObserver(() => {
      if (chart.clientWidth === lastWidth) return;
      lastWidth = chart.clientWidth;
      // A new width means a new bucket count: fetch again (debounced).
      scheduleReload(300);
    }).observe(chart);

    await loadSocketIo();
    let lastLiveReload = 0;
    view.live = connectLive({
      // Only this page's fermenter's state and readings are pushed.
      watching: () => (view.device ? [view.device.id] : []),
      onStatus: (connected) => setLiveStatus(connected ? "live" : "offline", connected ? "Live" : "Not live"),
      onState(message) {
        if (!view.device || message.device !== view.device.id) return;
        const before = planKey(view.state);
        view.state = message.state;
        view.receivedAt = Date.now();
        // A profile started, stopped or moved on: draw its plan again.
        if (planKey(view.state) !== before && !view.zoom) scheduleReload(500);
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
      onGravity(message) {
        // A reading the service just stored: onto its line at once (the next reload,
        // which the readings' pushes bring every 10 s, fetches the buckets again).
        if (!view.device || message.device !== view.device.id || view.zoom) return;
        for (const pushed of view.gravityPushes) pushed.push(message.readings);
        if (appendGravity(view.data, message.readings)) drawSoon();
      },
    });
    document.body.dataset.ready = "1";
  } catch (error) {
    showPageError(`BeerPi could not start: ${describeError(error)}`);
    document.getElementById("app").hidden = false;
  }
}

start();
