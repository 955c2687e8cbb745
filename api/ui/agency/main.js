// The agency report page: one agency, a month or a year, drawn from
// GET /v1/agencies/{agency}/report (the same data the PDF is made of),
// names in the page's language, the PDF downloadable in any of the three.

import { applyStatic, lang, locale, preferredLang, t } from "../i18n.js";
import { ApiError, download, getJson, takeKey } from "../common/api.js";
import { Charts, fmt as chartFmt, weekdayNames as weekdays } from "../common/charts.js";
import { onLangPick, renderHeader, showLang } from "../common/header.js";
import { showSignedIn, showSignedOut, wireSignin } from "../common/signin.js";
import { loadPageTexts, nameIn } from "../common/texts.js";
import { dailyOption, forecastOption, trendOption, weekdayOption, zonesOption } from "./charts.js";

const $ = (id) => document.getElementById(id);
const state = { key: null, agencies: [], agency: null, kind: "month", month: null, year: null, report: null };
const chartSet = new Charts();
const draw = (id, option) => chartSet.draw(id, option);

// The figures of the summary table, in order: (column, format). A column the
// report's figures gain is shown by adding it here and its ag_f_<column> text.
const FIGURES = [
  ["headcount_htv", "num1"], ["desks", "num0"], ["area_m2", "num1"], ["m2_per_htv", "num1"],
  ["target_m2_per_htv", "num1"], ["use_rate_mean", "pct"], ["use_rate_p90", "pct"], ["use_rate_max", "pct"],
  ["peak_desks", "num1"], ["utilisation", "pct"], ["coverage", "pct"], ["desks_held", "num1"],
  ["desks_needed", "num0"], ["releasable_desks", "num0"], ["releasable_m2", "num1"], ["m2_per_htv_after", "num1"],
];
const DEFINITIONS = ["use_rate", "m2_per_htv", "utilisation", "releasable", "forecast", "portfolio"];

const fmt = {
  ...chartFmt,
  longDay: (iso) => new Intl.DateTimeFormat(locale(), { day: "numeric", month: "long", year: "numeric", timeZone: "UTC" })
    .format(new Date(`${iso.slice(0, 10)}T00:00:00Z`)),
  month: (ym) => new Intl.DateTimeFormat(locale(), { month: "short", year: "2-digit", timeZone: "UTC" })
    .format(new Date(`${ym}-01T00:00:00Z`)),
  longMonth: (ym) => new Intl.DateTimeFormat(locale(), { month: "long", year: "numeric", timeZone: "UTC" })
    .format(new Date(`${ym}-01T00:00:00Z`)),
};

function figure(value, kind) {
  if (kind === "pct") return fmt.pct(value === null || value === undefined ? null : value * 100);
  return fmt.num(value, kind === "num0" ? 0 : 1);
}

// ------------------------------------------------------------------ period
function lastMonth() {
  const now = new Date();
  const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
  return d.toISOString().slice(0, 7);
}

function query() {
  return state.kind === "year" ? { year: state.year } : { month: state.month };
}

function readForm() {
  state.kind = document.querySelector('input[name="kind"]:checked').value;
  state.agency = $("agency").value;
  state.month = $("month").value;
  state.year = $("year").value;
  const ok = state.kind === "year" ? /^[0-9]{4}$/.test(state.year) : /^[0-9]{4}-[0-9]{2}$/.test(state.month);
  $("period-error").textContent = ok ? "" : t("ag_bad_period");
  return ok;
}

function showKind() {
  const year = document.querySelector('input[name="kind"]:checked').value === "year";
  $("month-field").hidden = year;
  $("year-field").hidden = !year;
}

function writeForm() {
  $("agency").replaceChildren(...state.agencies.map((a) => new Option(nameIn(a), a.id, false, a.id === state.agency)));
  for (const r of document.querySelectorAll('input[name="kind"]')) r.checked = r.value === state.kind;
  $("month").value = state.month || "";
  $("year").value = state.year || "";
  showKind();
}

// ---------------------------------------------------------------- rendering
function periodText(r) {
  return r.period.kind === "year" ? t("ag_year_label", { year: r.period.label }) : fmt.longMonth(r.period.label);
}

function summary(r) {
  $("summary-title").textContent = t("ag_summary_title", { agency: r.agency.name, period: periodText(r) });
  $("sites-line").textContent = t("ag_sites_line", {
    sites: r.sites.map((s) => s.name).join(", "), htv: fmt.num(r.total.headcount_htv, 1),
  });
  const columns = [
    ...(r.sites.length > 1 ? r.sites.map((s) => [s.name, s.figures]) : []),
    [r.sites.length > 1 ? t("ag_col_total") : r.sites[0].name, r.total.figures],
    [t("ag_col_portfolio", { n: r.portfolio.sites }), r.portfolio.figures],
  ];
  const table = $("table-summary");
  table.replaceChildren();
  table.createCaption().textContent = t("ag_summary_caption");
  const head = table.createTHead().insertRow();
  for (const title of [t("ag_col_figure"), ...columns.map(([name]) => name)]) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = title;
    head.append(th);
  }
  const body = table.createTBody();
  for (const [col, kind] of FIGURES) {
    const tr = body.insertRow();
    const th = document.createElement("th");
    th.scope = "row";
    th.textContent = t(`ag_f_${col}`);
    tr.append(th);
    for (const [, fig] of columns) {
      const td = tr.insertCell();
      td.dataset.figure = col;
      td.textContent = figure(fig?.[col], kind);
    }
  }
  const own = r.total.figures;
  const line = $("target-line");
  line.replaceChildren();
  if (own && own.m2_per_htv !== null) {
    const meets = own.m2_per_htv <= own.target_m2_per_htv + 1e-9;
    line.append(t("ag_target_line", { value: fmt.num(own.m2_per_htv, 1), target: fmt.num(own.target_m2_per_htv, 1) }), " ");
    const verdict = document.createElement("span");
    verdict.className = meets ? "verdict-meet" : "verdict-miss";
    verdict.textContent = meets ? t("ag_meets") : t("ag_misses", { gap: fmt.num(own.m2_per_htv - own.target_m2_per_htv, 1) });
    line.append(verdict);
  }
  const whole = r.portfolio.figures;
  $("portfolio-line").textContent = whole && whole.m2_per_htv !== null
    ? t("ag_portfolio_line", { value: fmt.num(whole.m2_per_htv, 1), target: fmt.num(whole.target_m2_per_htv, 1) })
    : "";
  $("agency-key-note").hidden = !r.meta.agency_key;
}

function charts(r) {
  draw("trend", trendOption(r.trend, { t, fmt, label: fmt.month, description: t("ag_trend_desc", { n: r.trend.length }) }));
  const days = r.total.open_days.length;
  draw("daily", dailyOption(r.sites, { t, fmt, day: fmt.day, description: t("ag_daily_desc", { n: days }) }));
  const groups = r.sites.map((s) => ({ id: `site:${s.id}`, name: s.name, weekday_use: s.weekday_use }));
  if (r.sites.length > 1) groups.push({ id: "total", name: t("ag_col_total"), weekday_use: r.total.weekday_use });
  draw("weekday", weekdayOption(groups, { t, fmt, weekdays: weekdays(), description: t("ag_weekday_desc") }));
  const zones = r.sites.flatMap((s) => s.zones.map((z) => ({
    ...z, label: `${r.sites.length > 1 ? `${s.name}: ` : ""}${z.shared ? t("ag_shared_zone", { zone: z.name }) : z.name}`,
  })));
  $("chart-zones").style.height = `${Math.max(260, zones.length * 56 + 90)}px`;
  draw("zones", zonesOption(zones, { t, fmt, description: t("ag_zones_desc", { n: zones.length }) }));
  const fc = r.sites[0].forecast;
  $("forecast-explain").textContent = t("ag_forecast_explain", {
    start: fmt.longDay(fc.forecast_from), weeks: r.meta.forecast_weeks, days: fc.history_days_measured,
  });
  draw("forecast", forecastOption(r.sites, { t, fmt, day: fmt.day, description: t("ag_forecast_desc") }));
}

function coverage(r) {
  const list = $("coverage");
  list.replaceChildren(...r.sites.map((s) => {
    const li = document.createElement("li");
    li.dataset.site = s.id;
    const c = s.coverage;
    li.textContent = t("ag_coverage_line", {
      site: s.name, coverage: figure(c.coverage, "pct"), tz: s.timezone,
      summaries: c.days_from_summaries, raw: c.days_from_raw.length, measured: c.measured_days, open: s.open_days.length,
    });
    return li;
  }));
  $("definitions").replaceChildren(...DEFINITIONS.map((d) => {
    const li = document.createElement("li");
    li.textContent = t(`ag_def_${d}`, { margin: figure(r.meta.rightsizing_margin, "pct") });
    return li;
  }));
}

function energy(r) {
  // the energy section is someone else's to define; until it has its own
  // rendering, its figures as a key / value table
  $("energy").hidden = !r.energy;
  if (!r.energy) return;
  const table = $("table-energy");
  table.replaceChildren();
  const body = table.createTBody();
  for (const [k, v] of Object.entries(r.energy)) {
    const tr = body.insertRow();
    tr.insertCell().textContent = k;
    tr.insertCell().textContent = typeof v === "number" ? fmt.num(v, 1) : JSON.stringify(v);
  }
}

function render() {
  const r = state.report;
  $("report").hidden = false;
  summary(r);
  charts(r);
  coverage(r);
  energy(r);
  chartSet.resize();
}

function failed(exc) {
  if (exc instanceof ApiError && exc.status === 401) return showSignedOut(state, "signin_invalid");
  const msg = exc instanceof ApiError && exc.status === 403 ? t("ag_forbidden") : t("ag_error", { msg: exc.message });
  $("status").textContent = msg;
}

async function load() {
  if (!state.agency) return;
  $("status").textContent = t("ag_loading");
  for (const el of document.querySelectorAll(".chart")) el.dataset.ready = "false";
  try {
    const path = `/v1/agencies/${encodeURIComponent(state.agency)}/report`;
    state.report = await getJson(path, { ...query(), lang: lang() }, state.key);
    render();
    $("status").textContent = t("ag_loaded", { agency: state.report.agency.name, period: periodText(state.report) });
    history.replaceState(null, "", `#agency=${encodeURIComponent(state.agency)}&${state.kind}=${state.kind === "year" ? state.year : state.month}`);
  } catch (exc) {
    failed(exc);
  }
}

async function pdf(l) {
  if (!readForm()) return;
  try {
    const name = await download(`/v1/agencies/${encodeURIComponent(state.agency)}/report`, { ...query(), lang: l, format: "pdf" }, state.key);
    $("status").textContent = t("ag_downloaded", { name });
  } catch (exc) {
    failed(exc);
  }
}

// ------------------------------------------------------------------ wiring
async function setLang(l) {
  await loadPageTexts("agency", l);
  applyStatic();
  document.title = t("ag_doc_title");
  showLang(lang());
  for (const b of document.querySelectorAll("[data-pdf]")) b.setAttribute("aria-label", t("ag_pdf_in", { lang: b.textContent }));
  if (state.agencies.length) {
    writeForm();
    await load(); // names come in the report's language
  }
}

async function start() {
  try {
    state.agencies = await getJson("/v1/agencies", {}, state.key);
  } catch (exc) {
    return showSignedOut(state, exc instanceof ApiError && exc.status === 401 ? "signin_invalid" : null);
  }
  showSignedIn();
  const hash = new URLSearchParams(location.hash.slice(1));
  const wanted = hash.get("agency");
  state.agency = state.agencies.some((a) => a.id === wanted) ? wanted : state.agencies[0]?.id;
  state.kind = hash.get("year") ? "year" : "month";
  state.month = hash.get("month") || lastMonth();
  state.year = hash.get("year") || state.month.slice(0, 4);
  writeForm();
  await load();
}

function wire() {
  onLangPick(setLang);
  for (const r of document.querySelectorAll('input[name="kind"]')) r.addEventListener("change", showKind);
  for (const b of document.querySelectorAll("[data-pdf]")) b.addEventListener("click", () => pdf(b.dataset.pdf));
  $("period").addEventListener("submit", (e) => {
    e.preventDefault();
    if (readForm()) load();
  });
  wireSignin(state, start);
  chartSet.resizeWithWindow();
}

async function main() {
  renderHeader();
  wire();
  await setLang(preferredLang());
  state.key = takeKey();
  if (!state.key) return showSignedOut(state, null);
  await start();
}

window.agencyReady = main();
