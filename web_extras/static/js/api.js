// A small JSON client for the BeerPi web service's API.
//
// Every URL is relative to the page ("api/devices", not "/api/devices"), so the
// pages also work when a reverse proxy serves the service under a sub-path.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// The answers the service put in the trend page ahead of its first requests
// (web_extras/trend_preload.py): {guess: {device, urls}, answers: {url: answer}}.
// Read as text, never run.
const inPage = readInPage();

function readInPage() {
  const element = document.getElementById("first-answers");
  try {
    const parsed = element ? JSON.parse(element.textContent) : null;
    return parsed && typeof parsed === "object" ? parsed : {};
  } catch {
    return {};
  }
}

// The service's guess of the page's first requests, {device, urls: {name: url}}, or null.
export function firstGuess() {
  const guess = inPage.guess;
  return guess && typeof guess.device === "string" && guess.urls ? guess : null;
}

// The answer in the page for a GET of exactly `path`, taken once (later requests
// for it ask the service: the data moves on).
function takeInPage(path) {
  const answers = inPage.answers;
  if (!answers || !Object.hasOwn(answers, path)) return undefined;
  const answer = answers[path];
  delete answers[path];
  return answer;
}

// Calls the API and returns the decoded JSON; throws ApiError with the service's
// {"error", "message"} on failure. A 401 also raises the "beerpi:unauthorized"
// event, so the page can show its login form.
//
// Requests that change something always say Content-Type: application/json,
// body or not: the service refuses such requests from a browser without it
// (that type is what keeps pages of other sites out).
export async function api(path, { method = "GET", body } = {}) {
  if (method === "GET") {
    const answer = takeInPage(path);
    if (answer !== undefined) return answer;
  }
  const options = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (method !== "GET" && method !== "HEAD") options.headers["Content-Type"] = "application/json";
  if (body !== undefined) options.body = JSON.stringify(body);
  let response;
  try {
    response = await fetch(path, options);
  } catch (error) {
    throw new ApiError(0, "network", "The BeerPi service cannot be reached.");
  }
  const text = await response.text();
  let payload = null;
  if (text) {
    try {
      payload = JSON.parse(text);
    } catch {
      payload = null;
    }
  }
  if (!response.ok) {
    if (response.status === 401 && path !== "api/login") {
      document.dispatchEvent(new CustomEvent("beerpi:unauthorized"));
    }
    const code = (payload && payload.error) || `http_${response.status}`;
    const message = (payload && payload.message) || response.statusText || "The request failed.";
    throw new ApiError(response.status, code, message);
  }
  return payload;
}

export function deviceUrl(deviceId, rest = "") {
  return `api/devices/${encodeURIComponent(deviceId)}${rest}`;
}

// "?a=1&b=2" from an object, leaving out null and undefined values.
export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== null && value !== undefined) search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

// A message for people from anything thrown.
export function describeError(error) {
  if (error instanceof ApiError) {
    const known = {
      device_offline: "The fermenter is offline: the command was not sent.",
      relay_under_thermostat_control:
        "The thermostat drives this relay. Set the thermostat mode to Off to switch it by hand.",
      network: "The BeerPi service cannot be reached.",
    };
    return known[error.code] || error.message || error.code;
  }
  return (error && error.message) || String(error);
}
