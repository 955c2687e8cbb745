// ECharts options of the agency report, built from the report's JSON
// (GET /v1/agencies/{agency}/report) as it is: ratios times 100 as
// percentages, so a test can read the figures back (getOption) and compare.

import { AMBER, NAVY, PALETTE as COLOURS, RED, baseOption, pct } from "../common/charts.js";

const PALE = "#aab4c3";
const base = (description, valueFormatter) => baseOption(description, { valueFormatter });

// the agency's m²/htv per month against the target and the portfolio
export function trendOption(trend, { t, fmt, label, description }) {
  return {
    ...base(description, (v) => fmt.num(v, 1)),
    xAxis: { type: "category", data: trend.map((r) => label(r.month)) },
    yAxis: { type: "value", min: 0, name: "m²/htv" },
    series: [
      {
        id: "agency", name: t("ag_s_agency"), type: "bar", barMaxWidth: 48,
        data: trend.map((r) => ({ value: r.m2_per_htv, itemStyle: { color: r.measured ? NAVY : PALE } })),
      },
      {
        id: "target", name: t("ag_s_target"), type: "line", step: "middle", symbol: "none",
        data: trend.map((r) => r.target_m2_per_htv), lineStyle: { color: RED, type: "dashed", width: 2 },
        itemStyle: { color: RED },
      },
      {
        id: "portfolio", name: t("ag_s_portfolio"), type: "line", symbol: "diamond", symbolSize: 10,
        data: trend.map((r) => r.portfolio_m2_per_htv), itemStyle: { color: AMBER }, lineStyle: { color: AMBER },
      },
    ],
  };
}

// each site's daily peak of presence over the open days of the period (fractional: the pool share)
export function dailyOption(sites, { t, fmt, day, description }) {
  const days = [...new Set(sites.flatMap((s) => s.open_days))].sort();
  return {
    ...base(description, (v) => fmt.num(v, 1)),
    xAxis: { type: "category", data: days, axisLabel: { formatter: day } },
    yAxis: { type: "value", minInterval: 1 },
    series: sites.map((s) => {
      const peak = new Map(s.daily_peaks.map((d) => [d.day, d.peak]));
      return { id: `site:${s.id}`, name: s.name, type: "bar", barMaxWidth: 40, data: days.map((d) => peak.get(d) ?? null) };
    }),
  };
}

// mean use rate per weekday, a series per site (and the total for several)
export function weekdayOption(groups, { t, fmt, weekdays, description }) {
  const used = [...new Set(groups.flatMap((g) => g.weekday_use.map((w) => w.weekday)))].sort();
  return {
    ...base(description, (v) => fmt.pct(v)),
    xAxis: { type: "category", data: used.map((w) => weekdays[w]) },
    yAxis: { type: "value", min: 0, axisLabel: { formatter: (v) => `${v} %` } },
    series: groups.map((g) => {
      const rate = new Map(g.weekday_use.map((w) => [w.weekday, w.use_rate_mean]));
      return {
        id: g.id, name: g.name, type: "bar", barMaxWidth: 48,
        data: used.map((w) => pct(rate.get(w) ?? null)),
        label: { show: true, position: "top", formatter: (p) => fmt.pct(p.value) },
      };
    }),
  };
}

// utilisation of the agency's own and the shared zones of every site
export function zonesOption(rows, { t, fmt, description }) {
  return {
    ...base(description, (v) => fmt.pct(v)),
    grid: { left: 8, right: 64, top: 40, bottom: 8, containLabel: true },
    yAxis: { type: "category", data: rows.map((r) => r.label), inverse: true, axisLabel: { width: 180, overflow: "truncate" } },
    xAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: (v) => `${v} %` } },
    series: [
      {
        id: "utilisation", name: t("ag_s_util"), type: "bar", data: rows.map((r) => pct(r.utilisation)),
        itemStyle: { color: NAVY }, label: { show: true, position: "right", formatter: (p) => fmt.pct(p.value) },
      },
      {
        id: "coverage", name: t("ag_s_coverage"), type: "bar", data: rows.map((r) => pct(r.coverage)),
        itemStyle: { color: "#9db4d6" }, label: { show: true, position: "right", formatter: (p) => fmt.pct(p.value), color: "#3b4654" },
      },
    ],
  };
}

// the expected daily peak of each site with its 80 % interval (a band)
export function forecastOption(sites, { t, fmt, day, description }) {
  const days = [...new Set(sites.flatMap((s) => s.forecast.rows.map((r) => r.day)))].sort();
  const series = [];
  sites.forEach((s, i) => {
    const row = new Map(s.forecast.rows.map((r) => [r.day, r]));
    const lower = days.map((d) => row.get(d)?.lower ?? null);
    const width = days.map((d) => (row.has(d) ? row.get(d).upper - row.get(d).lower : null));
    const stack = `band:${s.id}`;
    series.push({ id: `lower:${s.id}`, type: "line", stack, data: lower, lineStyle: { opacity: 0 }, symbol: "none", tooltip: { show: false }, silent: true });
    series.push({
      id: `band:${s.id}`, name: t("ag_s_interval", { site: s.name }), type: "line", stack, data: width,
      lineStyle: { opacity: 0 }, symbol: "none", areaStyle: { color: COLOURS[i % COLOURS.length], opacity: 0.18 }, silent: true,
      itemStyle: { color: COLOURS[i % COLOURS.length], opacity: 0.35 }, // the legend's swatch: the band's colour
    });
    series.push({
      id: `forecast:${s.id}`, name: s.name, type: "line", symbol: "circle", symbolSize: 8,
      data: days.map((d) => row.get(d)?.forecast ?? null), itemStyle: { color: COLOURS[i % COLOURS.length] },
    });
  });
  return {
    ...base(description, (v) => fmt.num(v, 1)),
    xAxis: { type: "category", data: days, axisLabel: { formatter: day } },
    yAxis: { type: "value", min: 0, minInterval: 1 },
    series,
  };
}
