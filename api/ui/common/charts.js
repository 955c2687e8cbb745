// What the chart pages (analytics, agency report) share about ECharts: the
// palette, the base of every option (no animation, the aria description and
// decal patterns, fonts, tooltip, legend, grid), the figure formats, and one
// chart instance per element, drawn and resized. ECharts itself is the
// vendored vendor/echarts/echarts.min.js (window.echarts), loaded by the page.

import { formatNumber, locale, t } from "../i18n.js";

export const NAVY = "#15325b";
export const BLUE = "#1a56db";
export const AMBER = "#b45309";
export const GREY = "#6b7280";
export const RED = "#b3261e";
// dark enough on white (contrast at least 3:1 for lines and markers)
export const PALETTE = [NAVY, AMBER, "#2f7a4f", "#7c3aed", "#be185d", "#0e7490", "#4b5563"];

// A ratio as a percentage: the charts hold the API's ratios times 100.
export const pct = (ratio) => (ratio === null || ratio === undefined ? null : ratio * 100);

export function baseOption(description, { valueFormatter, color = PALETTE } = {}) {
  return {
    animation: false,
    color,
    // ECharts' aria module: the canvas gets this description as its label,
    // and decal patterns tell series apart without colour.
    aria: { enabled: true, label: { description }, decal: { show: true } },
    textStyle: { fontFamily: "system-ui, sans-serif", color: "#17202b" },
    tooltip: { trigger: "axis", confine: true, valueFormatter },
    legend: { top: 0, textStyle: { fontSize: 13 } },
    grid: { left: 8, right: 16, top: 40, bottom: 8, containLabel: true },
  };
}

// Figures as the pages show them, in the page's language.
export const fmt = {
  pct: (v) => (v === null || v === undefined || Number.isNaN(v) ? t("dash") : `${formatNumber(v, 1)} %`),
  num: (v, digits = 0) => (v === null || v === undefined ? t("dash") : formatNumber(v, digits)),
  day: (iso) => new Intl.DateTimeFormat(locale(), { weekday: "short", day: "numeric", month: "numeric", timeZone: "UTC" })
    .format(new Date(`${iso.slice(0, 10)}T00:00:00Z`)),
};

// Monday first (0 = Monday, as the API counts weekdays).
export function weekdayNames(weekday = "short") {
  const f = new Intl.DateTimeFormat(locale(), { weekday, timeZone: "UTC" });
  return [0, 1, 2, 3, 4, 5, 6].map((i) => f.format(new Date(Date.UTC(2024, 0, 1 + i)))); // 2024-01-01: a Monday
}

// One ECharts instance per chart element (#chart-<id>). legendRoomOnPhone:
// on a narrow chart the legend takes two lines, so the plot starts lower.
export class Charts {
  constructor({ legendRoomOnPhone = false } = {}) {
    this.instances = new Map();
    this.legendRoomOnPhone = legendRoomOnPhone;
  }

  draw(id, option) {
    const el = document.getElementById(`chart-${id}`);
    let chart = this.instances.get(id);
    if (!chart) {
      chart = window.echarts.init(el, null, { renderer: "canvas" });
      this.instances.set(id, chart);
    }
    if (this.legendRoomOnPhone && el.clientWidth < 520 && option.legend?.show !== false) {
      option.grid = { ...option.grid, top: 64 };
    }
    chart.setOption(option, { notMerge: true });
    el.setAttribute("aria-label", option.aria.label.description);
    el.dataset.ready = "true";
  }

  resize(id) {
    if (id !== undefined) this.instances.get(id)?.resize();
    else this.instances.forEach((c) => c.resize());
  }

  resizeWithWindow() {
    window.addEventListener("resize", () => this.resize());
  }
}
