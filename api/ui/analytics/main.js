// The analytics page: a period, one tab per report, each drawn with ECharts
// from the same report endpoints as the API's users call, with coverage and
// source shown and CSV/XLSX exports of the same rows.

import { LANGS, applyStatic, lang, locale, preferredLang, t } from "../i18n.js";
import { ApiError, download, getJson, takeKey } from "../common/api.js";
import { Charts, fmt, pct as p100, weekdayNames as weekdays } from "../common/charts.js";
import { onLangPick, renderHeader, showLang } from "../common/header.js";
import { showSignedIn, showSignedOut, wireSignin } from "../common/signin.js";
import { loadPageTexts, nameIn } from "../common/texts.js";
import { healthOption, heatmapOption, peaksOption, utilisationDaysOption, utilisationOption } from "./charts.js";
import { energyReport } from "./energy.js";

const $ = (id) => document.getElementById(id);
const TABS = ["util", "peaks", "heatmap", "health", "agency", "energy"];
const state = { key: null, sites: [], site: null, from: null, last: null, tab: "util", utilBy: "zone", utilView: "total", energyBy: "zone", data: {} };
const charts = new Charts({ legendRoomOnPhone: true });
const draw = (tab, option) => charts.draw(tab, option);

// ---------------------------------------------------------------- naming
function groupName(by, id) {
  if (by === "agency" && id === "_shared") return t("an_shared");
  const list = { zone: "zones", floor: "floors", agency: "agencies" }[by];
  return nameIn(state.site?.[list]?.find((x) => x.id === id)) || id;
}

// ------------------------------------------------------------------- period
function isoDay(d) {
  return d.toISOString().slice(0, 10);
}

function addDays(iso, n) {
  const d = new Date(`${iso}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return isoDay(d);
}

function today() {
  const tz = state.site?.timezone || "UTC";
  return new Intl.DateTimeFormat("en-CA", { timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit" })
    .format(new Date());
}

function preset(name) {
  const now = today();
  if (name === "7d") return [addDays(now, -6), now];
  const first = `${now.slice(0, 8)}01`;
  if (name === "month") return [first, now];
  const prevFirst = `${addDays(first, -1).slice(0, 8)}01`;
  return [prevFirst, addDays(first, -1)];
}

function period() {
  return { from: state.from, to: addDays(state.last, 1) };
}

function days() {
  return Math.round((new Date(`${state.last}T00:00:00Z`) - new Date(`${state.from}T00:00:00Z`)) / 86_400_000) + 1;
}

// ------------------------------------------------------------------ reports
const sitePath = (report) => `/v1/sites/${encodeURIComponent(state.site.id)}/${report}`;

const REPORTS = {
  util: {
    exportPath: () => sitePath("utilisation"),
    exportParams: () => ({ ...period(), by: state.utilBy, bucket: state.utilView === "day" ? "day" : null }),
    async load() {
      const main = await getJson(sitePath("utilisation"), this.exportParams(), state.key);
      if (state.utilView !== "day") return { main };
      const cov = await getJson(sitePath("utilisation"), { ...period(), by: "site", bucket: "day" }, state.key);
      return { main, cov };
    },
    render(d) {
      const by = d.main.meta.by;
      const rows = d.main.rows;
      const label = (r) => groupName(by, r[by]);
      // a bar pair per group: a site with 30 zones gets a taller chart, not thinner bars
      $("chart-util").style.height = d.main.meta.bucket === "day" ? "" : `${Math.max(300, rows.length * 46 + 90)}px`;
      if (d.main.meta.bucket === "day") return this.renderDays(d, by, label);
      draw("util", utilisationOption(rows, { label, fmt, t, description: t("an_util_desc", { n: rows.length }) }));
      coverage("util", rows, d.main.meta);
      table("util", [
        [t(`an_by_${by}`), label], [t("an_col_spaces"), (r) => fmt.num(r.spaces)],
        [t("an_s_util"), (r) => fmt.pct(p100(r.utilisation))], [t("an_s_coverage"), (r) => fmt.pct(p100(r.coverage))],
        [t("an_col_occupied_h"), (r) => fmt.num(r.occupied_s / 3600, 1)],
        [t("an_col_observed_h"), (r) => fmt.num(r.observed_s / 3600, 1)],
      ], rows);
    },
    renderDays(d, by, label) {
      const rows = d.main.rows;
      const description = t("an_util_days_desc", { n: new Set(rows.map((r) => r[by])).size });
      draw("util", utilisationDaysOption(rows, d.cov.rows, { by, label, fmt, t, description }));
      coverage("util", rows, d.main.meta);
      table("util", [
        [t("an_col_day"), (r) => fmt.day(r.bucket)], [t(`an_by_${by}`), label],
        [t("an_s_util"), (r) => fmt.pct(p100(r.utilisation))],
        [t("an_s_coverage"), (r) => fmt.pct(p100(r.coverage))],
      ], rows);
    },
  },
  peaks: {
    exportPath: () => sitePath("peaks"),
    exportParams: () => ({ ...period(), by: "site", daily: true }),
    async load() {
      const daily = await getJson(sitePath("peaks"), { ...period(), by: "site", daily: true }, state.key);
      const summary = await getJson(sitePath("peaks"), { ...period(), by: "site" }, state.key);
      const cov = await getJson(sitePath("utilisation"), { ...period(), by: "site", bucket: "day" }, state.key);
      return { main: daily, summary, cov };
    },
    render(d) {
      const rows = d.main.rows;
      const summary = d.summary.rows[0];
      const description = t("an_peaks_desc", { n: rows.length, max: fmt.num(summary?.max_peak), p90: fmt.num(summary?.p90_peak, 1) });
      draw("peaks", peaksOption(rows, summary, d.cov.rows, { fmt, t, description }));
      coverage("peaks", d.cov.rows, d.main.meta);
      const byDay = new Map(d.cov.rows.map((c) => [c.bucket.slice(0, 10), c.coverage]));
      table("peaks", [
        [t("an_col_day"), (r) => fmt.day(r.day)], [t("an_s_peak"), (r) => fmt.num(r.peak)],
        [t("an_col_peak_at"), (r) => (r.peak_at ? new Intl.DateTimeFormat(locale(), { hour: "2-digit", minute: "2-digit", timeZone: state.site.timezone }).format(new Date(r.peak_at)) : t("dash"))],
        [t("an_s_coverage"), (r) => fmt.pct(p100(byDay.get(r.day.slice(0, 10))))],
      ], rows);
    },
  },
  heatmap: {
    exportPath: () => sitePath("heatmap"),
    exportParams: () => period(),
    async load() {
      return { main: await getJson(sitePath("heatmap"), period(), state.key) };
    },
    render(d) {
      const rows = d.main.rows;
      const wd = weekdays();
      draw("heatmap", heatmapOption(rows, { fmt, t, weekdays: wd, description: t("an_heatmap_desc", { n: rows.length }) }));
      coverage("heatmap", rows, d.main.meta);
      table("heatmap", [
        [t("an_col_weekday"), (r) => wd[r.weekday]], [t("an_col_hour"), (r) => `${String(r.hour).padStart(2, "0")}:00`],
        [t("an_s_util"), (r) => fmt.pct(p100(r.utilisation))], [t("an_s_coverage"), (r) => fmt.pct(p100(r.coverage))],
      ], rows);
    },
  },
  health: {
    exportPath: () => sitePath("sensors/health/history"),
    exportParams: () => ({ ...period(), bucket: days() <= 2 ? "hour" : "day" }),
    async load() {
      return { main: await getJson(sitePath("sensors/health/history"), this.exportParams(), state.key) };
    },
    render(d) {
      const rows = d.main.rows;
      const hourly = d.main.meta.bucket === "hour";
      const bucketLabel = (b) => (hourly ? `${days() > 1 ? `${fmt.day(b)} ` : ""}${b.slice(11, 16)}` : fmt.day(b));
      const worst = rows.reduce((m, r) => Math.max(m, r.silent + r.partial), 0);
      draw("health", healthOption(rows, { fmt, t, bucketLabel, description: t("an_health_desc", { n: rows.length, worst }) }));
      coverage("health", rows, d.main.meta);
      table("health", [
        [t(hourly ? "an_col_hour" : "an_col_day"), (r) => bucketLabel(r.bucket)], [t("an_s_sensors"), (r) => fmt.num(r.sensors)],
        [t("an_s_reporting"), (r) => fmt.num(r.reporting)], [t("an_s_partial"), (r) => fmt.num(r.partial)],
        [t("an_s_silent"), (r) => fmt.num(r.silent)], [t("an_s_coverage"), (r) => fmt.pct(p100(r.coverage))],
      ], rows);
    },
  },
};

REPORTS.energy = energyReport({
  $, sitePath, period, state, getJson, draw, table: (...a) => table(...a), fmt, t, groupName, nameIn,
  weekdayName: (wd) => new Intl.DateTimeFormat(locale(), { weekday: "long", timeZone: "UTC" })
    .format(new Date(Date.UTC(2024, 0, 1 + ["mon", "tue", "wed", "thu", "fri", "sat", "sun"].indexOf(wd)))),
});

// ---------------------------------------------------------------- rendering
function coverage(tab, rows, meta) {
  const opening = rows.reduce((s, r) => s + (r.opening_s || 0), 0);
  const observed = rows.reduce((s, r) => s + (r.observed_s || 0), 0);
  const parts = [opening > 0 ? t("an_coverage", { pct: fmt.pct((observed / opening) * 100) }) : t("an_coverage_none")];
  parts.push(t("an_source", { summaries: meta.days_from_summaries, raw: meta.days_from_raw.length }));
  if (meta.missing_days?.length) parts.push(t("an_missing_days", { n: meta.missing_days.length }));
  const el = $(`cov-${tab}`);
  el.textContent = parts.join(" · ");
  el.dataset.coverage = opening > 0 ? String(observed / opening) : "";
}

function table(tab, columns, rows) {
  const el = $(`table-${tab}`);
  el.replaceChildren();
  const caption = el.createCaption();
  caption.textContent = t("an_table_caption");
  // the table may scroll sideways on a phone: its wrapper is a named, focusable region
  const wrap = el.parentElement;
  wrap.tabIndex = 0;
  wrap.setAttribute("role", "region");
  wrap.setAttribute("aria-label", t("an_table_caption"));
  const head = el.createTHead().insertRow();
  for (const [title] of columns) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = title;
    head.append(th);
  }
  const body = el.createTBody();
  if (!rows.length) {
    const cell = body.insertRow().insertCell();
    cell.colSpan = columns.length;
    cell.textContent = t("an_no_rows");
  }
  for (const row of rows) {
    const tr = body.insertRow();
    columns.forEach(([, value], i) => {
      const cell = i === 0 ? document.createElement("th") : document.createElement("td");
      if (i === 0) cell.scope = "row";
      cell.textContent = value(row);
      tr.append(cell);
    });
  }
}

function exportsBar(tab) {
  const box = document.querySelector(`.exports[data-report="${tab}"]`);
  box.replaceChildren();
  const label = document.createElement("span");
  label.textContent = t("an_download");
  box.append(label);
  for (const format of ["csv", "xlsx"]) {
    const b = document.createElement("button");
    b.type = "button";
    b.dataset.format = format;
    b.textContent = format.toUpperCase();
    b.setAttribute("aria-label", t("an_download_as", { format: format.toUpperCase(), report: t(`an_tab_${tab}`) }));
    b.addEventListener("click", async () => {
      try {
        const name = await download(REPORTS[tab].exportPath(), { ...REPORTS[tab].exportParams(), format }, state.key);
        $("status").textContent = t("an_downloaded", { name });
      } catch (exc) {
        failed(tab, exc);
      }
    });
    box.append(b);
  }
}

function failed(tab, exc) {
  if (exc instanceof ApiError && exc.status === 401) return showSignedOut(state, "signin_invalid");
  const msg = exc instanceof ApiError && exc.status === 403 ? t("an_forbidden") : t("an_error", { msg: exc.message });
  const cov = $(`cov-${tab}`);
  if (cov) cov.textContent = msg;
  $("status").textContent = msg;
}

async function show(tab, { reload = false } = {}) {
  state.tab = tab;
  for (const name of TABS) {
    const on = name === tab;
    $(`tab-${name}`).setAttribute("aria-selected", String(on));
    $(`tab-${name}`).tabIndex = on ? 0 : -1;
    $(`panel-${name}`).hidden = !on;
  }
  const report = REPORTS[tab];
  if (!report || !state.site) return;
  const options = { util: [state.utilBy, state.utilView], energy: [state.energyBy] }[tab] || "";
  const id = JSON.stringify([state.site.id, period(), options]);
  try {
    if (reload || state.data[tab]?.id !== id) {
      $("status").textContent = t("an_loading");
      $(`chart-${tab}`).dataset.ready = "false";
      state.data[tab] = { id, ...(await report.load()) };
    }
    report.render(state.data[tab]);
    exportsBar(tab);
    charts.resize(tab);
    $("status").textContent = t("an_loaded", { report: t(`an_tab_${tab}`) });
  } catch (exc) {
    failed(tab, exc);
  }
}

// ------------------------------------------------------------------ wiring
function tabKeys(event) {
  const i = TABS.indexOf(event.target.dataset.tab);
  const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: TABS.length - 1 }[event.key];
  if (next === undefined) return;
  event.preventDefault();
  const tab = TABS[(next + TABS.length) % TABS.length];
  $(`tab-${tab}`).focus();
  show(tab);
}

function readPeriodForm() {
  const from = $("from").value;
  const last = $("last").value;
  if (!from || !last || last < from) {
    $("period-error").textContent = t("an_bad_period");
    return false;
  }
  $("period-error").textContent = "";
  state.from = from;
  state.last = last;
  return true;
}

function setPeriod([from, last]) {
  $("from").value = from;
  $("last").value = last;
  readPeriodForm();
}

async function setLang(l) {
  await loadPageTexts("analytics", l);
  applyStatic();
  document.title = t("an_doc_title");
  showLang(lang());
  fillSites();
  if (state.site) show(state.tab);
}

function fillSites() {
  const select = $("site");
  select.replaceChildren(...state.sites.map((s) => new Option(nameIn(s), s.id, false, s.id === state.site?.id)));
}

async function chooseSite(id) {
  state.site = await getJson(`/v1/sites/${encodeURIComponent(id)}`, {}, state.key);
  state.data = {};
}

async function start() {
  try {
    state.sites = await getJson("/v1/sites", {}, state.key);
  } catch (exc) {
    return showSignedOut(state, exc instanceof ApiError && exc.status === 401 ? "signin_invalid" : null);
  }
  showSignedIn();
  await applyHash({ initial: true });
}

// The view in the fragment (#from=...&last=...&tab=...&site=...): at start and
// whenever a link or the address bar changes it, as a fragment change does not reload.
async function applyHash({ initial = false } = {}) {
  const hash = new URLSearchParams(location.hash.slice(1));
  const site = hash.get("site") || (initial ? state.sites[0].id : null);
  if (site && site !== state.site?.id) await chooseSite(site);
  fillSites();
  if (hash.get("from") && hash.get("last")) setPeriod([hash.get("from"), hash.get("last")]);
  else if (initial) setPeriod(preset("month"));
  const tab = hash.get("tab");
  await show(TABS.includes(tab) ? tab : initial ? "util" : state.tab);
}

function wire() {
  onLangPick(setLang);
  for (const b of document.querySelectorAll('[role="tab"]')) {
    b.addEventListener("click", () => show(b.dataset.tab));
    b.addEventListener("keydown", tabKeys);
  }
  for (const b of document.querySelectorAll("[data-preset]")) {
    b.addEventListener("click", () => {
      setPeriod(preset(b.dataset.preset));
      show(state.tab, { reload: true });
    });
  }
  $("period").addEventListener("submit", (e) => {
    e.preventDefault();
    if (readPeriodForm()) show(state.tab, { reload: true });
  });
  $("site").addEventListener("change", async (e) => {
    await chooseSite(e.target.value);
    show(state.tab);
  });
  for (const r of document.querySelectorAll('input[name="util-by"]')) {
    r.addEventListener("change", () => {
      state.utilBy = r.value;
      show("util");
    });
  }
  for (const r of document.querySelectorAll('input[name="util-view"]')) {
    r.addEventListener("change", () => {
      state.utilView = r.value;
      show("util");
    });
  }
  for (const r of document.querySelectorAll('input[name="energy-by"]')) {
    r.addEventListener("change", () => {
      state.energyBy = r.value;
      show("energy");
    });
  }
  wireSignin(state, start);
  charts.resizeWithWindow();
  window.addEventListener("hashchange", () => {
    state.key = takeKey() || state.key;
    if (state.key && state.site) applyHash();
  });
}

async function main() {
  renderHeader();
  wire();
  await setLang(preferredLang());
  state.key = takeKey();
  if (!state.key) return showSignedOut(state, null);
  await start();
}

window.analyticsReady = main();
export { LANGS };
