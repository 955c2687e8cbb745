// Filters of the plan (space type, zone, agency) and the search by space or
// room name. Filtered-out spaces are dimmed, never removed; search results
// are ringed on the plan and listed, across every floor of the site.

import { formatNumber, t } from "./i18n.js";

const $ = (id) => document.getElementById(id);

// Lower case without accents, so "saarinen" finds "Saarinen" and "ostra" "östra".
export function fold(text) {
  return String(text || "")
    .normalize("NFD")
    .replace(/\p{M}/gu, "")
    .toLowerCase()
    .trim();
}

// ctx: {zones: Map, agencies: Map, nameOf(obj), typeName(type), spaceName(space)}
export class Filters {
  constructor(ctx, { onChange }) {
    this.ctx = ctx;
    for (const id of ["filter-type", "filter-zone", "filter-agency"]) {
      $(id).addEventListener("change", () => onChange());
    }
  }

  values() {
    return { type: $("filter-type").value, zone: $("filter-zone").value, agency: $("filter-agency").value };
  }

  get active() {
    const v = this.values();
    return Boolean(v.type || v.zone || v.agency);
  }

  // Options for the spaces of the floor shown; a choice that still exists is kept.
  populate(spaces) {
    const { zones, agencies, nameOf, typeName } = this.ctx;
    const types = [...new Set(spaces.map((s) => s.type))];
    const zoneIds = [...new Set(spaces.map((s) => s.zone))];
    const agencyIds = [...new Set(zoneIds.map((z) => zones.get(z)?.agency || ""))];
    const cap = (text) => text.charAt(0).toUpperCase() + text.slice(1);
    fill($("filter-type"), t("filter_all_types"), types.map((ty) => [ty, cap(typeName(ty))]));
    fill($("filter-zone"), t("filter_all_zones"), zoneIds.map((z) => [z, nameOf(zones.get(z))]));
    fill(
      $("filter-agency"),
      t("filter_all_agencies"),
      agencyIds.map((a) => [a || "-", a ? nameOf(agencies.get(a)) || a : t("filter_shared")]),
    );
  }

  // Whether a space passes the filters.
  keep(space) {
    const v = this.values();
    const zone = this.ctx.zones.get(space.zone);
    if (v.type && space.type !== v.type) return false;
    if (v.zone && space.zone !== v.zone) return false;
    if (v.agency && (zone?.agency || "-") !== v.agency) return false;
    return true;
  }
}

function fill(select, allText, options) {
  const keep = select.value;
  select.replaceChildren(new Option(allText, ""), ...options.map(([v, text]) => new Option(text, v)));
  select.value = options.some(([v]) => v === keep) ? keep : "";
}

// Spaces whose name (in any language) or id contains the query, best first:
// names that start with it, then by name.
export function searchSpaces(spaces, query, ctx) {
  const q = fold(query);
  if (!q) return [];
  const scored = [];
  for (const s of spaces) {
    const names = [ctx.spaceName(s), s.name, s.name_sv, s.name_en, s.id].filter(Boolean).map(fold);
    if (!names.some((n) => n.includes(q))) continue;
    const starts = names.some((n) => n.startsWith(q) || n.includes(` ${q}`));
    scored.push([starts ? 0 : 1, ctx.spaceName(s), s]);
  }
  scored.sort((a, b) => a[0] - b[0] || a[1].localeCompare(b[1]));
  return scored.map(([, , s]) => s);
}

// The result list: each result names its floor; choosing one goes there.
export function renderSearch(matches, query, { floorName, onChoose, ctx }) {
  const status = $("search-status");
  const list = $("search-results");
  if (!query.trim()) {
    status.textContent = "";
    list.replaceChildren();
    return;
  }
  status.textContent = matches.length
    ? t("search_count", { n: matches.length, count: formatNumber(matches.length) })
    : t("search_none", { q: query.trim() });
  list.replaceChildren(
    ...matches.slice(0, 8).map((s) => {
      const li = document.createElement("li");
      const b = document.createElement("button");
      b.type = "button";
      b.dataset.space = s.id;
      const name = document.createElement("span");
      name.className = "r-name";
      name.textContent = ctx.spaceName(s);
      const meta = document.createElement("span");
      meta.className = "r-meta";
      meta.textContent = `${ctx.typeName(s.type)} · ${floorName(s)}`;
      b.append(name, meta);
      b.addEventListener("click", () => onChoose(s));
      li.append(b);
      return li;
    }),
  );
}
