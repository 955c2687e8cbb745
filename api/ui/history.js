// History: replays a past day on the plan. The states come from
// GET /v1/sites/{site}/replay (the report engine's own state intervals), so
// the occupied time summed here over opening hours is the figure
// /utilisation gives for that day. Times are seconds from the local midnight
// the API names (start_utc); the slider moves through them.

import { formatNumber, locale, t } from "./i18n.js";

const $ = (id) => document.getElementById(id);
const TICK_MS = 100;

// Seconds that [a, b) and the opening windows share.
export function openSeconds(a, b, opening) {
  let total = 0;
  for (const [lo, hi] of opening) total += Math.max(0, Math.min(b, hi) - Math.max(a, lo));
  return total;
}

// The interval of a space at time t (binary search over its sorted intervals).
export function intervalAt(intervals, at) {
  let lo = 0;
  let hi = intervals.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const [a, b] = intervals[mid];
    if (at < a) hi = mid - 1;
    else if (at >= b) lo = mid + 1;
    else return intervals[mid];
  }
  return intervals.length && at >= intervals[intervals.length - 1][1] ? intervals[intervals.length - 1] : null;
}

// Occupied and observed seconds of some spaces within the opening hours.
export function dayFigures(data, spaceIds) {
  let occupied = 0;
  let observed = 0;
  for (const id of spaceIds) {
    for (const [a, b, state] of data.spaces[id] || []) {
      const s = openSeconds(a, b, data.opening);
      if (state === "occupied") occupied += s;
      if (state !== "unknown") observed += s;
    }
  }
  return { occupied, observed };
}

// api(path) -> JSON; site() -> the site registry; onFrame() redraws the plan.
export class Replay {
  constructor({ api, site, onFrame, floorSpaces, floorName }) {
    this.api = api;
    this.site = site;
    this.onFrame = onFrame;
    this.floorSpaces = floorSpaces;
    this.floorName = floorName;
    this.data = null;
    this.t = 0;
    this.timer = null;
    $("history-form").addEventListener("submit", (e) => {
      e.preventDefault();
      this.load($("history-date").value);
    });
    $("history-play").addEventListener("click", () => (this.timer ? this.pause() : this.play()));
    $("history-live").addEventListener("click", () => this.stop());
    $("history-time").addEventListener("input", (e) => this.seek(Number(e.target.value)));
  }

  get active() {
    return Boolean(this.data);
  }

  // Today in the site's time zone is the latest day that can be replayed.
  setBounds() {
    const tz = this.site().timezone;
    const today = new Intl.DateTimeFormat("sv-SE", { timeZone: tz }).format(new Date());
    const input = $("history-date");
    input.max = today;
    if (!input.value) {
      const y = new Date(`${today}T12:00:00Z`);
      y.setUTCDate(y.getUTCDate() - 1);
      input.value = y.toISOString().slice(0, 10);
    }
  }

  async load(day) {
    if (!day) return;
    this.pause();
    const summary = $("history-summary");
    summary.textContent = t("history_loading", { date: this.dayText(day) });
    let data;
    try {
      data = await this.api(`v1/sites/${encodeURIComponent(this.site().id)}/replay?date=${encodeURIComponent(day)}`);
    } catch (exc) {
      summary.textContent = t("history_error", { date: this.dayText(day), msg: exc.message || exc.status });
      return;
    }
    this.data = data;
    const slider = $("history-time");
    slider.max = String(Math.floor(data.duration_s));
    slider.disabled = false;
    $("history-play").disabled = false;
    $("history-live").hidden = false;
    this.seek(data.opening.length ? data.opening[0][0] : 0);
  }

  seek(at) {
    if (!this.data) return;
    this.t = Math.max(0, Math.min(at, this.data.duration_s - 0.001));
    $("history-time").value = String(Math.floor(this.t));
    this.render();
    this.onFrame();
  }

  play() {
    if (!this.data) return;
    if (this.t >= this.data.duration_s - 1) this.seek(0);
    $("history-play").textContent = t("history_pause");
    this.timer = setInterval(() => {
      const speed = Number($("history-speed").value) || 300;
      const next = this.t + (speed * TICK_MS) / 1000;
      if (next >= this.data.duration_s) this.pause();
      this.seek(next);
    }, TICK_MS);
  }

  pause() {
    clearInterval(this.timer);
    this.timer = null;
    $("history-play").textContent = t("history_play");
  }

  stop() {
    this.pause();
    this.data = null;
    $("history-time").disabled = true;
    $("history-play").disabled = true;
    $("history-live").hidden = true;
    $("history-at").textContent = "";
    $("history-summary").textContent = "";
    delete $("history-summary").dataset.occupiedS;
    this.onFrame();
  }

  // {state, count} of a space at the current time; undefined: not visible.
  stateAt(id) {
    const intervals = this.data?.spaces[id];
    if (!intervals) return undefined;
    const iv = intervalAt(intervals, this.t);
    if (!iv) return { space: id, state: "unknown", reason: "no data" };
    return { space: id, state: iv[2], count: iv[3], reason: iv[2] === "unknown" ? "no data" : null };
  }

  atIso() {
    return new Date(new Date(this.data.start_utc).getTime() + this.t * 1000).toISOString();
  }

  dayText(day) {
    return new Intl.DateTimeFormat(locale(), { dateStyle: "medium", timeZone: "UTC" }).format(new Date(`${day}T00:00:00Z`));
  }

  // Texts that follow the time, the floor and the language.
  render() {
    if (!this.data) return;
    const tz = this.site().timezone;
    const time = new Intl.DateTimeFormat(locale(), { hour: "2-digit", minute: "2-digit", timeZone: tz }).format(new Date(this.atIso()));
    const date = this.dayText(this.data.date);
    $("history-at").textContent = time;
    $("replay-banner").textContent = t("history_banner", { date, time });
    const summary = $("history-summary");
    if (!this.data.opening.length) {
      summary.textContent = t("history_closed", { date });
      return;
    }
    const ids = this.floorSpaces().map((s) => s.id).filter((id) => this.data.spaces[id]);
    const { occupied, observed } = dayFigures(this.data, ids);
    summary.dataset.occupiedS = String(occupied);
    summary.dataset.observedS = String(observed);
    const hours = (s) => t("hours", { n: formatNumber(s / 3600, 1) });
    const pct = observed > 0 ? new Intl.NumberFormat(locale(), { style: "percent", maximumFractionDigits: 1 }).format(occupied / observed) : t("dash");
    summary.textContent = t("history_summary", { floor: this.floorName(), date, occupied: hours(occupied), observed: hours(observed), pct });
  }
}
