// The running profile drawn ahead on the trend chart: the planned target from
// now to the profile's end, dashed, from the device's state (its profile's
// steps, the step that runs and the time left in it). Kept apart from the
// chart so the chart's modules stay as they are; trend.js asks for the plan,
// trend_chart.js draws it with drawPlan() and lists it with planLegend().

import { formatTime } from "./format.js";
import { toShown } from "./units.js";
import { d3 } from "./vendor.js";

// The chart's data with the plan added when the shown range includes now: the
// time axis then runs on to the profile's end, unless the user zoomed (a zoom
// keeps its span; the plan is drawn inside it). A zoom into the past shows none.
export function withPlan(data, state, now, zoomed) {
  const plan = data.start.getTime() <= now && now <= data.end.getTime() ? planAhead(state) : null;
  return { ...data, plan, shownEnd: plan && !zoomed && plan.end > data.end ? plan.end : null };
}

// What of a state changes the plan: a new redraw is due when this does.
export function planKey(state) {
  const profile = state?.thermostat?.profile;
  if (!profile) return "";
  return JSON.stringify([profile.name, profile.step, profile.steps, profile.finished, profile.paused ?? false]);
}

// {points: [{time, target °C}], end, early, paused, name} of the running
// profile, or null when none runs (or it finished). Times count from the
// state's own timestamp (the device's clock: a simulated fermenter may run
// fast). A paused profile's clock stands still, so its plan is the one that
// would run if it were resumed now: it slides along with time until then.
export function planAhead(state) {
  const profile = state?.thermostat?.profile;
  const at = Date.parse(state?.timestamp ?? "");
  if (!profile || profile.finished || !Number.isFinite(at)) return null;
  const steps = Array.isArray(profile.steps) ? profile.steps : [];
  const index = Number(profile.step) || 0;
  const step = steps[index];
  if (!step) return null;
  const left = Math.max(0, Number(profile.step_time_left_s) || 0) * 1000;
  const now = Number(state.thermostat.target);
  const points = [{ time: new Date(at), target: Number.isFinite(now) ? now : step.target }];
  let time = at + left;
  points.push({ time: new Date(time), target: step.target });
  for (const next of steps.slice(index + 1)) {
    // A hold jumps to its target; a ramp slopes to it from where the last step ended.
    if (next.kind !== "ramp") points.push({ time: new Date(time), target: next.target });
    time += Number(next.hours) * 3600 * 1000;
    points.push({ time: new Date(time), target: next.target });
  }
  const early = steps.slice(index).some((s) => s.until_sg != null || s.stable_within != null);
  const paused = Boolean(profile.paused);
  return { points, end: new Date(time), early, paused, name: String(profile.name || "") };
}

// The dashed line (in the shown unit), clipped by the plot like the rest.
export function drawPlan({ x, y, unit, data }, plot) {
  const plan = data.plan;
  if (!plan) return;
  const line = d3.line().x((point) => x(point.time)).y((point) => y(toShown(point.target, unit)));
  plot.append("path").attr("class", plan.paused ? "plan paused" : "plan")
    .attr("data-end", plan.end.toISOString())
    .attr("data-targets", plan.points.map((point) => toShown(point.target, unit).toFixed(1)).join(" "))
    .attr("d", line(plan.points));
}

// The targets the plan adds to the y scale.
export function planTargets(data, unit) {
  return data.plan ? data.plan.points.map((point) => toShown(point.target, unit)) : [];
}

// The legend's entry: the profile's name (text only) and when it ends.
export function planLegend(data) {
  if (!data.plan) return null;
  const { name, end, early, paused } = data.plan;
  const ends = `ends ${early ? "by " : ""}${formatTime(end)}`;
  const text = `Planned target${name ? ` (${name})` : ""}, ${paused ? `paused: ${ends} if resumed now` : ends}`;
  return { kind: "plan", swatch: ["swatch", "plan"], text };
}
