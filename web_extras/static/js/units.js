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

// Wires the top bar's #unit-select: shows the saved unit and calls onChange()
// after the user picks another (and when another tab of this browser does).
export function setupUnitPicker(onChange) {
  const select = document.getElementById("unit-select");
  if (select) {
    select.value = temperatureUnit();
    select.addEventListener("change", () => {
      const previous = temperatureUnit();
      if (!(select.value in UNITS)) return;
      window.localStorage.setItem(KEY, select.value);
      onChange(previous);
    });
  }
  window.addEventListener("storage", (event) => {
    if (event.key !== KEY) return;
    const previous = event.oldValue in UNITS ? event.oldValue : "C";
    if (select) select.value = temperatureUnit();
    onChange(previous);
  });
}
