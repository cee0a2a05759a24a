// Gravity on the current page: the latest reading of each hydrometer in the
// shown fermenter (an iSpindel posting to the service, or a Tilt the Pi reads),
// with apparent attenuation and ABV from the running brew session's OG.
//
// Hydrometer ids and values come from devices: they reach the DOM only as text
// (.text(), .attr()), never as HTML.

import { api, deviceUrl } from "./api.js";
import { formatTime } from "./format.js";
import { formatGravity, formatWithUnit, gravityUnit, setupGravityPicker } from "./units.js";
import { runningSession, whenSessionsRender } from "./sessions.js";

const $ = window.jQuery;

const state = { deviceId: null, readings: [], loading: 0 };

// ABV by the usual homebrew formula, and apparent attenuation, from OG and the current SG.
export function abv(og, sg) {
  return (og - sg) * 131.25;
}

export function apparentAttenuation(og, sg) {
  return (og - sg) / (og - 1);
}

function detail(reading) {
  const parts = [];
  if (reading.temperature_c !== null && reading.temperature_c !== undefined) {
    parts.push(formatWithUnit(reading.temperature_c));
  }
  if (reading.battery !== null && reading.battery !== undefined) {
    parts.push(reading.source === "ispindel" ? `battery ${reading.battery.toFixed(2)} V` : `battery ${reading.battery}`);
  }
  parts.push(formatTime(reading.timestamp));
  return parts.join(" · ");
}

function fermentation(reading) {
  const session = runningSession(state.deviceId);
  if (!session || !Number.isFinite(session.og) || session.og <= 1) {
    return "Give the brew session its OG to see attenuation and ABV.";
  }
  // Not fermenting yet, or a hydrometer reading a little high: no negative ABV.
  if (reading.sg >= session.og) {
    return `OG ${formatGravity(session.og)} · no drop from the OG yet (attenuation and ABV once it falls)`;
  }
  const attenuation = apparentAttenuation(session.og, reading.sg) * 100;
  return `OG ${formatGravity(session.og)} · apparent attenuation ${attenuation.toFixed(0)} % · ABV ${abv(session.og, reading.sg).toFixed(1)} %`;
}

export function renderGravity() {
  const $card = $("#gravity-card");
  const $list = $("#hydrometers").empty();
  $card.prop("hidden", !state.readings.length);
  for (const reading of state.readings) {
    const $item = $(`<li class="hydrometer">
        <h3 class="hydrometer-name"></h3>
        <div class="gravity-value"></div>
        <p class="gravity-detail"></p>
        <p class="gravity-fermentation"></p>
      </li>`).attr("data-hydrometer", reading.hydrometer);
    $item.find(".hydrometer-name").text(reading.hydrometer);
    $item.find(".gravity-value").text(formatGravity(reading.sg))
      .attr("data-unit", gravityUnit()).attr("data-sg", String(reading.sg));
    $item.find(".gravity-detail").text(detail(reading));
    $item.find(".gravity-fermentation").text(fermentation(reading));
    $list.append($item);
  }
}

export async function refreshGravity() {
  const device = state.deviceId;
  if (!device) return;
  const sequence = ++state.loading;
  try {
    const answer = await api(deviceUrl(device, "/gravity"));
    if (sequence !== state.loading || device !== state.deviceId) return;
    state.readings = Array.isArray(answer.hydrometers) ? answer.hydrometers : [];
  } catch (error) {
    return; // a nicety: the rest of the page works without it
  }
  renderGravity();
}

// A ``gravity`` push from /live: readings the service just stored. Each replaces its
// hydrometer's shown one unless that one is newer (a push racing a poll).
export function applyGravityPush(message) {
  if (!message || message.device !== state.deviceId || !Array.isArray(message.readings)) return;
  const readings = [...state.readings];
  for (const reading of message.readings) {
    if (!reading || typeof reading.hydrometer !== "string" || !Number.isFinite(reading.sg)) continue;
    const index = readings.findIndex((shown) => shown.hydrometer === reading.hydrometer);
    if (index < 0) {
      readings.push(reading);
    } else if (!(Date.parse(readings[index].timestamp) > Date.parse(reading.timestamp))) {
      readings[index] = reading;
    }
  }
  readings.sort((a, b) => (a.hydrometer < b.hydrometer ? -1 : a.hydrometer > b.hydrometer ? 1 : 0));
  state.loading += 1; // a poll already under way must not put back what it read before
  state.readings = readings;
  renderGravity();
}

export async function selectGravityDevice(deviceId) {
  state.deviceId = deviceId;
  state.readings = [];
  renderGravity();
  await refreshGravity();
}

// New readings arrive by the /live push (applyGravityPush); while that is down the
// current page's polling fallback calls refreshGravity with the rest of the page.
export function setupGravity() {
  setupGravityPicker(() => renderGravity());
  whenSessionsRender(renderGravity);
}
