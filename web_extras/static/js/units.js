// The temperature unit the pages show and take: °C or °F, chosen in the page's
// top bar and remembered per browser (localStorage). The service, the daemon
// and the history keep °C; only what people read and type is converted, here.

const KEY = "beerpi.unit";
export const UNITS = { C: "°C", F: "°F" };
const NAMES = { C: "degrees Celsius", F: "degrees Fahrenheit" };

export function temperatureUnit() {
  const saved = window.localStorage.getItem(KEY);
  return saved in UNITS ? saved : "C";
}

export function unitSymbol(unit = temperatureUnit()) {
  return UNITS[unit];
}

export function unitName(unit = temperatureUnit()) {
  return NAMES[unit];
}

// A °C value in the shown unit (null and non-numbers stay null).
export function toShown(celsius, unit = temperatureUnit()) {
  if (celsius === null || celsius === undefined || celsius === "") return null;
  const value = Number(celsius);
  if (!Number.isFinite(value)) return null;
  return unit === "F" ? value * 9 / 5 + 32 : value;
}

// A value typed in the shown unit, in °C.
export function fromShown(value, unit = temperatureUnit()) {
  const number = Number(value);
  if (!Number.isFinite(number)) return null;
  return unit === "F" ? (number - 32) * 5 / 9 : number;
}

// "20.0" or "68.0": a °C value as a number in the shown unit, for people.
export function formatShown(celsius, digits = 1, unit = temperatureUnit()) {
  const value = toShown(celsius, unit);
  return value === null ? "–" : value.toFixed(digits);
}

// "20.0 °C" or "68.0 °F".
export function formatWithUnit(celsius, digits = 1, unit = temperatureUnit()) {
  const value = toShown(celsius, unit);
  return value === null ? "–" : `${value.toFixed(digits)} ${UNITS[unit]}`;
}

// ---- gravity: specific gravity (stored) or degrees Plato (shown) -------------

const GRAVITY_KEY = "beerpi.gravity";
export const GRAVITY_UNITS = { SG: "SG", P: "°P" };

export function gravityUnit() {
  const saved = window.localStorage.getItem(GRAVITY_KEY);
  return saved in GRAVITY_UNITS ? saved : "SG";
}

// The usual brewing approximations (good to about 0.1 °P / 0.0001 SG over
// 0.980–1.200): a cubic in SG for °P, and its rational inverse.
export function platoFromSg(sg) {
  return 135.997 * sg ** 3 - 630.272 * sg ** 2 + 1111.14 * sg - 616.868;
}

export function sgFromPlato(plato) {
  return 1 + plato / (258.6 - (plato / 258.2) * 227.1);
}

// "1.050" or "12.4 °P" for a stored specific gravity.
export function formatGravity(sg, unit = gravityUnit()) {
  if (sg === null || sg === undefined || !Number.isFinite(Number(sg))) return "–";
  return unit === "P" ? `${platoFromSg(Number(sg)).toFixed(1)} °P` : Number(sg).toFixed(3);
}

// A stored specific gravity as a form value in the shown unit ("" for none).
export function gravityToShown(sg, unit = gravityUnit()) {
  if (sg === null || sg === undefined || !Number.isFinite(Number(sg))) return "";
  return unit === "P" ? platoFromSg(Number(sg)).toFixed(1) : Number(sg).toFixed(3);
}

// A value typed in the shown unit as a specific gravity (4 decimals), null if not a number.
export function gravityFromShown(value, unit = gravityUnit()) {
  const number = Number(value);
  if (String(value).trim() === "" || !Number.isFinite(number)) return null;
  return unit === "P" ? Math.round(sgFromPlato(number) * 1e4) / 1e4 : number;
}

// ---- the pickers ---------------------------------------------------------------

// What to call when a picker changes, per storage key: a page's parts each add theirs.
const pickerCallbacks = {};

// Wires a top-bar <select> once: shows the saved choice and calls every part's
// onChange(previous) after the user picks another (and when another tab of this
// browser does). One listener reads "previous" for all of them: a second listener
// would read it after the first had stored the new choice.
function setupPicker(selectId, key, choices, current, fallback, onChange) {
  if (pickerCallbacks[key]) {
    pickerCallbacks[key].push(onChange);
    return;
  }
  const callbacks = (pickerCallbacks[key] = [onChange]);
  const notify = (previous) => { for (const callback of callbacks) callback(previous); };
  const select = document.getElementById(selectId);
  if (select) {
    select.value = current();
    select.addEventListener("change", () => {
      const previous = current();
      if (!(select.value in choices)) return;
      window.localStorage.setItem(key, select.value);
      notify(previous);
    });
  }
  window.addEventListener("storage", (event) => {
    if (event.key !== key) return;
    const previous = event.oldValue in choices ? event.oldValue : fallback;
    if (select) select.value = current();
    notify(previous);
  });
}

// The temperature unit (#unit-select).
export function setupUnitPicker(onChange) {
  setupPicker("unit-select", KEY, UNITS, temperatureUnit, "C", onChange);
}

// The gravity unit (#gravity-select).
export function setupGravityPicker(onChange) {
  setupPicker("gravity-select", GRAVITY_KEY, GRAVITY_UNITS, gravityUnit, "SG", onChange);
}
