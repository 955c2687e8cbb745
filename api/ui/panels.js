// The side panels and the details dialog: the zone table, "find a free
// space", the sensors needing attention and a space's details. Each function
// takes the page's context (state, plan and naming) from app.js.

import { formatAgo, formatNumber, formatTime, lang, t } from "./i18n.js";

const ROOM_TYPES = new Set(["meeting_room", "project_room", "focus_room", "phone_booth"]);
const $ = (id) => document.getElementById(id);

export function renderZoneTable(ctx) {
  const { state, plan, countsOf, floorSpaces, liveOf, nameOf } = ctx;
  const { openDetails, spaceName, typeName, warming, zoneLabel } = ctx;
  const spaces = floorSpaces();
  const c = countsOf(spaces);
  const known = state.conn === "live" || state.live.size || ctx.replaying;
  $("floor-summary").textContent =
    known && c.total === 0
      ? t("summary_none_yours")
      : [
          t("summary_free", { n: c.free }),
          t("summary_occupied", { n: c.occupied }),
          t("summary_unknown", { n: c.unknown }),
          t("spaces_n", { n: c.total }),
        ].join(" · ");
  const rows = [];
  const zoneIds = [...new Set(spaces.map((s) => s.zone))];
  for (const zid of zoneIds) {
    const zone = state.zones.get(zid);
    const zc = countsOf(spaces.filter((s) => s.zone === zid));
    if (!zc.total) continue;
    const tr = document.createElement("tr");
    tr.dataset.zone = zid;
    const th = document.createElement("th");
    th.scope = "row";
    const { name, agency } = zoneLabel(zone);
    const sw = document.createElement("span");
    sw.className = `swatch tint-${state.zoneColours.get(zid)}`;
    sw.setAttribute("aria-hidden", "true");
    const nm = document.createElement("span");
    nm.className = "zone-name";
    nm.textContent = name;
    const ag = document.createElement("span");
    ag.className = "zone-agency";
    ag.textContent = `${agency} · ${t("spaces_n", { n: zc.total })}`;
    const bar = document.createElement("span");
    bar.className = "bar";
    bar.setAttribute("aria-hidden", "true");
    for (const st of ["occupied", "free", "unknown"]) {
      const part = document.createElement("span");
      part.className = `bar-${st}`;
      part.style.flexGrow = String(zc[st]);
      bar.append(part);
    }
    th.append(sw, nm, ag, bar);
    tr.append(th);
    for (const st of ["free", "occupied", "unknown"]) {
      const td = document.createElement("td");
      td.className = `num n-${st}`;
      td.textContent = formatNumber(zc[st]);
      tr.append(td);
    }
    tr.addEventListener("mouseenter", () => plan.highlightZone(zid));
    tr.addEventListener("mouseleave", () => plan.highlightZone(null));
    rows.push(tr);
  }
  if (!rows.length && known) {
    // an agency key on a floor without its spaces: say so, not an empty table
    const tr = document.createElement("tr");
    const td = document.createElement("td");
    td.colSpan = 4;
    td.className = "none-yours";
    td.textContent = t("summary_none_yours");
    tr.append(td);
    rows.push(tr);
  }
  $("zone-rows").replaceChildren(...rows);
}

export function renderFindZones(ctx) {
  const { state, plan, countsOf, floorSpaces, liveOf, nameOf } = ctx;
  const { openDetails, spaceName, typeName, warming, zoneLabel } = ctx;
  const select = $("find-zone");
  const keep = select.value;
  const zoneIds = [...new Set(floorSpaces().map((s) => s.zone))];
  const all = new Option(t("find_all_zones"), "");
  all.dataset.i18n = "find_all_zones";
  select.replaceChildren(all, ...zoneIds.map((z) => new Option(nameOf(state.zones.get(z)), z)));
  select.value = zoneIds.includes(keep) ? keep : "";
}

export function findMatches(ctx, { zone, kind, seats }) {
  const { state, plan, countsOf, floorSpaces, liveOf, nameOf } = ctx;
  const { openDetails, spaceName, typeName, warming, zoneLabel } = ctx;
  return floorSpaces()
    .filter((s) => !zone || s.zone === zone)
    .filter((s) => kind === "any" || (kind === "desk" ? s.type === "desk" : ROOM_TYPES.has(s.type)))
    .filter((s) => s.capacity >= seats)
    .filter((s) => state.live.get(s.id)?.state === "free")
    .sort((a, b) => a.capacity - b.capacity || spaceName(a).localeCompare(spaceName(b), lang()));
}

export function onFind(ctx, event) {
  const { state, plan, countsOf, floorSpaces, liveOf, nameOf } = ctx;
  const { openDetails, spaceName, typeName, warming, zoneLabel } = ctx;
  event.preventDefault();
  state.find = {
    zone: $("find-zone").value,
    kind: $("find-kind").value,
    seats: Math.max(1, Number($("find-seats").value) || 1),
  };
  renderFind(ctx);
}

export function renderFind(ctx) {
  const { state, plan, countsOf, floorSpaces, liveOf, nameOf } = ctx;
  const { openDetails, spaceName, typeName, warming, zoneLabel } = ctx;
  const list = $("find-results");
  const status = $("find-status");
  if (!state.find) {
    list.replaceChildren();
    status.textContent = "";
    plan.highlight(null);
    return;
  }
  const matches = findMatches(ctx, state.find);
  const focused = document.activeElement?.closest?.("#find-results button")?.dataset.space;
  status.textContent = matches.length ? t("find_count", { n: matches.length }) : t("find_none");
  plan.highlight(new Set(matches.map((s) => s.id)));
  list.replaceChildren(
    ...matches.map((s) => {
      const li = document.createElement("li");
      const b = document.createElement("button");
      b.type = "button";
      b.dataset.space = s.id;
      const name = document.createElement("span");
      name.className = "r-name";
      name.textContent = spaceName(s);
      const meta = document.createElement("span");
      meta.className = "r-meta";
      meta.textContent = `${typeName(s.type)} · ${t("people", { n: s.capacity })} · ${nameOf(state.zones.get(s.zone))}`;
      b.append(name, meta);
      b.addEventListener("click", () => {
        plan.focusSpace(s.id);
        openDetails(s.id);
      });
      li.append(b);
      return li;
    }),
  );
  if (focused) list.querySelector(`button[data-space="${CSS.escape(focused)}"]`)?.focus();
}

export function renderSensorList(ctx) {
  const { state, plan, countsOf, floorSpaces, liveOf, nameOf } = ctx;
  const { openDetails, spaceName, typeName, warming, zoneLabel } = ctx;
  const summary = $("sensors-summary");
  const agentsUl = $("agent-list");
  const ul = $("sensor-list");
  if (state.healthForbidden) {
    summary.textContent = t("sensors_forbidden");
    agentsUl.replaceChildren();
    ul.replaceChildren();
    return;
  }
  const h = state.health;
  if (!h) {
    summary.textContent = "";
    agentsUl.replaceChildren();
    ul.replaceChildren();
    return;
  }
  const offline = new Set(h.offline_agents);
  const affected = new Map();
  for (const s of h.sensors) {
    if (s.problem === "agent offline") affected.set(s.agent, (affected.get(s.agent) || 0) + 1);
  }
  agentsUl.replaceChildren(
    ...h.offline_agents.map((a) => {
      const li = document.createElement("li");
      li.className = "p-agent";
      const strong = document.createElement("strong");
      strong.textContent = t("agent_offline", { agent: a });
      const meta = document.createElement("span");
      meta.className = "p-meta";
      meta.textContent = t("agent_spaces", { n: affected.get(a) || 0 });
      li.append(strong, meta);
      return li;
    }),
  );
  // On this floor: each silent or never-heard sensor; those behind an
  // offline agent are summed up in the agent's line above.
  // During the warm period a sensor not heard yet is waiting (the banner
  // counts them), not a problem to list.
  const onFloor = h.sensors.filter((s) => s.floor === state.floorId && !(warming() && s.problem === "no data"));
  const here = onFloor.filter((s) => !(s.problem === "agent offline" && offline.has(s.agent)));
  summary.textContent = `${onFloor.length ? t("sensors_summary", { n: onFloor.length }) : t("sensors_ok")} ${t("sensors_site", {
    sensors: formatNumber(h.sensors.length),
    agents: t("agents_offline", { n: offline.size }),
  })}`;
  ul.replaceChildren(
    ...here.map((s) => {
      const li = document.createElement("li");
      const b = document.createElement("button");
      b.type = "button";
      b.className = "p-space";
      const space = state.spaces.get(s.space);
      b.textContent = space ? spaceName(space) : s.space;
      b.addEventListener("click", () => {
        plan.focusSpace(s.space);
        openDetails(s.space);
      });
      const meta = document.createElement("span");
      meta.className = "p-meta";
      const parts = [s.sensor, t(`reason_${s.problem}`)];
      if (s.last_seen) parts.push(t("last_seen", { ago: formatAgo(s.last_seen) }));
      meta.textContent = parts.filter(Boolean).join(" · ");
      li.append(b, meta);
      return li;
    }),
  );
}

export function renderDetailsDialog(ctx) {
  const { state, plan, countsOf, floorSpaces, liveOf, nameOf } = ctx;
  const { openDetails, spaceName, typeName, warming, zoneLabel } = ctx;
  const id = state.detailsId;
  const s = state.spaces.get(id);
  if (!s) return;
  const live = liveOf(id);
  const zone = state.zones.get(s.zone);
  const tz = state.site.timezone;
  $("d-title").textContent = spaceName(s);
  const badge = $("d-state");
  badge.dataset.state = live.state;
  badge.textContent = t(`state_${live.state}`);
  const rows = [
    ["d_type", typeName(s.type)],
    ["d_zone", `${nameOf(zone)} (${zoneLabel(zone).agency})`],
    ["d_capacity", t("people", { n: s.capacity })],
    ["d_area", t("area_m2", { n: formatNumber(s.area_m2, 1) })],
    ["d_since", live.since ? `${formatTime(live.since, tz)} (${formatAgo(live.since)})` : t("dash")],
  ];
  if (live.state === "occupied" && live.count != null) rows.push(["d_count", t("people", { n: live.count })]);
  if (live.state === "unknown") rows.push(["d_reason", t(`reason_${live.reason || "unknown"}`)]);
  rows.push(
    ["d_last_seen", live.last_seen ? `${formatTime(live.last_seen, tz)} (${formatAgo(live.last_seen)})` : t("never_seen")],
    ["d_sensor", [live.sensor || s.sensor?.id, s.sensor?.model].filter(Boolean).join(" · ") || t("dash")],
    ["d_agent", live.agent || s.sensor?.agent || t("dash")],
  );
  $("d-list").replaceChildren(
    ...rows.flatMap(([k, v]) => {
      const dt = document.createElement("dt");
      dt.textContent = t(k);
      const dd = document.createElement("dd");
      dd.textContent = v;
      return [dt, dd];
    }),
  );
}


// Customer service points (GET /v1/sites/{site}/service/now): people in the
// building now and visits today per service point, with the counts' quality
// flags. ``data`` is the answer, or null while there is none.
export function renderServicePanel(ctx, data) {
  const { state, nameOf } = ctx;
  const card = $("service");
  card.hidden = !data;
  if (!data) return;
  $("service-in").textContent = formatNumber(data.in_building);
  $("service-visits").textContent = formatNumber(data.visits_today);
  const items = data.zones.map((z) => {
    const li = document.createElement("li");
    li.dataset.zone = z.zone;
    const name = document.createElement("strong");
    name.textContent = nameOf(state.zones.get(z.zone)) || z.zone;
    const line = document.createElement("span");
    line.className = "service-line";
    line.textContent = t("service_zone_line", {
      in: formatNumber(z.in_building),
      visits: formatNumber(z.visits_today),
    });
    li.append(name, line);
    if (z.flags.length) {
      const warn = document.createElement("span");
      warn.className = "service-flags";
      warn.textContent = t("service_flags", {
        flags: z.flags.map((f) => t(`service_flag_${f}`)).join(", "),
      });
      li.append(warn);
    }
    return li;
  });
  $("service-zones").replaceChildren(...items);
  const asOf = data.zones.map((z) => z.as_of).filter(Boolean).sort().pop();
  $("service-note").textContent = asOf
    ? t("service_as_of", { time: formatTime(asOf, state.site?.timezone) })
    : t("service_no_counts");
}
