// The current page's profile editor: build a fermentation profile from hold and
// The current page's profile editor: build a fermentation profile from hold and
// ramp steps, see its target drawn ahead of time, start it on the fermenter; pause,
// resume, skip a step of and stop the running one. A few built-in profiles to
// start from; the brewer's own are saved on the
// service (api/profiles, checked with the daemon's step rules) and listed in
// every open page, kept in step by the live "profile" push. Profiles an older
// page saved in this browser (localStorage) move to the service on first load;
// any the service refuses stay in the browser, listed apart, so none is lost.
// Targets are typed in the shown unit and sent in °C; the daemon checks every
// step again when one starts.

import { api, describeError, deviceUrl } from "./api.js";
import { offerModes } from "./common.js";
import { formatTime, formatDuration, modeName } from "./format.js";
import {
  formatShown, fromShown, gravityFromShown, gravityToShown, unitSymbol,
  GRAVITY_UNITS, gravityUnit, setupGravityPicker,
} from "./units.js";

const $ = window.jQuery;
const SAVED_KEY = "beerpi.profiles";
const MAX_STEPS = 50; // the daemon's limit (pi_daemon/control/profile.py)
const MAX_STEP_HOURS = 8760; // and a step's (beerpi_protocol/profiles.py): a year

// Starting points in °C and hours, from common practice for each style.
export const BUILT_IN = [
  { name: "Ale", steps: [
    { kind: "hold", target: 19, hours: 96 },
    { kind: "ramp", target: 21, hours: 24 }, // free rise to finish attenuation
    { kind: "hold", target: 21, hours: 72 },
  ] },
  { name: "Lager with diacetyl rest", steps: [
    { kind: "hold", target: 10, hours: 168 },
    { kind: "ramp", target: 16, hours: 24 },
    { kind: "hold", target: 16, hours: 48 }, // diacetyl rest
    { kind: "ramp", target: 2, hours: 48 },
    { kind: "hold", target: 2, hours: 336 }, // lagering
  ] },
  { name: "Cold crash", steps: [
    { kind: "ramp", target: 2, hours: 24 },
    { kind: "hold", target: 2, hours: 72 },
  ] },
];

// running: the profile the fermenter runs now (paused, step), null when none runs.
// heard: while the service's list is on its way, the changes heard meanwhile.
// limits: the fermenter's target range in °C (its thermostat's min_target/max_target).
const editor = {
  deviceId: null, deviceNow: () => Date.now(), service: [], running: null, heard: null,
  limits: { min: -5, max: 40 },
  mode: null, // the fermenter's thermostat mode now ("The current mode")
};

function status(kind, text) {
  $("#profile-status").attr("data-kind", kind).text(text);
}

// Profiles an older page saved in this browser (and any the service refused).
function local() {
  try {
    const list = JSON.parse(window.localStorage.getItem(SAVED_KEY) || "[]");
    return Array.isArray(list) ? list.filter((p) => p && typeof p.name === "string" && Array.isArray(p.steps)) : [];
  } catch {
    return [];
  }
}

// The choices: built-in ("b<index>"), saved on the service ("s<id>") and left
// in this browser ("l<index>"); the current choice stays chosen if it still exists.
function fillChoices() {
  const $select = $("#profile-choice");
  const current = String($select.val() || "");
  $select.empty().append($("<option>").val("").text("New profile"));
  const group = (label, profiles, value) => {
    const $group = $("<optgroup>").attr("label", label);
    profiles.forEach((profile, index) => $group.append($("<option>").val(value(profile, index)).text(profile.name)));
    if (profiles.length) $select.append($group);
  };
  group("Built in", BUILT_IN, (_, index) => `b${index}`);
  group("Saved", editor.service, (profile) => `s${profile.id}`);
  group("Saved in this browser only", local(), (_, index) => `l${index}`);
  $select.val(current);
  if ($select.val() !== current) $select.val("");
  $("#profile-delete").prop("hidden", !chosenService());
}

// The saved profile chosen in the list, if one is.
function chosenService() {
  const value = String($("#profile-choice").val() || "");
  return value.startsWith("s") ? editor.service.find((p) => p.id === value.slice(1)) : undefined;
}

function keepSorted(list) {
  return list.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

// A profile saved, renamed or deleted here or in another page (the live push).
export function profileChanged(message) {
  if (!message) return;
  editor.heard?.push(message);
  const gone = message.deleted ?? message.profile?.id;
  editor.service = editor.service.filter((p) => p.id !== gone);
  if (message.profile && Array.isArray(message.profile.steps)) editor.service.push(message.profile);
  keepSorted(editor.service);
  fillChoices();
}

async function loadService() {
  const heard = [];
  editor.heard = heard;
  try {
    const list = await api("api/profiles");
    editor.service = keepSorted(Array.isArray(list) ? list : []);
    editor.heard = null;
    // A change heard while the list was on its way may be newer than the list.
    heard.forEach(profileChanged);
  } catch (error) {
    return false; // not logged in (or offline): the built-in ones and the browser's still show
  } finally {
    editor.heard = null;
    fillChoices();
  }
  return true;
}

function sameSteps(a, b) {
  const key = (steps) => JSON.stringify(steps.map((s) => [s.kind, Math.round(s.target * 100), s.hours, s.until_sg ?? null, s.stable_within ?? null]));
  return key(a) === key(b);
}

// Profiles saved in this browser by an older page move to the service; one it
// refuses (a bad step, a name taken by other steps, no login) stays here.
async function migrateLocal() {
  const list = local();
  if (!list.length) return;
  const left = [];
  for (const profile of list) {
    const there = editor.service.find((p) => p.name === profile.name);
    if (there && sameSteps(there.steps, profile.steps)) continue;
    try {
      profileChanged({ profile: await api("api/profiles", { method: "POST", body: bodyOf(profile) }) });
    } catch (error) {
      left.push(profile);
    }
  }
  if (left.length) window.localStorage.setItem(SAVED_KEY, JSON.stringify(left));
  else window.localStorage.removeItem(SAVED_KEY);
  fillChoices();
}

function stepRow(step) {
  const $kind = $("<select>").addClass("step-kind").attr("aria-label", "Step")
    .append($("<option>").val("hold").text("Hold"), $("<option>").val("ramp").text("Ramp to"))
    .val(step.kind === "ramp" ? "ramp" : "hold");
  const $target = $("<input>").addClass("step-target").attr({
    type: "number", step: "0.1", inputmode: "decimal", required: true, "aria-label": "Target",
  }).val(step.target === undefined ? "" : formatShown(step.target, 1));
  const days = step.hours !== undefined && step.hours % 24 === 0 && step.hours > 0;
  const $length = $("<input>").addClass("step-length").attr({
    type: "number", min: "0.1", step: "0.1", required: true, "aria-label": "Length",
  }).val(step.hours === undefined ? "" : String(days ? step.hours / 24 : step.hours));
  const $per = $("<select>").addClass("step-per").attr("aria-label", "Length unit")
    .append($("<option>").val("h").text("hours"), $("<option>").val("d").text("days"))
    .val(days ? "d" : "h");
  const $remove = $("<button>").attr({ type: "button", "aria-label": "Remove step" })
    .addClass("secondary").text("✕").on("click", () => { $row.remove(); changed(); });
  const ends = step.until_sg != null ? "sg" : step.stable_within != null ? "stable" : "time";
  const $ends = $("<select>").addClass("step-ends").attr("aria-label", "Ends")
    .append(
      $("<option>").val("time").text("after its length"),
      $("<option>").val("sg").text("at gravity ≤ (or its length)"),
      $("<option>").val("stable").text("when gravity is steady 24 h (or its length)"),
    ).val(ends);
  // In the Gravity picker's unit, named beside the box as the target's is.
  const $sg = $("<input>").addClass("step-sg").attr({ type: "number", inputmode: "decimal" })
    .val(step.until_sg != null ? gravityToShown(step.until_sg) : "");
  const $sgUnit = $("<span>").addClass("step-sg-unit");
  // Numbered (changed() counts them) as the summary's "step 2: ..." names them.
  const $row = $("<li>").addClass("profile-step")
    .append($("<span>").addClass("step-number").attr("aria-hidden", "true"), $kind, $target, $("<span>").addClass("step-unit").text(unitSymbol()), $length, $per, $ends, $sg, $sgUnit, $remove);
  const showEnds = () => {
    const hold = $kind.val() === "hold";
    $ends.prop("hidden", !hold);
    $sg.add($sgUnit).prop("hidden", !hold || $ends.val() !== "sg");
  };
  $kind.on("change", showEnds);
  $ends.on("change", showEnds);
  showEnds();
  showGravityUnit($row);
  return $row;
}

function load(profile) {
  $("#profile-name").val(profile ? profile.name : "");
  $("#profile-steps").empty().append((profile ? profile.steps : [{ kind: "hold" }]).map(stepRow));
  changed();
}

// The steps as typed, in °C and hours; throws with the brewer's mistake.
function readSteps() {
  const steps = [];
  $("#profile-steps .profile-step").each(function read(index) {
    const where = `step ${index + 1}`;
    const typed = String($(this).find(".step-target").val() || "").trim();
    const target = typed === "" ? null : fromShown(typed);
    const length = Number($(this).find(".step-length").val());
    if (target === null) throw new Error(`${where}: give a target`);
    // Checked here, in the shown unit and counting from 1, not left to the service's
    // "steps[0].target must be between -2 and 35 °C".
    const { min, max } = editor.limits;
    if (target < min - 0.005 || target > max + 0.005) {
      throw new Error(`${where}: give a target from ${formatShown(min, 1)} to ${formatShown(max, 1)} ${unitSymbol()}`);
    }
    if (!Number.isFinite(length) || length <= 0) throw new Error(`${where}: give a length above 0`);
    const hours = $(this).find(".step-per").val() === "d" ? length * 24 : length;
    if (hours > MAX_STEP_HOURS) throw new Error(`${where}: at most ${MAX_STEP_HOURS / 24} days (${MAX_STEP_HOURS} hours)`);
    const step = { kind: $(this).find(".step-kind").val(), target, hours };
    const ends = step.kind === "hold" ? $(this).find(".step-ends").val() : "time";
    if (ends === "sg") {
      const typed = String($(this).find(".step-sg").val() || "").trim();
      const sg = typed === "" ? null : gravityFromShown(typed);
      if (sg === null || !(sg >= 0.99 && sg <= 1.2)) throw new Error(`${where}: give the gravity it ends at`);
      step.until_sg = Math.round(sg * 10000) / 10000;
    } else if (ends === "stable") {
      Object.assign(step, { stable_within: 0.001, stable_hours: 24 });
    }
    steps.push(step);
  });
  if (!steps.length) throw new Error("add at least one step");
  if (steps.length > MAX_STEPS) throw new Error(`at most ${MAX_STEPS} steps`);
  return steps;
}

function readProfile() {
  const name = String($("#profile-name").val() || "").trim();
  if (!name) throw new Error("give the profile a name");
  return { name, steps: readSteps() };
}

// The target over time, drawn from now (or the running profile's start) ahead.
function drawPreview(steps, startTarget) {
  const svg = document.getElementById("profile-preview");
  svg.replaceChildren();
  const total = steps.reduce((sum, step) => sum + step.hours, 0);
  if (!total) return;
  // Drawn at the size shown (600 while the card is hidden): scaled down from a
  // fixed 600 on a phone, its 11 px labels were 6 px.
  const [width, height, pad] = [Math.round(svg.getBoundingClientRect().width) || 600, 120, 14];
  const points = [[0, startTarget ?? steps[0].target]];
  let at = 0;
  for (const step of steps) {
    // A hold jumps to its target; a ramp slopes to it from where the last step ended.
    if (step.kind === "hold" && points[points.length - 1][1] !== step.target) points.push([at, step.target]);
    at += step.hours;
    points.push([at, step.target]);
  }
  const temps = points.map((p) => p[1]);
  const [low, high] = [Math.min(...temps) - 1, Math.max(...temps) + 1];
  const x = (hours) => pad + (hours / total) * (width - 2 * pad);
  const y = (celsius) => height - pad - ((celsius - low) / (high - low)) * (height - 2 * pad);
  const line = document.createElementNS(svg.namespaceURI, "polyline");
  line.setAttribute("points", points.map(([h, c]) => `${x(h).toFixed(1)},${y(c).toFixed(1)}`).join(" "));
  line.setAttribute("class", "profile-line");
  svg.append(line);
  for (const [h, c] of points.slice(1)) {
    const label = document.createElementNS(svg.namespaceURI, "text");
    label.setAttribute("x", x(h).toFixed(1));
    label.setAttribute("y", (y(c) - 4).toFixed(1));
    label.setAttribute("text-anchor", h === total ? "end" : "middle");
    label.textContent = `${formatShown(c, 1)}`;
    svg.append(label);
  }
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.dataset.points = String(points.length);
}

// The steps' gravity boxes (in ``$within``): their unit beside them and in their label.
function showGravityUnit($within) {
  const unit = gravityUnit();
  $within.find(".step-sg-unit").text(GRAVITY_UNITS[unit]);
  $within.find(".step-sg").attr({
    "aria-label": `Ends at ${GRAVITY_UNITS[unit]}`, step: unit === "P" ? "0.1" : "0.001",
  });
}

// Another gravity unit: what is typed in the steps' boxes converts with it.
function changeGravityUnit(previous) {
  for (const input of document.querySelectorAll("#profile-steps .step-sg")) {
    const sg = gravityFromShown(input.value, previous);
    if (sg !== null) input.value = gravityToShown(sg);
  }
  showGravityUnit($("#profile-steps"));
  changed();
}

function changed() {
  $("#profile-steps .step-number").each(function number(index) { $(this).text(`${index + 1}.`); });
  $(".step-unit").text(unitSymbol());
  try {
    const steps = readSteps();
    const total = steps.reduce((sum, step) => sum + step.hours, 0);
    const ends = new Date(editor.deviceNow() + total * 3600 * 1000);
    const early = steps.some((step) => step.until_sg != null || step.stable_within != null);
    $("#profile-summary").text(`${steps.length} step${steps.length === 1 ? "" : "s"}, ${early ? "at most " : ""}${formatDuration(total * 3600)}; started now it ends ${early ? "by " : ""}${formatTime(ends.toISOString())}.`);
    drawPreview(steps);
  } catch (error) {
    $("#profile-summary").text(error.message);
    document.getElementById("profile-preview").replaceChildren();
  }
}

// In °C to 0.01 (what the daemon keeps); typed °F converts exactly enough.
function bodyOf(profile) {
  return {
    name: profile.name,
    unit: "C",
    steps: profile.steps.map((s) => ({ ...s, target: Math.round(s.target * 100) / 100 })),
  };
}

async function start(submitEvent) {
  submitEvent.preventDefault();
  if (!editor.deviceId) return;
  let profile;
  try {
    profile = readProfile();
  } catch (error) {
    status("error", error.message);
    return;
  }
  const body = bodyOf(profile);
  // Both requests go to the fermenter Start was clicked for, with the mode chosen
  // then: another one may be chosen while the first is on its way.
  const device = editor.deviceId;
  const mode = String($("#profile-mode").val());
  status("progress", "Starting…");
  try {
    await api(deviceUrl(device, "/profile"), { method: "PUT", body });
    if (mode) await api(deviceUrl(device, "/thermostat"), { method: "POST", body: { mode } });
    if (!mode && editor.mode === "off" && device === editor.deviceId) {
      status("warn", `Profile “${profile.name}” started, but the thermostat is off: nothing heats or cools the beer until you choose a mode.`);
    } else {
      status("ok", `Profile “${profile.name}” started.`);
    }
  } catch (error) {
    status("error", describeError(error)); // the editor keeps what was typed
  }
}

async function stop() {
  if (!editor.deviceId || !window.confirm("Stop the running profile? The target stays where it is.")) return;
  status("progress", "Stopping…");
  try {
    await api(deviceUrl(editor.deviceId, "/profile"), { method: "DELETE" });
    status("ok", "Profile stopped.");
  } catch (error) {
    status("error", describeError(error));
  }
}

// Pause, resume and skip: the daemon answers with its thermostat, and its state push
// redraws the running profile's line and these buttons.
async function pauseOrResume() {
  const running = editor.running;
  if (!editor.deviceId || !running) return;
  const resuming = running.paused;
  status("progress", resuming ? "Resuming…" : "Pausing…");
  try {
    await api(deviceUrl(editor.deviceId, resuming ? "/profile/resume" : "/profile/pause"), { method: "POST", body: {} });
    status("ok", resuming ? "Profile resumed." : "Profile paused: the target holds until you resume.");
  } catch (error) {
    status("error", describeError(error));
  }
}

async function skipStep() {
  const running = editor.running;
  if (!editor.deviceId || !running) return;
  const number = running.step + 1;
  if (!window.confirm(`Skip step ${number}? The next step starts now.`)) return;
  status("progress", "Skipping…");
  try {
    // The step named: a second click after the skip does not skip the next one too.
    await api(deviceUrl(editor.deviceId, "/profile/skip"), { method: "POST", body: { step: running.step } });
    status("ok", number === running.count ? `Step ${number} skipped: the profile has finished.` : `Step ${number} skipped.`);
  } catch (error) {
    status("error", describeError(error));
  }
}

// Saves on the service: the chosen saved profile is replaced (renamed if its
// name was changed), else the one of that name, else a new one is made.
async function save() {
  let profile;
  try {
    profile = readProfile();
  } catch (error) {
    status("error", error.message);
    return;
  }
  const chosen = chosenService();
  const replaced = chosen || editor.service.find((p) => p.name === profile.name);
  const choice = String($("#profile-choice").val() || "");
  const fromBrowser = choice.match(/^l(\d+)$/);
  status("progress", "Saving…");
  try {
    const answer = replaced
      ? await api(`api/profiles/${encodeURIComponent(replaced.id)}`, { method: "PUT", body: bodyOf(profile) })
      : await api("api/profiles", { method: "POST", body: bodyOf(profile) });
    if (fromBrowser) { // now on the service: no second copy in this browser
      const left = local().filter((_, index) => index !== Number(fromBrowser[1]));
      window.localStorage.setItem(SAVED_KEY, JSON.stringify(left));
    }
    // Another profile chosen while this one was saved stays chosen (it is in the
    // editor now): choosing the saved one would make the next Save overwrite it.
    const stillChosen = String($("#profile-choice").val() || "") === choice;
    profileChanged({ profile: answer });
    if (stillChosen) {
      $("#profile-choice").val(`s${answer.id}`);
      $("#profile-delete").prop("hidden", false);
    }
    const renamed = replaced && replaced.name !== answer.name ? ` (was “${replaced.name}”)` : "";
    status("ok", `Saved “${answer.name}”${renamed}.`);
  } catch (error) {
    status("error", describeError(error)); // the editor keeps what was typed
  }
}

async function remove() {
  const chosen = chosenService();
  if (!chosen || !window.confirm(`Delete the saved profile “${chosen.name}”?`)) return;
  try {
    await api(`api/profiles/${encodeURIComponent(chosen.id)}`, { method: "DELETE" });
    profileChanged({ deleted: chosen.id });
    status("ok", `Deleted “${chosen.name}”; the editor keeps its steps.`);
  } catch (error) {
    status("error", describeError(error));
  }
}

function choose() {
  const value = String($("#profile-choice").val() || "");
  const list = { b: BUILT_IN, l: local() }[value[0]];
  load(value.startsWith("s") ? chosenService() : value ? list[Number(value.slice(1))] : null);
  $("#profile-delete").prop("hidden", !chosenService());
}

// The running profile: which step, and when it and the whole profile end (the
// daemon's clock: a simulated fermenter may run fast).
export function describeRunning(profile, deviceTime) {
  if (!profile) return "";
  const count = (profile.steps || []).length;
  const head = `Profile “${profile.name}”, step ${(profile.step ?? 0) + 1} of ${count}`;
  if (profile.finished) return `${head} (finished)`;
  if (profile.paused) {
    return `${head}, paused: ${formatDuration(profile.step_time_left_s || 0)} of this step left once resumed`;
  }
  const at = (seconds) => formatTime(new Date(deviceTime + seconds * 1000).toISOString());
  return `${head}: this step ends ${at(profile.step_time_left_s || 0)}, the profile ${at(profile.total_time_left_s || 0)}`;
}

export function setProfileDevice(deviceId, {
  running = false, profile = null, limits = null, mode = null, modes = null,
} = {}) {
  editor.deviceId = deviceId;
  editor.mode = mode;
  // "Control with" offers only the modes the fermenter can run (and "The current mode").
  if (modes) offerModes(document.getElementById("profile-mode"), modes);
  // "The current mode" names it: "Off" means the profile's targets control nothing.
  $("#profile-mode option[value='']").text(mode ? `The current mode (${modeName(mode)})` : "The current mode");
  editor.limits = { min: limits?.min_target ?? -5, max: limits?.max_target ?? 40 };
  editor.running = running && profile
    ? { paused: Boolean(profile.paused), step: profile.step ?? 0, count: (profile.steps || []).length }
    : null;
  $("#profile-card").prop("hidden", !deviceId);
  $("#profile-stop").prop("hidden", !running);
  $("#profile-pause").prop("hidden", !editor.running)
    .text(editor.running && editor.running.paused ? "Resume profile" : "Pause profile");
  $("#profile-skip").prop("hidden", !editor.running);
}

// Another temperature unit: what is typed converts with it.
export function refreshProfileUnits(previous) {
  for (const input of document.querySelectorAll(".step-target")) {
    if (String(input.value).trim() === "") continue;
    const celsius = fromShown(input.value, previous);
    if (celsius !== null) input.value = formatShown(celsius, 1);
  }
  changed();
}

// Resolves once the service's profiles are shown and the browser's have moved.
export function setupProfiles({ deviceNow }) {
  editor.deviceNow = deviceNow;
  fillChoices();
  load(null);
  // A browser refusing to store (private mode, quota) must not stop the page.
  const loaded = loadService().then((ok) => (ok ? migrateLocal() : null)).catch(() => null);
  $("#profile-choice").on("change", choose);
  $("#profile-add").on("click", () => {
    $("#profile-steps").append(stepRow({ kind: "hold" }));
    changed();
  });
  $("#profile-steps").on("input change", changed);
  setupGravityPicker(changeGravityUnit);
  $("#profile-form").on("submit", start);
  $("#profile-save").on("click", save);
  $("#profile-delete").on("click", remove);
  $("#profile-stop").on("click", stop);
  $("#profile-pause").on("click", pauseOrResume);
  $("#profile-skip").on("click", skipStep);
  return loaded;
}
