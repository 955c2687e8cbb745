// The Energy tab: empty conditioned space per zone or floor over the period
// (GET .../energy, bucket=year, added up per group) and the floor closings
// that measured demand allows (GET .../energy/closing). Definitions:
// docs/metrics.md, "Energy of empty conditioned space".

import { GREY, NAVY, baseOption, pct } from "../common/charts.js";

// per group: the year rows of the period added up (a period across New Year has two)
export function energyGroups(rows) {
  const out = new Map();
  for (const r of rows) {
    const key = `${r.level}:${r.group}`;
    const g = out.get(key) || { level: r.level, group: r.group, area_m2: r.area_m2, conditioned_m2h: 0, empty_m2h: 0, unknown_m2h: 0, empty_kwh: 0, empty_kg_co2: 0, unknown_kwh: 0 };
    for (const k of ["conditioned_m2h", "empty_m2h", "unknown_m2h", "empty_kwh", "empty_kg_co2", "unknown_kwh"]) g[k] += r[k];
    out.set(key, g);
  }
  for (const g of out.values()) {
    g.empty_share = g.conditioned_m2h ? g.empty_m2h / g.conditioned_m2h : null;
    g.unknown_share = g.conditioned_m2h ? g.unknown_m2h / g.conditioned_m2h : null;
    g.conditioned_h = g.area_m2 ? g.conditioned_m2h / g.area_m2 : null;
    g.empty_h = g.area_m2 ? g.empty_m2h / g.area_m2 : null;
  }
  return [...out.values()];
}

export function energyOption(groups, { label, fmt, t, description }) {
  return {
    ...baseOption(description, { valueFormatter: (v) => fmt.pct(v), color: [NAVY, GREY] }),
    grid: { left: 8, right: 64, top: 40, bottom: 8, containLabel: true },
    yAxis: { type: "category", data: groups.map(label), inverse: true, axisLabel: { width: 140, overflow: "truncate" } },
    xAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: (v) => `${v} %` } },
    series: [
      { id: "empty", name: t("an_s_empty_share"), type: "bar", stack: "share", data: groups.map((g) => pct(g.empty_share)),
        itemStyle: { color: NAVY }, label: { show: true, position: "insideLeft", color: "#fff", formatter: (p) => (p.value >= 8 ? fmt.pct(p.value) : "") } },
      { id: "unknown", name: t("an_s_unknown_share"), type: "bar", stack: "share", data: groups.map((g) => pct(g.unknown_share)),
        itemStyle: { color: "#c5cbd3", decal: { symbol: "rect", dashArrayX: [1, 0], dashArrayY: [2, 3], rotation: 0.8 } } },
    ],
  };
}

// the sentence of one recommended closing, in the page's language
export function closingSentence(row, { t, fmt, floorName, dayName, margin }) {
  const others = row.other_floors.split(",").filter(Boolean).map(floorName).join(", ");
  return t("an_energy_rec", {
    floor: floorName(row.floor), day: dayName(row.weekday), share: fmt.pct(pct(row.empty_share)),
    peak: fmt.num(row.max_peak), desks: fmt.num(row.desks_left), others, margin: fmt.num(margin * 100),
    kwh: fmt.num(row.saving_kwh_year), co2: fmt.num(row.saving_kg_co2_year),
  });
}

export function energyReport({ $, sitePath, period, state, getJson, draw, table, fmt, t, groupName, nameIn, weekdayName }) {
  return {
    exportPath: () => sitePath("energy"),
    exportParams: () => ({ ...period(), by: state.energyBy, bucket: "month" }),
    async load() {
      const main = await getJson(sitePath("energy"), { ...period(), by: state.energyBy, bucket: "year" }, state.key);
      const closing = await getJson(sitePath("energy/closing"), period(), state.key);
      return { main, closing };
    },
    render(d) {
      const by = d.main.meta.by;
      const all = energyGroups(d.main.rows);
      const groups = all.filter((g) => g.level === by);
      const site = all.find((g) => g.level === "site");
      const label = (g) => groupName(by, g.group);
      $("chart-energy").style.height = `${Math.max(300, groups.length * 40 + 90)}px`;
      draw("energy", energyOption(groups, { label, fmt, t, description: t("an_energy_desc", { n: groups.length }) }));
      const a = d.main.meta.assumptions;
      $("energy-totals").textContent = site
        ? t("an_energy_totals", { m2h: fmt.num(site.empty_m2h), kwh: fmt.num(site.empty_kwh), co2: fmt.num(site.empty_kg_co2),
            share: fmt.pct(pct(site.empty_share)), unknown: fmt.pct(pct(site.unknown_share)) })
        : t("an_energy_none");
      $("energy-assumptions").textContent = t("an_energy_assumptions", {
        intensity: fmt.num(a.intensity_kwh_per_m2_h, 3), emission: fmt.num(a.emission_g_per_kwh) });
      const meta = d.main.meta;
      $("cov-energy").textContent = t("an_source", { summaries: meta.energy_days_from_summaries, raw: meta.energy_days_from_raw.length });
      table("energy", [
        [t(`an_by_${by}`), label], [t("an_col_area"), (g) => fmt.num(g.area_m2)],
        [t("an_col_conditioned_h"), (g) => fmt.num(g.conditioned_h, 1)], [t("an_col_empty_h"), (g) => fmt.num(g.empty_h, 1)],
        [t("an_s_empty_share"), (g) => fmt.pct(pct(g.empty_share))], [t("an_s_unknown_share"), (g) => fmt.pct(pct(g.unknown_share))],
        [t("an_col_kwh"), (g) => fmt.num(g.empty_kwh)], [t("an_col_co2"), (g) => fmt.num(g.empty_kg_co2)],
      ], groups);
      const list = $("energy-recs");
      list.replaceChildren();
      const recs = d.closing.rows.filter((r) => r.recommended);
      const floorName = (id) => nameIn(state.site.floors.find((f) => f.id === id)) || id;
      for (const r of recs) {
        const li = document.createElement("li");
        li.textContent = closingSentence(r, { t, fmt, floorName, dayName: weekdayName, margin: d.closing.meta.margin });
        list.append(li);
      }
      if (!recs.length) {
        const li = document.createElement("li");
        li.textContent = t("an_energy_no_recs");
        list.append(li);
      }
    },
  };
}
