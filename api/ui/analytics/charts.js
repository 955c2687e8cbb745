// ECharts options built from the API's report rows. Each function takes the
// rows as the API sent them and returns the option; the figures go in
// unchanged (ratios times 100 as percentages), so a test can read them back
// from the chart instance (getOption) and compare them with the API.

import { AMBER, BLUE, GREY, NAVY, RED, baseOption, pct } from "../common/charts.js";

const base = (fmt, description) => baseOption(description, { valueFormatter: (v) => fmt.pct(v) });

// rows of /utilisation?by=zone|floor|agency; label(row) is the group's name
export function utilisationOption(rows, { label, fmt, t, description }) {
  const names = rows.map(label);
  return {
    ...base(fmt, description),
    grid: { left: 8, right: 64, top: 40, bottom: 8, containLabel: true }, // room for "100 %" labels
    yAxis: { type: "category", data: names, inverse: true, axisLabel: { width: 140, overflow: "truncate" } },
    xAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: (v) => `${v} %` } },
    series: [
      {
        id: "utilisation",
        name: t("an_s_util"),
        type: "bar",
        data: rows.map((r) => pct(r.utilisation)),
        itemStyle: { color: NAVY },
        label: { show: true, position: "right", formatter: (p) => fmt.pct(p.value) },
      },
      {
        id: "coverage",
        name: t("an_s_coverage"),
        type: "bar",
        data: rows.map((r) => pct(r.coverage)),
        itemStyle: { color: "#9db4d6", decal: { symbol: "rect", dashArrayX: [1, 0], dashArrayY: [2, 3], rotation: 0.8 } },
        label: { show: true, position: "right", formatter: (p) => fmt.pct(p.value), color: "#3b4654" },
      },
    ],
  };
}

// rows of /utilisation?by=...&bucket=day (one line per group), coverage:
// /utilisation?by=site&bucket=day rows (the site's coverage per day)
export function utilisationDaysOption(rows, coverage, { by, label, fmt, t, description }) {
  const days = [...new Set(rows.map((r) => r.bucket.slice(0, 10)))].sort();
  const groups = [...new Set(rows.map((r) => r[by]))];
  const cell = new Map(rows.map((r) => [`${r[by]}|${r.bucket.slice(0, 10)}`, r.utilisation]));
  const cov = new Map(coverage.map((c) => [c.bucket.slice(0, 10), c.coverage]));
  const symbols = ["circle", "rect", "diamond", "triangle", "roundRect", "pin", "arrow"];
  return {
    ...base(fmt, description),
    xAxis: { type: "category", data: days, axisLabel: { formatter: fmt.day } },
    yAxis: [
      { type: "value", min: 0, max: 100, axisLabel: { formatter: (v) => `${v} %` } },
      { type: "value", min: 0, max: 100, show: false },
    ],
    series: [
      ...groups.map((g, i) => ({
        id: `g:${g}`, name: label({ [by]: g }), type: "line", symbol: symbols[i % symbols.length], symbolSize: 8,
        data: days.map((d) => pct(cell.get(`${g}|${d}`) ?? null)), connectNulls: false,
      })),
      {
        id: "coverage", name: t("an_s_coverage_site"), type: "line", yAxisIndex: 1,
        data: days.map((d) => pct(cov.get(d) ?? null)), lineStyle: { type: "dashed", color: GREY },
        itemStyle: { color: GREY }, symbol: "none",
      },
    ],
  };
}

// days: /peaks?daily=true rows; summary: the /peaks summary row (max, p90);
// coverage: /utilisation?by=site&bucket=day rows, matched by day
export function peaksOption(days, summary, coverage, { fmt, t, description }) {
  const labels = days.map((d) => d.day.slice(0, 10));
  const byDay = new Map(coverage.map((c) => [c.bucket.slice(0, 10), c.coverage]));
  const marks = [];
  if (summary) {
    marks.push({ name: t("an_s_p90"), yAxis: summary.p90_peak, lineStyle: { color: AMBER, type: "dashed", width: 2 },
      label: { formatter: `p90 ${fmt.num(summary.p90_peak, 1)}`, color: AMBER, position: "insideEndBottom" } });
    marks.push({ name: t("an_s_max"), yAxis: summary.max_peak, lineStyle: { color: RED, type: "dotted", width: 2 },
      label: { formatter: `max ${fmt.num(summary.max_peak)}`, color: RED, position: "insideStartTop" } });
  }
  return {
    ...base(fmt, description),
    tooltip: { trigger: "axis", confine: true },
    xAxis: { type: "category", data: labels, axisLabel: { formatter: fmt.day } },
    yAxis: [
      { type: "value", minInterval: 1 },
      { type: "value", min: 0, max: 100, axisLabel: { formatter: (v) => `${v} %` }, splitLine: { show: false } },
    ],
    series: [
      {
        id: "peak",
        name: t("an_s_peak"),
        type: "bar",
        data: days.map((d) => d.peak),
        itemStyle: { color: NAVY },
        barMaxWidth: 56,
        markLine: { symbol: "none", silent: true, data: marks },
      },
      {
        id: "coverage",
        name: t("an_s_coverage"),
        type: "line",
        yAxisIndex: 1,
        data: labels.map((d) => pct(byDay.get(d) ?? null)),
        itemStyle: { color: BLUE },
        symbol: "triangle",
        symbolSize: 9,
        tooltip: { valueFormatter: (v) => fmt.pct(v) },
      },
    ],
  };
}

// rows of /heatmap: weekday (0 = Monday), local hour, utilisation, coverage
export function heatmapOption(rows, { fmt, t, weekdays, description }) {
  const hours = rows.map((r) => r.hour);
  const first = hours.length ? Math.min(...hours) : 8;
  const last = hours.length ? Math.max(...hours) : 17;
  const hourLabels = [];
  for (let h = first; h <= last; h++) hourLabels.push(String(h).padStart(2, "0"));
  return {
    ...base(fmt, description),
    // one series: a decal pattern would only hide the numbers
    aria: { enabled: true, label: { description }, decal: { show: false } },
    legend: { show: false },
    tooltip: {
      confine: true,
      formatter: (p) =>
        `${weekdays[p.value[1]]} ${hourLabels[p.value[0]]}:00<br>${t("an_s_util")}: ${fmt.pct(p.value[2])}` +
        `<br>${t("an_s_coverage")}: ${fmt.pct(p.value[3])}`,
    },
    grid: { left: 8, right: 8, top: 8, bottom: 56, containLabel: true },
    xAxis: { type: "category", data: hourLabels },
    yAxis: { type: "category", data: weekdays, inverse: true, splitLine: { show: true } },
    visualMap: {
      min: 0, max: 100, calculable: false, orient: "horizontal", left: "center", bottom: 0,
      dimension: 2, text: ["100 %", "0 %"], itemHeight: 160,
      inRange: { color: ["#e3eaf5", "#9db4d6", "#3c6aa8", NAVY] },
    },
    series: [
      {
        id: "heatmap",
        name: t("an_s_util"),
        type: "heatmap",
        data: rows.map((r) => [r.hour - first, r.weekday, pct(r.utilisation), pct(r.coverage)]),
        label: { show: true, formatter: (p) => fmt.num(p.value[2]), fontSize: 12, color: "#0b1220", textBorderColor: "#fff", textBorderWidth: 3 },
        emphasis: { itemStyle: { borderColor: "#000", borderWidth: 1 } },
      },
    ],
  };
}

// rows of /sensors/health/history
export function healthOption(rows, { fmt, t, bucketLabel, description }) {
  const labels = rows.map((r) => bucketLabel(r.bucket));
  const stack = (id, key, color, decal) => ({
    id, name: t(`an_s_${id}`), type: "bar", stack: "sensors", data: rows.map((r) => r[key]), barMaxWidth: 56,
    itemStyle: { color, decal }, tooltip: { valueFormatter: (v) => fmt.num(v) },
  });
  return {
    ...base(fmt, description),
    tooltip: { trigger: "axis", confine: true },
    xAxis: { type: "category", data: labels },
    yAxis: [
      { type: "value", minInterval: 1 },
      { type: "value", min: 0, max: 100, axisLabel: { formatter: (v) => `${v} %` }, splitLine: { show: false } },
    ],
    series: [
      stack("reporting", "reporting", "#2f855a", { symbol: "none" }),
      stack("partial", "partial", "#d69e2e", { symbol: "rect", dashArrayX: [1, 0], dashArrayY: [3, 3], rotation: 0.8 }),
      stack("silent", "silent", GREY, { symbol: "circle", symbolSize: 0.6 }),
      {
        id: "coverage", name: t("an_s_coverage"), type: "line", yAxisIndex: 1,
        data: rows.map((r) => pct(r.coverage)), itemStyle: { color: BLUE }, symbol: "triangle", symbolSize: 9,
        tooltip: { valueFormatter: (v) => fmt.pct(v) },
      },
    ],
  };
}
