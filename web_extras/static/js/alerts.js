// The current page's alerts card: where notifications go, and a button that sends
// a test one (POST api/alerts/test, which needs a login like the controls).

import { api, describeError } from "./api.js";

const $ = window.jQuery;

function status(kind, text) {
  $("#alerts-status").attr("data-kind", kind).text(text);
}

async function sendTest() {
  const $button = $("#alerts-test").prop("disabled", true);
  status("progress", "Sending a test notification…");
  try {
    const answer = await api("api/alerts/test", { method: "POST", body: {} });
    status("ok", `Test notification sent to ${answer.targets.join(", ")}.`);
  } catch (error) {
    status("error", `Not sent: ${describeError(error)}`);
  } finally {
    $button.prop("disabled", false);
  }
}

export async function setupAlerts() {
  $("#alerts-test").on("click", sendTest);
  let summary;
  try {
    summary = await api("api/alerts");
  } catch (error) {
    $("#alerts-summary").text(`Alerts unknown: ${describeError(error)}`);
    $("#alerts-test").prop("disabled", true);
    return;
  }
  const rules = summary.rules.length;
  $("#alerts-summary").text(summary.enabled
    ? `Alerts go to ${summary.targets.join(", ")} (${rules} rule${rules === 1 ? "" : "s"}, at most ${summary.max_per_window} per rule and fermenter in ${summary.window_min} min).`
    : "No alert targets are configured: see [alerts] in the service's config file.");
  $("#alerts-test").prop("disabled", !summary.enabled);
}
