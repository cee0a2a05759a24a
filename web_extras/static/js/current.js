// The current page: what the fermenter is doing now, and its controls.
//
// jQuery, as in the seed's current_temp.html. Updates arrive by live push
// (socket.io, namespace /live); while that connection is down the page falls
// back to the seed's "auto update every n seconds" polling, n chosen by the user.

import { api, deviceUrl, query, describeError } from "./api.js";
import {
  ensureSession, loadDevices, connectLive, setLiveStatus, showPageError, deviceNow as deviceClock,
  offerModes,
} from "./common.js";
import {
  formatAge, formatTime, modeName, describeEvent, capitalise, runnableModes,
} from "./format.js";
import { mediaUrl, renderGallery } from "./gallery.js";
import { setupAlerts } from "./alerts.js";
import {
  describeRunning, profileChanged, refreshProfileUnits, setProfileDevice, setupProfiles,
} from "./profiles.js";
import {
  gallerySpan, refreshSessions, refreshSessionUnits, selectSessionDevice, sessionChanged, setupSessions,
} from "./sessions.js";
import {
  formatShown, formatWithUnit, fromShown, setupUnitPicker, temperatureUnit, toShown, unitName, unitSymbol,
} from "./units.js";
import { applyGravityPush, refreshGravity, renderGravity, selectGravityDevice, setupGravity } from "./gravity.js";

const $ = window.jQuery;

const page = {
  device: null,        // the entry from GET api/devices (id, name, online, last_seen, device, state)
  info: null,          // the device payload (probes, relays, camera, thermostat limits)
  state: null,         // the latest state payload
  receivedAt: 0,       // Date.now() when that state arrived (ages count on from it)
  live: false,
  liveLink: null,      // connectLive()'s answer: rewatch() after a device change
  pollTimer: null,
  editingThermostat: false,
  statesPushed: 0,     // counts state pushes: a fetched state older than one of them is not shown
  thermostatEdits: 0,  // counts typing in the thermostat form: a reply keeps what came after it
  pendingRelays: new Set(),
  latestPhotoId: null,
  waitingVideo: null,  // {device, name, id, seconds}: a video being recorded, shown when it is ready
  events: [],
  eventPushes: new Set(), // one list per events answer on its way: the events pushed meanwhile
  eventsAsked: 0,      // counts events requests: an answer older than the one shown is dropped
  eventsShown: 0,
};

const DAY_MS = 24 * 3600 * 1000;
// The gallery (and the latest photo) look this far back.
const MEDIA_DAYS = 30;
const STALE_S = 300;

// ---- rendering -------------------------------------------------------------

function probeIds() {
  if (page.info && page.info.probes) return page.info.probes.map((probe) => probe.id);
  return page.state ? Object.keys(page.state.probes || {}) : [];
}

function probeName(id) {
  const probe = page.info && (page.info.probes || []).find((item) => item.id === id);
  return (probe && probe.name) || capitalise(id);
}

function relayIds() {
  if (page.info && page.info.relays) return page.info.relays.map((relay) => relay.id);
  return page.state ? Object.keys(page.state.relays || {}) : [];
}

function relayName(id) {
  const relay = page.info && (page.info.relays || []).find((item) => item.id === id);
  return (relay && relay.name) || capitalise(id);
}

// Seconds since a probe's last good reading, by the daemon's clock: the state's
// own timestamp minus the reading's, plus the time since the state arrived. This
// stays right when the Pi's clock and the browser's disagree (and on a
// simulated daemon whose clock runs fast).
function readingAge(probe) {
  if (!page.state || !probe || !probe.timestamp) return null;
  const stateTime = Date.parse(page.state.timestamp) || Date.parse(probe.timestamp);
  return (stateTime - Date.parse(probe.timestamp)) / 1000 + (Date.now() - page.receivedAt) / 1000;
}

function renderProbes() {
  const $probes = $("#probes");
  const ids = probeIds();
  $probes.children().each(function removeGone() {
    if (!ids.includes($(this).data("probe"))) $(this).remove();
  });
  for (const id of ids) {
    let $card = $probes.children().filter((_, element) => $(element).data("probe") === id);
    if (!$card.length) {
      $card = $(`<article class="card probe" aria-live="off">
          <h2></h2>
          <div class="temperature"><span class="value">–</span><span class="unit">°C</span></div>
          <div class="age"></div>
        </article>`)
        .addClass(`probe-${id}`)
        .attr("data-testid", `probe-${id}`)
        .data("probe", id);
      $card.find("h2").text(probeName(id));
      $probes.append($card);
    }
    const probe = page.state && page.state.probes ? page.state.probes[id] : null;
    const fault = probe && probe.fault;
    const $temperature = $card.find(".temperature");
    $card.toggleClass("fault", Boolean(fault));
    $temperature.toggleClass("faulted", Boolean(fault));
    if (fault) {
      $temperature.find(".value").text(`Fault: ${fault.replaceAll("_", " ")}`);
      $temperature.find(".unit").hide();
    } else {
      $temperature.find(".value").text(formatShown(probe ? probe.temperature : null));
      $temperature.find(".unit").text(unitSymbol()).show();
    }
    $temperature.attr("aria-label", fault
      ? `${probeName(id)}: probe fault ${fault}`
      : `${probeName(id)}: ${formatShown(probe ? probe.temperature : null)} ${unitName()}`);
  }
  renderAges();
}

function renderAges() {
  $("#probes").children().each(function renderAge() {
    const probe = page.state && page.state.probes ? page.state.probes[$(this).data("probe")] : null;
    const age = readingAge(probe);
    const text = probe && probe.fault && probe.timestamp
      ? `last good reading ${formatAge(age)}`
      : `reading ${formatAge(age)}`;
    $(this).find(".age")
      .text(probe && probe.timestamp ? `${text} · ${formatTime(probe.timestamp)}` : "no reading yet")
      .toggleClass("stale", age !== null && age > STALE_S);
  });
}

function renderBanners() {
  const faults = ((page.state && page.state.faults) || []).filter((fault) => fault.active !== false);
  const $banner = $("#fault-banner");
  if (faults.length) {
    const $list = $("<ul>");
    for (const fault of faults) {
      const source = probeIds().includes(fault.source) ? `${probeName(fault.source)} probe`
        : relayIds().includes(fault.source) ? relayName(fault.source) : capitalise(fault.source || "");
      $list.append($("<li>").text(
        `${source}: ${fault.message || fault.code}${fault.since ? ` (since ${formatTime(fault.since)})` : ""}`,
      ));
    }
    $banner.empty()
      .append($("<strong>").text(faults.length === 1 ? "⚠ Fault" : `⚠ ${faults.length} faults`))
      .append($list)
      .prop("hidden", false);
  } else {
    $banner.prop("hidden", true).empty();
  }
  const offline = page.device && page.device.online === false;
  $("#offline-banner")
    .prop("hidden", !offline)
    .text(offline
      ? `The fermenter is offline${page.device.last_seen ? ` (last seen ${formatTime(page.device.last_seen)})` : ""}. The values below are the last known; controls will fail until it is back.`
      : "");
}

function renderThermostat() {
  const thermostat = (page.state && page.state.thermostat) || {};
  $("#target-value").text(formatWithUnit(thermostat.target));
  const action = thermostat.action || "off";
  $("#action").attr("data-action", action).text(capitalise(action));
  $("#reason").text(thermostat.reason || (thermostat.mode ? `Mode: ${modeName(thermostat.mode)}` : ""));
  const profile = thermostat.profile;
  const stateTime = page.state && Date.parse(page.state.timestamp);
  $("#profile").prop("hidden", !profile).text(describeRunning(profile, stateTime || deviceNow()));
  // The daemon's limits (°C) in the shown unit, rounded inwards to the input's 0.1 steps.
  const limits = (page.info && page.info.thermostat) || {};
  // Only the modes this fermenter's relays can run: a heat belt alone cannot cool.
  const modes = runnableModes(page.info && page.info.thermostat);
  offerModes(document.getElementById("mode-select"), modes);
  setProfileDevice(page.device && page.device.id, {
    running: Boolean(profile && !profile.finished), profile, limits, mode: thermostat.mode, modes,
  });
  $("#target-unit").text(unitSymbol());
  $("#target-input").attr({
    min: (Math.ceil(toShown(limits.min_target ?? -5) * 10) / 10).toFixed(1),
    max: (Math.floor(toShown(limits.max_target ?? 40) * 10) / 10).toFixed(1),
  });
  if (!page.editingThermostat) {
    if (thermostat.mode && modes.includes(thermostat.mode)) $("#mode-select").val(thermostat.mode);
    if (thermostat.target !== null && thermostat.target !== undefined) {
      $("#target-input").val(formatShown(thermostat.target, 1));
    }
  }
}

function renderRelays() {
  const $relays = $("#relays");
  const ids = relayIds();
  if (!ids.length) {
    $relays.text("This fermenter has no relays.");
    return;
  }
  for (const id of ids) {
    let $row = $relays.children().filter((_, element) => $(element).data("relay") === id);
    if (!$row.length) {
      $relays.children(":not(.relay)").remove();
      const inputId = `relay-${id}`;
      $row = $(`<div class="relay">
          <label class="name"></label>
          <span class="switch"><input type="checkbox" role="switch"><span class="track" aria-hidden="true"></span></span>
          <span class="onoff" aria-hidden="true"></span>
          <p class="why"></p>
        </div>`).addClass(id).data("relay", id);
      $row.find("label").attr("for", inputId).text(relayName(id));
      $row.find("input").attr({ id: inputId, "data-relay": id, "aria-describedby": `${inputId}-why` })
        .on("change", function onToggle() { switchRelay(id, this.checked, $(this)); });
      $row.find(".why").attr("id", `${inputId}-why`);
      $relays.append($row);
    }
    const relay = (page.state && page.state.relays && page.state.relays[id]) || {};
    const byThermostat = relay.controlled_by === "thermostat";
    const $input = $row.find("input");
    if (!page.pendingRelays.has(id)) {
      $input.prop("checked", Boolean(relay.on));
      $input.prop("disabled", byThermostat || page.device?.online === false);
    }
    $row.find(".onoff").attr("data-on", String(Boolean(relay.on))).text(relay.on ? "ON" : "off");
    let why = "";
    if (byThermostat) {
      why = `Driven by the thermostat (mode ${modeName(page.state.thermostat?.mode)}). Set the mode to Off to switch it by hand.`;
    } else if (page.device?.online === false) {
      why = "The fermenter is offline.";
    } else if (relay.locked_for_s > 0 && !relay.on) {
      why = `Resting: it may switch on again in ${Math.ceil(relay.locked_for_s)} s.`;
    }
    $row.find(".why").text(why);
  }
}

function renderCamera() {
  const hasCamera = !page.info || page.info.camera !== false;
  $("#camera-card, #gallery-card").prop("hidden", !hasCamera);
  const video = !page.info || !page.info.capabilities || page.info.capabilities.includes("video");
  $("#video-button, #video-seconds").prop("disabled", !video);
}

function renderAll() {
  renderBanners();
  renderProbes();
  renderThermostat();
  renderRelays();
  renderCamera();
}

function showPhoto(media) {
  if (!media || !media.id || !page.device) return;
  page.latestPhotoId = media.id;
  $("#photo").attr("src", mediaUrl(page.device.id, media)).attr("data-media-id", media.id);
  $("#photo-caption").text(`Photo taken ${formatTime(media.timestamp)}`);
  $("#photo-figure").prop("hidden", false);
}

function showVideo(media) {
  if (!media || !media.id || !page.device) return;
  const size = media.size ? ` · ${(media.size / 1e6).toFixed(1)} MB` : "";
  $("#video-link").empty().prop("hidden", false)
    .append($("<a>").attr({ href: mediaUrl(page.device.id, media), download: "" })
      .text(`Video of ${formatTime(media.timestamp)}${size}`));
}

function renderEvents() {
  const $list = $("#events").empty();
  if (!page.events.length) {
    $list.append($("<li>").text("None in the last 24 hours."));
    return;
  }
  for (const event of page.events.slice(0, 30)) {
    $list.append($("<li>")
      .append($("<time>").attr("datetime", event.timestamp).text(formatTime(event.timestamp)))
      .append(document.createTextNode(describeEvent(event))));
  }
}

// ---- status lines for the controls -----------------------------------------

function status(selector, kind, text) {
  $(selector).attr("data-kind", kind).text(text);
}

// ---- data ------------------------------------------------------------------

function applyDevice(entry) {
  page.device = entry;
  if (entry.device) page.info = entry.device;
  if (entry.state) applyState(entry.state);
  else renderAll();
}

function applyState(state) {
  page.state = state;
  page.receivedAt = Date.now();
  renderAll();
  const photo = state.latest_photo;
  if (photo && photo.id && photo.id !== page.latestPhotoId && !page.photoPending) {
    refreshMedia(); // the service's media list has the URL it serves the photo at
  }
}

// "Now" by the device's clock (see common.js).
function deviceNow() {
  return deviceClock(page.state, page.receivedAt);
}

function windowQuery(days = 1) {
  const now = deviceNow();
  return query({
    start: new Date(now - days * DAY_MS).toISOString(),
    end: new Date(now + 3600 * 1000).toISOString(),
  });
}

async function refreshDevice() {
  if (!page.device) return;
  const asked = page.device.id;
  const pushed = page.statesPushed;
  try {
    const entry = await api(deviceUrl(asked));
    if (page.device?.id !== asked) return; // another fermenter was chosen meanwhile
    // A state pushed while this one was on its way is the newer one: it stays.
    applyDevice(page.statesPushed === pushed ? entry : { ...entry, state: null });
    showPageError("");
  } catch (error) {
    showPageError(`Could not update: ${describeError(error)}`);
  }
}

async function refreshMedia() {
  if (!page.device) return [];
  try {
    const device = page.device.id;
    // A brew session's photos when it runs (or a past one was picked), else the last days.
    const span = gallerySpan();
    const range = span
      ? query({ start: span.start, end: span.end || new Date(deviceNow() + 3600 * 1000).toISOString() })
      : windowQuery(MEDIA_DAYS);
    const media = await api(deviceUrl(device, `/media${range}`));
    if (!page.device || page.device.id !== device) return []; // another fermenter was chosen meanwhile
    const sorted = [...media].sort((a, b) => Date.parse(b.timestamp) - Date.parse(a.timestamp));
    renderGallery(device, sorted);
    const photo = sorted.find((item) => item.kind === "photo");
    if (photo && photo.id !== page.latestPhotoId) showPhoto(photo);
    if (page.waitingVideo?.device === device) {
      const video = sorted.find((item) => item.id === page.waitingVideo.id);
      if (video) {
        page.waitingVideo = null;
        status("#camera-status", "ok", "Video ready.");
        $("#video-button").prop("disabled", false);
        showVideo(video);
      }
    }
    return sorted;
  } catch (error) {
    return [];
  }
}

// Events have no id: one pushed and the same one fetched have the same time, kind
// and data (whose keys may come in another order).
function eventKey(event) {
  const canonical = (value) => {
    if (Array.isArray(value)) return value.map(canonical);
    if (value && typeof value === "object") {
      return Object.fromEntries(Object.keys(value).sort().map((key) => [key, canonical(value[key])]));
    }
    return value;
  };
  return JSON.stringify([Date.parse(event.timestamp), event.kind, canonical(event.data ?? {})]);
}

async function refreshEvents() {
  if (!page.device) return;
  const device = page.device.id;
  // An event pushed while the answer is on its way may be missing from it (the
  // service answered before storing it), or in it too: kept, once.
  const pushed = [];
  page.eventPushes.add(pushed);
  const asked = ++page.eventsAsked;
  try {
    const events = await api(deviceUrl(device, `/events${windowQuery()}`));
    if (page.device?.id !== device) return; // another fermenter was chosen meanwhile
    if (asked < page.eventsShown) return; // a later request's answer (polling) came first
    page.eventsShown = asked;
    const answered = new Set(events.map(eventKey));
    page.events = [...events, ...pushed.filter((event) => !answered.has(eventKey(event)))]
      .sort((a, b) => Date.parse(b.timestamp) - Date.parse(a.timestamp));
    renderEvents();
  } catch (error) {
    // The events list is a nicety; the rest of the page still works.
  } finally {
    page.eventPushes.delete(pushed);
  }
}

// ---- live push and the polling fallback --------------------------------------

function pollSeconds() {
  return Number($("#poll-interval").val()) || 0;
}

function updatePolling() {
  window.clearInterval(page.pollTimer);
  page.pollTimer = null;
  const seconds = pollSeconds();
  if (page.live) {
    setLiveStatus("live", "Live");
  } else if (seconds > 0) {
    page.pollTimer = window.setInterval(() => {
      refreshDevice(); refreshEvents(); refreshSessions(); refreshGravity();
    }, seconds * 1000);
    setLiveStatus("polling", `Updating every ${seconds} s`);
  } else {
    setLiveStatus("offline", "Not updating");
  }
}

function startLive() {
  page.liveLink = connectLive({
    // Only the shown fermenter's state is pushed to this page.
    watching: () => (page.device ? [page.device.id] : []),
    onStatus(connected) {
      if (connected === page.live) return;
      page.live = connected;
      updatePolling();
      // Catch up on what happened while away (events too: none was pushed meanwhile).
      if (connected) { refreshDevice(); refreshEvents(); refreshGravity(); }
    },
    onDevice(message) {
      if (!page.device || message.device !== page.device.id) return;
      page.device.online = message.online;
      if (message.info) page.info = message.info;
      renderAll();
    },
    onState(message) {
      if (!page.device || message.device !== page.device.id) return;
      page.statesPushed += 1;
      applyState(message.state);
    },
    onEvent(message) {
      if (!page.device || message.device !== page.device.id) return;
      for (const pushed of page.eventPushes) pushed.push(message.event);
      page.events.unshift(message.event);
      renderEvents();
      if (["photo", "video"].includes(message.event.kind)) refreshMedia();
    },
    // A hydrometer's reading, as soon as the service stored it.
    onGravity: applyGravityPush,
    // A session started, edited or ended in another browser (or by the API).
    onSession(message) {
      sessionChanged(message.session);
    },
    // A saved profile changed in another page (or by the API).
    onProfile: profileChanged,
  });
}

// ---- controls ----------------------------------------------------------------

async function switchRelay(id, on, $input) {
  page.pendingRelays.add(id);
  $input.prop("disabled", true);
  status("#relay-status", "progress", `Switching ${relayName(id).toLowerCase()} ${on ? "on" : "off"}…`);
  const device = page.device.id;
  try {
    await api(deviceUrl(device, `/relays/${encodeURIComponent(id)}`), { method: "POST", body: { on } });
    status("#relay-status", "ok", `${relayName(id)} is ${on ? "on" : "off"}.`);
    // Not into another fermenter's state (one chosen meanwhile may have a relay of that name).
    if (page.device?.id === device && page.state?.relays?.[id]) page.state.relays[id].on = on;
  } catch (error) {
    $input.prop("checked", !on);
    status("#relay-status", "error", `${relayName(id)} not switched: ${describeError(error)}`);
  } finally {
    page.pendingRelays.delete(id);
    renderRelays();
  }
}

async function setThermostat(submitEvent) {
  submitEvent.preventDefault();
  const body = { mode: $("#mode-select").val() };
  const targetText = String($("#target-input").val()).trim();
  if (targetText !== "") {
    const target = Number(targetText);
    const input = document.getElementById("target-input");
    if (!Number.isFinite(target) || !input.checkValidity()) {
      status("#thermostat-status", "error",
        `The target must be a number between ${input.min} and ${input.max} ${unitSymbol()}.`);
      return;
    }
    // Sent as typed, with its unit: the service converts °F to °C.
    body.target = target;
    body.unit = temperatureUnit();
  }
  $("#thermostat-apply").prop("disabled", true);
  status("#thermostat-status", "progress", "Setting the thermostat…");
  const editsSent = page.thermostatEdits;
  const device = page.device.id;
  try {
    const answer = await api(deviceUrl(device, "/thermostat"), { method: "POST", body });
    const thermostat = (answer && answer.thermostat) || body;
    status("#thermostat-status", "ok",
      `Thermostat set: ${modeName(thermostat.mode)}, target ${formatWithUnit(answer?.thermostat ? thermostat.target : fromShown(thermostat.target))}.`);
    // Another fermenter chosen meanwhile: its state and its form are not this answer's.
    if (page.device?.id !== device) return;
    // Typed while the request was on its way: newer than what was set, so it stays.
    if (page.thermostatEdits === editsSent) page.editingThermostat = false;
    if (page.state && answer && answer.thermostat) {
      page.state.thermostat = answer.thermostat;
      renderAll();
    }
  } catch (error) {
    status("#thermostat-status", "error", `Not set: ${describeError(error)}`);
  } finally {
    $("#thermostat-apply").prop("disabled", false);
  }
}

async function takePhoto() {
  const $button = $("#photo-button").prop("disabled", true);
  page.photoPending = true;
  status("#camera-status", "progress", "Taking a photo…");
  const device = page.device.id;
  try {
    const media = await api(deviceUrl(device, "/photo"), { method: "POST", body: {} });
    if (page.device?.id === device) showPhoto(media); // not as another fermenter's photo
    status("#camera-status", "ok", `Photo taken ${formatTime(media.timestamp)}.`);
  } catch (error) {
    status("#camera-status", "error", `No photo: ${describeError(error)}`);
  } finally {
    page.photoPending = false;
    $button.prop("disabled", false);
  }
}

// A video of another fermenter than the one shown is not waited for, reported
// missing or shown as this one's: the status says where it will be.
function videoElsewhere(waiting, ready) {
  status("#camera-status", "ok", ready
    ? `The video of ${waiting.name} is ready, among that fermenter's photos and videos.`
    : `Recording the ${waiting.seconds} s video of ${waiting.name}: it will be among that fermenter's photos and videos.`);
}

async function recordVideo() {
  const input = document.getElementById("video-seconds");
  const seconds = Number(input.value);
  // Emptied, the input is "valid" (it is optional) and Number("") is 0: no length.
  if (input.value.trim() === "" || !Number.isInteger(seconds) || !input.checkValidity()) {
    status("#camera-status", "error", `The video length must be a whole number of seconds from ${input.min} to ${input.max}.`);
    return;
  }
  const $button = $("#video-button").prop("disabled", true);
  status("#camera-status", "progress", `Asking for a ${seconds} s video…`);
  const device = page.device.id;
  const name = page.device.name || device;
  try {
    const media = await api(deviceUrl(device, "/video"), { method: "POST", body: { seconds } });
    const waiting = { device, name, id: media.id, seconds };
    if (page.device?.id !== device) {
      videoElsewhere(waiting, media.ready !== false); // another fermenter was chosen meanwhile
      $button.prop("disabled", false);
    } else if (media.ready === false) {
      page.waitingVideo = waiting;
      status("#camera-status", "progress", `Recording a ${seconds} s video…`);
      // The "event" push says when it is ready; poll the media list as well. A
      // switch to another fermenter (selectDevice) ends the wait.
      const started = Date.now();
      const check = async () => {
        if (page.waitingVideo !== waiting) return;
        await refreshMedia();
        if (page.waitingVideo !== waiting) return;
        if (Date.now() - started < (seconds + 60) * 1000) {
          window.setTimeout(check, 2000);
        } else {
          page.waitingVideo = null;
          $button.prop("disabled", false);
          status("#camera-status", "error", "The video did not arrive; look for it on the trend page later.");
        }
      };
      window.setTimeout(check, Math.min(seconds * 1000, 5000));
    } else {
      status("#camera-status", "ok", "Video ready.");
      showVideo(media);
      $button.prop("disabled", false);
    }
  } catch (error) {
    status("#camera-status", "error", `No video: ${describeError(error)}`);
    $button.prop("disabled", false);
  }
}

// Another unit: a target being typed is converted with it, everything else is
// drawn again from the °C values the page holds.
function changeUnit(previous) {
  refreshProfileUnits(previous);
  const typed = String($("#target-input").val()).trim();
  if (page.editingThermostat && typed !== "" && Number.isFinite(Number(typed))) {
    $("#target-input").val(formatShown(fromShown(typed, previous), 1));
  }
  renderAll();
  renderEvents();
  renderGravity(); // its temperatures
  refreshSessionUnits(); // the CSV links
}

// ---- start -------------------------------------------------------------------

async function selectDevice(entry) {
  if (page.waitingVideo && page.waitingVideo.device !== entry?.id) {
    videoElsewhere(page.waitingVideo, false);
    $("#video-button").prop("disabled", false);
    page.waitingVideo = null;
  }
  // A target typed for the last fermenter is not this one's: the form shows this one's.
  Object.assign(page, {
    device: null, info: null, state: null, latestPhotoId: null, events: [], editingThermostat: false,
  });
  $("#probes, #relays").empty();
  $("#photo-figure, #video-link").prop("hidden", true);
  renderGallery(null, []);
  if (!entry) {
    setProfileDevice(null);
    await selectSessionDevice(null);
    await selectGravityDevice(null);
    page.liveLink?.rewatch();
    return;
  }
  document.title = `BeerPi · ${entry.name || entry.id}`;
  applyDevice(entry);
  page.liveLink?.rewatch(); // live pushes for this fermenter only
  await selectSessionDevice(entry.id);
  await Promise.all([refreshMedia(), refreshEvents(), selectGravityDevice(entry.id)]);
}

async function start() {
  try {
    await ensureSession();
    const saved = window.localStorage.getItem("beerpi.poll");
    if (saved !== null && $("#poll-interval option").filter((_, option) => option.value === saved).length) {
      $("#poll-interval").val(saved);
    }
    $("#poll-interval").on("change", () => {
      window.localStorage.setItem("beerpi.poll", String(pollSeconds()));
      updatePolling();
    });
    $("#thermostat-form").on("submit", setThermostat);
    setupUnitPicker(changeUnit);
    $("#mode-select, #target-input").on("input change", () => {
      page.editingThermostat = true;
      page.thermostatEdits += 1;
    });
    $("#photo-button").on("click", takePhoto);
    $("#video-button").on("click", recordVideo);
    setupAlerts(); // its own status line; the page does not wait for it
    const profilesLoaded = setupProfiles({ deviceNow });
    const { devices, chosen } = await loadDevices((entry) => selectDevice(entry));
    setupSessions({ devices, onSpanChange: () => refreshMedia() });
    setupGravity();
    await selectDevice(chosen);
    updatePolling();
    startLive();
    window.setInterval(renderAges, 1000);
    await profilesLoaded;
    document.body.dataset.ready = "1";
  } catch (error) {
    showPageError(`BeerPi could not start: ${describeError(error)}`);
    document.getElementById("app").hidden = false;
  }
}

$(start);
