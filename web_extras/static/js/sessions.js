// Brew sessions on the current page: which beer is in which fermenter, the shown
// fermenter's running session (start, edit, notes, end, export) and its past ones.
//
// Everything a brewer typed comes back from the service and reaches the DOM as
// text only (.text(), .val(), attributes built here), never as HTML.

import { api, describeError } from "./api.js";
import { formatTime } from "./format.js";
import {
  formatGravity, gravityFromShown, gravityToShown, gravityUnit, platoFromSg, setupGravityPicker,
  temperatureUnit, unitSymbol,
} from "./units.js";

const $ = window.jQuery;

const state = {
  onRender: () => {},   // called after each render (the gravity card needs the OG)
  deviceId: null,
  devices: [],          // GET api/devices entries, for the fermenters' names
  sessions: [],         // every session, the latest start first
  shown: null,          // the session whose photos the gallery shows (null: the last 30 days)
  formTouched: false,   // something typed in the form since it was filled: a push keeps it
  formEdits: 0,         // counts typing in the form: a save's refill keeps what came after it
  refreshing: new Set(), // per list asked for and not yet come: the pushes that came meanwhile
  onSpanChange: () => {},
};

function sessionUrl(id, rest = "") {
  return `api/sessions/${encodeURIComponent(id)}${rest}`;
}

function running(deviceId) {
  return state.sessions.find((s) => s.device === deviceId && s.running) || null;
}

// The running session of a fermenter (null if none), for the gravity card's OG.
export function runningSession(deviceId) {
  return running(deviceId);
}

// ``callback`` runs after every render of the sessions (a new OG, a session started).
export function whenSessionsRender(callback) {
  state.onRender = callback;
}

function status(kind, text) {
  $("#session-status").attr("data-kind", kind).text(text);
}

// Specific gravity is stored; the page shows and takes SG or °Plato (units.js).
function gravity(value) {
  return formatGravity(value);
}

// A number input's value as a specific gravity, null when empty.
function gravityInput(selector) {
  const text = String($(selector).val() || "").trim();
  return text === "" ? null : gravityFromShown(text);
}

// The OG/FG inputs' labels and limits in the shown unit (the store's 0.980–1.200 SG).
function showGravityUnit() {
  const plato = gravityUnit() === "P";
  $(".gravity-unit").text(plato ? " °P" : "");
  $(".gravity-input").attr(plato
    ? { min: (Math.ceil(platoFromSg(0.98) * 10) / 10).toFixed(1),
      max: (Math.floor(platoFromSg(1.2) * 10) / 10).toFixed(1), step: "0.1" }
    : { min: "0.980", max: "1.200", step: "0.001" });
}

// Another gravity unit: what is typed in the form is converted with it.
function changeGravityUnit(previous) {
  for (const input of document.querySelectorAll(".gravity-input")) {
    const sg = gravityFromShown(input.value, previous);
    if (sg !== null) input.value = gravityToShown(sg);
  }
  showGravityUnit();
  render();
}

function renderFermenters() {
  const $list = $("#fermenter-beers").empty();
  for (const device of state.devices) {
    const beer = running(device.id);
    const $item = $("<li>").attr("data-device", device.id);
    $item.append($("<span>").addClass("fermenter").text(device.name || device.id));
    $item.append(document.createTextNode(": "));
    $item.append(beer
      ? $("<span>").addClass("beer").text(beer.name + (beer.style ? ` (${beer.style})` : ""))
      : $("<span>").addClass("empty").text("no session"));
    $list.append($item);
  }
}

// The trend page zoomed to the session's span (to now while it runs).
function trendUrl(session) {
  const params = new URLSearchParams({ device: session.device, from: session.start });
  if (session.end) params.set("to", session.end);
  return `trend?${params}`;
}

function exportLinks(session) {
  return $("<span>").addClass("exports").append(
    $("<a>").attr("href", trendUrl(session)).text("Graph"),
    document.createTextNode(" · "),
    // In the unit the page shows (the file's header names it); JSON stays in °C.
    $("<a>").attr({ href: sessionUrl(session.id, `/readings.csv?unit=${temperatureUnit()}`), download: "" })
      .text(`CSV (${unitSymbol()})`),
    document.createTextNode(" · "),
    $("<a>").attr({ href: sessionUrl(session.id, "/export.json"), download: "" }).text("JSON"),
  );
}

function renderRunning() {
  const session = running(state.deviceId);
  $("#session-running").prop("hidden", !session);
  $("#session-submit").text(session ? "Save changes" : "Start session");
  $("#session-form-title").text(session ? "Edit the session" : "Start a brew session");
  if (!session) return;
  $("#session-name").text(session.name);
  $("#session-style").text(session.style || "–");
  $("#session-yeast").text(session.yeast || "–");
  $("#session-og").text(gravity(session.og));
  $("#session-fg").text(gravity(session.fg));
  $("#session-start").text(formatTime(session.start));
  $("#session-exports").empty().append(exportLinks(session));
  const $notes = $("#session-notes").empty();
  for (const note of session.notes) {
    $notes.append($("<li>").append(
      $("<time>").attr("datetime", note.timestamp).text(formatTime(note.timestamp)),
      $("<span>").addClass("note-text").text(note.text),
    ));
  }
  $("#session-notes-empty").prop("hidden", session.notes.length > 0);
}

function fillForm() {
  state.formTouched = false;
  const session = running(state.deviceId);
  $("#session-name-input").val(session ? session.name : "");
  $("#session-style-input").val(session ? session.style : "");
  $("#session-yeast-input").val(session ? session.yeast : "");
  $("#session-og-input").val(session ? gravityToShown(session.og) : "");
  $("#session-fg-input").val(session ? gravityToShown(session.fg) : "");
}

function renderPast() {
  const past = state.sessions.filter((s) => s.device === state.deviceId && !s.running);
  const $list = $("#past-sessions").empty();
  for (const session of past) {
    const $show = $("<button>").attr("type", "button").addClass("secondary").text("Photos")
      .on("click", () => showSession(session));
    $list.append($("<li>").attr("data-session", session.id).append(
      $("<span>").addClass("beer").text(session.name),
      document.createTextNode(` · ${formatTime(session.start)} – ${formatTime(session.end)} · `),
      exportLinks(session),
      document.createTextNode(" "),
      $show,
    ));
  }
  $("#past-sessions-box").prop("hidden", past.length === 0);
}

function showSession(session) {
  const before = state.shown && state.shown.id;
  state.shown = session;
  $("#gallery-title").text(session ? `Photos and videos of ${session.name}` : "Photos and videos");
  if ((session && session.id) !== before) state.onSpanChange();
}

function render() {
  renderFermenters();
  renderRunning();
  renderPast();
  state.onRender();
}

// The span the gallery shows: the chosen session's, else null (the last 30 days).
export function gallerySpan() {
  const session = state.shown;
  return session ? { start: session.start, end: session.end } : null;
}

// ``sessions`` with ``session`` in it (replacing its older copy), the latest start first.
function withSession(sessions, session) {
  return [session, ...sessions.filter((s) => s.id !== session.id)]
    .sort((a, b) => Date.parse(b.start) - Date.parse(a.start));
}

export async function refreshSessions({ refill = false } = {}) {
  const pushedMeanwhile = [];
  state.refreshing.add(pushedMeanwhile);
  let sessions;
  try {
    sessions = await api("api/sessions");
  } catch (error) {
    status("error", `Could not load the brew sessions: ${describeError(error)}`);
    return;
  } finally {
    state.refreshing.delete(pushedMeanwhile);
  }
  // A push that came while the list was on its way may be newer than the list: it stays.
  state.sessions = pushedMeanwhile.reduce(withSession, sessions);
  showSessions(refill);
}

// A session pushed by /live: the list is updated in place, without asking again.
export function sessionChanged(session) {
  if (!session || typeof session.id !== "string") return;
  for (const pushed of state.refreshing) pushed.push(session);
  state.sessions = withSession(state.sessions, session);
  // The form follows another browser's change unless the brewer is typing in it.
  showSessions(session.device === state.deviceId && !state.formTouched);
}

function showSessions(refill) {
  render();
  if (refill) fillForm();
  // The gallery follows the running session unless a past one was picked.
  const current = running(state.deviceId);
  const picked = state.shown && state.sessions.find((s) => s.id === state.shown.id);
  showSession(picked && picked.device === state.deviceId && !picked.running ? picked : current);
}

// Another temperature unit: the CSV links ask for it.
export function refreshSessionUnits() {
  render();
}

export async function selectSessionDevice(deviceId) {
  state.deviceId = deviceId;
  state.shown = null;
  $("#session-card").prop("hidden", !deviceId);
  await refreshSessions({ refill: true });
}

async function submitForm(submitEvent) {
  submitEvent.preventDefault();
  if (!state.deviceId) return;
  const session = running(state.deviceId);
  const fields = {
    name: String($("#session-name-input").val() || ""),
    style: String($("#session-style-input").val() || ""),
    yeast: String($("#session-yeast-input").val() || ""),
    og: gravityInput("#session-og-input"),
    fg: gravityInput("#session-fg-input"),
  };
  // Typed into each other's field: the attenuation and ABV would come out negative.
  if (fields.og !== null && fields.fg !== null && fields.fg > fields.og) {
    status("error", `The FG (${gravity(fields.fg)}) is above the OG (${gravity(fields.og)}): are they swapped?`);
    return;
  }
  status("progress", session ? "Saving…" : "Starting…");
  // Anything typed from here on is newer than what is saved. The form stays
  // "touched" meanwhile: a push (another change) must not undo a refused save.
  const editsSent = state.formEdits;
  try {
    if (session) {
      await api(sessionUrl(session.id), { method: "PATCH", body: fields });
    } else {
      await api("api/sessions", { method: "POST", body: { device: state.deviceId, ...fields } });
    }
    status("ok", session ? "Saved." : "Session started.");
    await refreshSessions();
    if (state.formEdits === editsSent) fillForm(); // asked after the list came back: typing meanwhile is kept
  } catch (error) {
    // The form keeps what was typed, so nothing is lost on a refusal.
    status("error", describeError(error));
  }
}

async function addNote(submitEvent) {
  submitEvent.preventDefault();
  const session = running(state.deviceId);
  if (!session) return;
  const text = String($("#note-text").val() || "");
  status("progress", "Adding the note…");
  try {
    await api(sessionUrl(session.id, "/notes"), { method: "POST", body: { text } });
    // Emptied only if it still holds the note sent: the next one may be being typed.
    if (String($("#note-text").val() || "") === text) $("#note-text").val("");
    status("ok", "Note added.");
    await refreshSessions();
  } catch (error) {
    status("error", describeError(error));
  }
}

async function endSession() {
  const session = running(state.deviceId);
  if (!session || !window.confirm(`End the session "${session.name}"?`)) return;
  status("progress", "Ending…");
  try {
    await api(sessionUrl(session.id, "/end"), { method: "POST" });
    status("ok", "Session ended.");
    await refreshSessions({ refill: true });
  } catch (error) {
    status("error", describeError(error));
  }
}

export function setupSessions({ devices, onSpanChange }) {
  state.devices = devices || [];
  state.onSpanChange = onSpanChange;
  $("#session-form").on("submit", submitForm).on("input", () => {
    state.formTouched = true;
    state.formEdits += 1;
  });
  $("#note-form").on("submit", addNote);
  $("#session-end").on("click", endSession);
  showGravityUnit();
  setupGravityPicker(changeGravityUnit);
}
