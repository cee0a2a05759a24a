// The trend page's data work, apart from the drawing: buckets, the target's
// stretches, relay on-periods, the layout of markers, the time axis's format.
// No DOM here, so the browser tests can import this module and check it alone.

import { d3 } from "./vendor.js";

export const MINUTE = 60 * 1000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

// ---- readings -------------------------------------------------------------------

export function parseBuckets(buckets) {
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

export function hasValue(bucket) {
  return bucket.count > 0 && bucket.mean !== null && bucket.mean !== undefined;
}

// The service leaves empty buckets out. Where readings are missing for longer
// than three buckets (and ten minutes), put a break in the line instead of
// drawing straight across the hole.
const MIN_BREAK_MS = 10 * MINUTE;
export function withBreaks(buckets, bucketMs) {
  const gap = Math.max(3 * bucketMs, MIN_BREAK_MS);
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

// ---- thermostat target and relays -------------------------------------------------

// The target in force as horizontal stretches [{start, end, target}], one per
// value, from the target and mode events in the range. Each event carries the
// value before it ("previous"), which gives the value at the range's start;
// without events the thermostat's current state holds for the whole range.
// While the mode is off there is no target, so no stretch.
export function targetStretches(events, start, end, thermostat = {}) {
  const changes = events.filter((event) => event.kind === "target" || event.kind === "mode")
    .sort((a, b) => a.time - b.time);
  const firstTarget = changes.find((event) => event.kind === "target");
  const firstMode = changes.find((event) => event.kind === "mode");
  let target = firstTarget ? firstTarget.data.previous ?? firstTarget.data.target : thermostat.target;
  let mode = firstMode ? firstMode.data.previous ?? firstMode.data.mode : thermostat.mode;
  const value = () => (mode === "off" || target === undefined || target === null ? null : target);
  const stretches = [];
  let since = start;
  const close = (until) => {
    const v = value();
    if (v !== null && until > since) stretches.push({ start: since, end: until, target: v });
  };
  for (const event of changes) {
    if (event.time < start || event.time > end) continue;
    close(event.time);
    since = event.time;
    if (event.kind === "target") target = event.data.target;
    else mode = event.data.mode;
  }
  close(end);
  return stretches;
}

// The target at ``time`` (for the hover read-out), or null.
export function targetAt(stretches, time) {
  const found = stretches.find((stretch) => stretch.start <= time && time < stretch.end);
  return found ? found.target : null;
}

// On-periods of each relay, [{relay, start, end}], from the relay events; a
// relay on now (and not zoomed into the past) is on up to the range's end.
export function relayBands(events, start, end, relays = {}, zoomed = false) {
  const bands = [];
  const relayIds = new Set([
    ...Object.keys(relays),
    ...events.filter((event) => event.kind === "relay").map((event) => event.data.relay),
  ]);
  for (const relay of relayIds) {
    const changes = events.filter((event) => event.kind === "relay" && event.data.relay === relay);
    const current = relays[relay];
    let on = changes.length ? !changes[0].data.on : Boolean(current && current.on && !zoomed);
    let since = start;
    for (const event of changes) {
      if (on && !event.data.on) bands.push({ relay, start: since, end: event.time });
      if (!on && event.data.on) since = event.time;
      on = Boolean(event.data.on);
    }
    if (on) bands.push({ relay, start: since, end });
  }
  return bands;
}

// ---- outages --------------------------------------------------------------------

export const OUTAGES = {
  power_lost: { label: "Power lost", detail: "the Pi started again (a new boot): power cut or reboot" },
  restarted: { label: "Daemon restarted", detail: "the daemon stopped and started again; the Pi stayed on" },
  offline: { label: "Daemon offline", detail: "the service heard nothing from the daemon" },
};

export function parseOutages(outages) {
  return (outages || []).filter((outage) => outage.cause in OUTAGES).map((outage) => ({
    ...outage,
    start: new Date(outage.start),
    end: new Date(outage.end),
  }));
}

export function describeOutage(outage) {
  const kind = OUTAGES[outage.cause];
  const readings = outage.readings_lost ? "no readings" : "its readings were recovered from the Pi";
  return `${kind.label}: ${kind.detail}; ${readings}`;
}

// ---- markers --------------------------------------------------------------------

// Every kind of marker under the time axis: its symbol, colour class and legend text.
export const MARKERS = {
  photo: { symbol: "circle", label: "Photo (click to see it)" },
  video: { symbol: "square", label: "Video (click to download)" },
  fault_raised: { symbol: "triangle", label: "Fault" },
  fault_cleared: { symbol: "diamond", label: "Fault cleared" },
  profile_step: { symbol: "star", label: "Profile step" },
  connected: { symbol: "circle", label: "Linked to the service" },
  disconnected: { symbol: "cross", label: "Link lost" },
  gap: { symbol: "wye", label: "Readings lost on the Pi" },
  cluster: { symbol: "circle", label: "Several at once (click for the list)" },
};

// Places markers so that none covers another: markers less than ``gap`` px
// apart chain into a group; a group of up to ``lanes`` stacks them in lanes,
// one each; a bigger group becomes one cluster at its mean x that lists them.
// Markers of different groups are at least ``gap`` apart, so with ``gap`` the
// marker's width nothing overlaps. Items need an ``x``; returns
// [{x, lane, items}] (one item, or the cluster's).
export function layoutMarkers(items, gap, lanes) {
  const sorted = [...items].sort((a, b) => a.x - b.x);
  const groups = [];
  for (const item of sorted) {
    const group = groups[groups.length - 1];
    if (group && item.x - group[group.length - 1].x < gap) group.push(item);
    else groups.push([item]);
  }
  const placed = [];
  for (const group of groups) {
    if (group.length <= lanes) {
      group.forEach((item, lane) => placed.push({ x: item.x, lane, items: [item] }));
    } else {
      const x = group.reduce((sum, item) => sum + item.x, 0) / group.length;
      placed.push({ x, lane: 0, items: group });
    }
  }
  return placed;
}

// ---- time axis ------------------------------------------------------------------

// One format for every tick of a zoom level, chosen by the ticks' spacing (and
// for sub-day ticks by whether the range crosses days): 24-hour times, no mix
// of "08 AM" and "08:30".
export function timeAxis(start, end, width) {
  const scale = d3.scaleTime().domain([start, end]);
  const ticks = scale.ticks(Math.max(2, Math.floor(width / 110)));
  const step = ticks.length > 1 ? ticks[1] - ticks[0] : end - start;
  let format;
  if (step < MINUTE) format = "%H:%M:%S";
  else if (step < DAY) format = end - start <= DAY ? "%H:%M" : "%d %b %H:%M";
  else if (step < 28 * DAY) format = "%d %b";
  else if (step < 365 * DAY) format = "%b %Y";
  else format = "%Y";
  return { ticks, format, formatter: d3.timeFormat(format) };
}
