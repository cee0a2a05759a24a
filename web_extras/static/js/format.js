// Formatting shared by both pages.

import { formatWithUnit } from "./units.js";

export function formatTemperature(value, digits = 1) {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  return Number(value).toFixed(digits);
}

export function formatAge(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "no reading yet";
  const s = Math.max(0, Math.round(seconds));
  if (s < 5) return "just now";
  if (s < 90) return `${s} s ago`;
  const m = Math.round(s / 60);
  if (m < 90) return `${m} min ago`;
  const h = Math.round(s / 3600);
  if (h < 48) return `${h} h ago`;
  return `${Math.round(s / 86400)} days ago`;
}

// 24-hour times, like the trend chart's axis: no "08 AM" next to "08:30".
// Made on first use, not when the module loads: a page's first
// Intl.DateTimeFormat loads the browser's locale data (33–59 ms in a new page
// in Chromium on our machines), which a page would rather spend once its first
// view is painted (prepareFormats(); the trend chart writes its tooltips then).
let timeFormat = null;

export function prepareFormats() {
  timeFormat ??= new Intl.DateTimeFormat(undefined, {
    month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
  });
  return timeFormat;
}

// Whether formatTime is ready (costs nothing more to call).
export function formatsReady() {
  return timeFormat !== null;
}

export function formatTime(value) {
  if (!value) return "–";
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? "–" : prepareFormats().format(date);
}

export function formatDuration(seconds) {
  const s = Math.round(seconds);
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86400).toFixed(1)} days`;
}

const MODE_NAMES = { off: "Off", heat: "Heat", cool: "Cool", heat_cool: "Heat and cool" };
export function modeName(mode) {
  return MODE_NAMES[mode] || mode || "–";
}

// The modes a fermenter's thermostat can run, from its device payload's thermostat
// (heater and cooler, either may be null): off always, heat with a heater, cool with a
// cooler, heat and cool with both. Not known yet (no payload): all four.
export function runnableModes(thermostat) {
  if (!thermostat) return ["off", "heat", "cool", "heat_cool"];
  const modes = ["off"];
  if (thermostat.heater) modes.push("heat");
  if (thermostat.cooler) modes.push("cool");
  if (thermostat.heater && thermostat.cooler) modes.push("heat_cool");
  return modes;
}

// One line for people about an event from GET .../events or the live "event" push.
export function describeEvent(event) {
  const data = event.data || {};
  switch (event.kind) {
    case "fault_raised":
      return `Fault: ${data.message || data.code || ""}${data.source ? ` (${data.source})` : ""}`;
    case "fault_cleared":
      return `Fault cleared: ${data.code || ""}${data.source ? ` (${data.source})` : ""}`;
    case "relay":
      return `${capitalise(data.relay || "relay")} ${data.on ? "on" : "off"}`;
    case "target":
      return `Target ${formatWithUnit(data.target ?? data.value)}`;
    case "mode":
      return `Mode ${modeName(data.mode ?? data.value)}`;
    case "profile_step":
      return `Profile step ${data.step ?? ""}${data.target !== undefined ? ` → ${formatWithUnit(data.target)}` : ""}`;
    case "photo":
      return "Photo taken";
    case "video":
      return `Video recorded${data.seconds ? ` (${data.seconds} s)` : ""}`;
    default:
      return capitalise(String(event.kind || "event").replaceAll("_", " "));
  }
}

export function capitalise(text) {
  return text ? text[0].toUpperCase() + text.slice(1) : text;
}
