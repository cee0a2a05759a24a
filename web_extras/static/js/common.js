// What both pages share: the login form, the fermenter selector and the live
// connection to the service's /live socket.io namespace. Plain DOM, so the trend
// page does not need jQuery.

import { api, describeError } from "./api.js";

const $id = (id) => document.getElementById(id);

// Resolves once the user may use the API: at once when the service needs no
// login or the session is already authenticated, else after a successful login.
export async function ensureSession() {
  let session = await api("api/session");
  // Any later 401 (an expired session) brings the login form back.
  document.addEventListener("beerpi:unauthorized", () => showLogin());
  if (session.login_required && !session.authenticated) {
    await showLogin();
    session = await api("api/session");
  }
  $id("app").hidden = false;
  if (session.login_required && session.authenticated) offerLogout(session.user);
  return session;
}

function offerLogout(user) {
  const logout = $id("logout");
  logout.hidden = false;
  logout.title = user ? `Logged in as ${user}` : "";
  logout.addEventListener("click", async () => {
    try {
      await api("api/logout", { method: "POST" });
    } finally {
      window.location.reload();
    }
  });
}

let loginShown = null; // the pending login, so a second 401 does not start another

function showLogin() {
  $id("app").hidden = true;
  $id("login").hidden = false;
  $id("login-user").focus();
  loginShown ??= new Promise((resolve) => {
    const form = $id("login-form");
    const status = $id("login-status");
    form.onsubmit = async (submitEvent) => {
      submitEvent.preventDefault();
      status.dataset.kind = "progress";
      status.textContent = "Logging in…";
      try {
        await api("api/login", {
          method: "POST",
          body: { username: $id("login-user").value, password: $id("login-password").value },
        });
        status.textContent = "";
        $id("login").hidden = true;
        $id("app").hidden = false;
        loginShown = null;
        if (document.body.dataset.started) {
          window.location.reload(); // the session expired while the page ran
        }
        resolve();
      } catch (error) {
        status.dataset.kind = "error";
        status.textContent =
          error.status === 401 ? "Wrong user name or password." : describeError(error);
      }
    };
  });
  return loginShown;
}

// Loads the fermenters and fills the selector (shown only when there are
// several). The choice lives in the URL (?device=ID), so a page can be
// bookmarked, and is kept when moving between the two pages. ``asked`` is an
// api("api/devices") already under way (asked before the session was known);
// if it failed (e.g. 401 before the login), the list is asked for again.
export async function loadDevices(onChange, asked = null) {
  // Each fermenter's running brew session names the beer in it (as text). The
  // names are filled in when they arrive: the first draw does not wait for them.
  const sessionsAsked = api("api/sessions").catch(() => []);
  const early = asked && await asked.catch(() => null);
  const devices = Array.isArray(early) ? early : await api("api/devices");
  const select = $id("device-select");
  const wanted = new URLSearchParams(window.location.search).get("device")
    || window.localStorage.getItem("beerpi.device");
  const label = (device, beers) =>
    `${device.name || device.id}${beers.get(device.id) || ""}${device.online ? "" : " (offline)"}`;
  select.replaceChildren(
    ...devices.map((device) => {
      const option = document.createElement("option");
      option.value = device.id;
      option.textContent = label(device, new Map());
      return option;
    }),
  );
  sessionsAsked.then((sessions) => {
    const beers = new Map(sessions.filter((s) => s.running).map((s) => [s.device, ` · ${s.name}`]));
    for (const option of select.options) {
      const device = devices.find((item) => item.id === option.value);
      if (device) option.textContent = label(device, beers);
    }
  });
  $id("device-picker").hidden = devices.length < 2;
  $id("no-devices").hidden = devices.length > 0;
  const chosen = devices.find((device) => device.id === wanted) || devices[0] || null;
  if (chosen) select.value = chosen.id;
  select.addEventListener("change", () => {
    const device = devices.find((item) => item.id === select.value);
    rememberDevice(select.value);
    onChange(device);
  });
  if (chosen) rememberDevice(chosen.id);
  document.body.dataset.started = "1";
  return { devices, chosen };
}

function rememberDevice(deviceId) {
  window.localStorage.setItem("beerpi.device", deviceId);
  const url = new URL(window.location.href);
  url.searchParams.set("device", deviceId);
  window.history.replaceState(null, "", url);
  for (const link of document.querySelectorAll("a[data-keep-device]")) {
    const target = new URL(link.getAttribute("href"), window.location.href);
    target.searchParams.set("device", deviceId);
    link.href = target.pathname + target.search;
  }
}

// Connects to the service's /live namespace. Handlers get the pushed payloads;
// onStatus(true|false) says whether the live connection is up. socket.io
// reconnects by itself.
//
// handlers.watching() returns the ids of the devices whose state and readings
// the page wants (the service then sends only those; device and event pushes
// come for every device). It is asked on every (re)connect and on rewatch();
// the page calls live.rewatch() when it switches device. Without it, the page
// gets every device's pushes.
export function connectLive(handlers) {
  if (typeof window.io !== "function") {
    handlers.onStatus?.(false);
    return { socket: null, rewatch() {} };
  }
  const base = new URL(".", window.location.href);
  const socket = window.io(`${window.location.origin}/live`, {
    path: `${base.pathname}socket.io/`,
    transports: ["websocket", "polling"],
    withCredentials: true,
  });
  const rewatch = () => {
    if (!handlers.watching || !socket.connected) return; // sent again on connect
    const devices = handlers.watching();
    socket.emit("watch", { devices }, (answer) => {
      if (!answer || !answer.ok) console.warn("BeerPi: /live refused watch", devices, answer);
    });
  };
  socket.on("connect", () => {
    rewatch(); // a new connection starts watching everything: narrow it again
    handlers.onStatus?.(true);
  });
  socket.on("disconnect", () => handlers.onStatus?.(false));
  socket.on("connect_error", () => handlers.onStatus?.(false));
  for (const name of ["device", "state", "readings", "event", "session", "profile", "gravity"]) {
    const handler = handlers[`on${name[0].toUpperCase()}${name.slice(1)}`];
    if (handler) socket.on(name, handler);
  }
  return { socket, rewatch };
}

// "Now" by the device's clock: the state's timestamp plus the time since it arrived
// (``receivedAt``, the browser's Date.now() then), so ranges end where the readings
// end even when the Pi's clock and the browser's disagree (or a simulated daemon
// runs faster than real time). The browser's clock before any state arrived.
export function deviceNow(state, receivedAt) {
  const stateTime = state && Date.parse(state.timestamp);
  return stateTime ? stateTime + (Date.now() - receivedAt) : Date.now();
}

export function setLiveStatus(mode, text) {
  const status = $id("live-status");
  status.dataset.mode = mode;
  status.querySelector(".text").textContent = text;
}

export function showPageError(message) {
  const banner = $id("page-error");
  banner.hidden = !message;
  banner.textContent = message || "";
}

// Leaves in a mode <select> only the options whose value is in `modes` (and the empty
// value, "The current mode", if it has one), in the page's order; a chosen value no
// longer offered falls back to the first option. The options not offered are kept
// aside, so another fermenter's modes bring them back.
export function offerModes(select, modes) {
  if (!select) return;
  if (!select.allModeOptions) select.allModeOptions = Array.from(select.options);
  const wanted = select.allModeOptions.filter((option) => !option.value || modes.includes(option.value));
  const shown = Array.from(select.options);
  if (wanted.length === shown.length && wanted.every((option, i) => option === shown[i])) return;
  const chosen = select.value;
  select.replaceChildren(...wanted);
  select.value = wanted.some((option) => option.value === chosen) ? chosen : (wanted[0]?.value ?? "");
}
