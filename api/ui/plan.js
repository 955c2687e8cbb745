// The SVG floor plan: the floor's own drawing (if the registry gives one)
// under zone areas and one <g class="space"> per desk or room, drawn from
// the registry's geometry (metres). State is shown by colour AND by pattern:
// occupied = dark fill with a person dot, free = light and empty, unknown =
// hatching with a dashed edge. Texts (names, desk numbers, people/capacity)
// are a separate aria-hidden layer of constant screen size, shown where they
// fit at the current zoom; each space's accessible name and tooltip says it
// all. Keyboard: one tab stop (roving tabindex), arrow keys move to the
// nearest space in that direction, Enter/Space opens details.

import { PanZoom } from "./zoom.js";

const SVG_NS = "http://www.w3.org/2000/svg";
const BIG = 2.4; // metres: spaces at least this big on both sides are drawn as rooms
const NAME_PX = 12; // screen size of room names
const SMALL_PX = 10; // the smallest a room name is drawn
const COUNT_PX = 12;
const NUMBER_PX = 11; // desk numbers
const ZONE_PX = 12;
const DASHES = ["", "6 3", "2 3", "9 3 2 3", "4 4", "1 2"]; // zone outlines, by tint

function el(name, attrs = {}, parent = null) {
  const node = document.createElementNS(SVG_NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (parent) parent.appendChild(node);
  return node;
}

const round = (v) => Math.round(v * 1000) / 1000;

// Screen rectangle of a plan rectangle. A wide plan on a narrow (portrait)
// screen is turned a quarter clockwise so desks stay large enough to tap.
export function toScreen(g, plan, rotated) {
  if (!rotated) return { x: g.x, y: g.y, w: g.w, h: g.h };
  return { x: plan.height - g.y - g.h, y: g.x, w: g.h, h: g.w };
}

// The nearest rectangle in a direction from `from`, by centre distance along
// the direction plus twice the sideways offset (keeps to the row or column).
export function nearestInDirection(from, rects, dir) {
  const cx = from.x + from.w / 2;
  const cy = from.y + from.h / 2;
  let best = null;
  let bestScore = Infinity;
  for (const r of rects) {
    if (r === from) continue;
    const dx = r.x + r.w / 2 - cx;
    const dy = r.y + r.h / 2 - cy;
    let along;
    let side;
    if (dir === "right") [along, side] = [dx, dy];
    else if (dir === "left") [along, side] = [-dx, dy];
    else if (dir === "down") [along, side] = [dy, dx];
    else [along, side] = [-dy, dx];
    if (along <= 0.05) continue;
    const score = along + 2 * Math.abs(side);
    if (score < bestScore) {
      bestScore = score;
      best = r;
    }
  }
  return best;
}

const KEYS = { ArrowRight: "right", ArrowLeft: "left", ArrowDown: "down", ArrowUp: "up" };

// Clusters of a zone's spaces that lie near each other (a desk area, a row of
// rooms): each gets one outline and one name, instead of a box over the floor.
export function clusters(rects, gap = 1.0) {
  const parent = rects.map((_, i) => i);
  const find = (i) => (parent[i] === i ? i : (parent[i] = find(parent[i])));
  for (let i = 0; i < rects.length; i++) {
    for (let j = i + 1; j < rects.length; j++) {
      const a = rects[i];
      const b = rects[j];
      if (a.x - gap < b.x + b.w && b.x - gap < a.x + a.w && a.y - gap < b.y + b.h && b.y - gap < a.y + a.h) {
        parent[find(i)] = find(j);
      }
    }
  }
  const boxes = new Map();
  rects.forEach((r, i) => {
    const k = find(i);
    const b = boxes.get(k);
    if (!b) boxes.set(k, { x: r.x, y: r.y, x2: r.x + r.w, y2: r.y + r.h, n: 1 });
    else Object.assign(b, { x: Math.min(b.x, r.x), y: Math.min(b.y, r.y), x2: Math.max(b.x2, r.x + r.w), y2: Math.max(b.y2, r.y + r.h), n: b.n + 1 });
  });
  return [...boxes.values()].map((b) => ({ x: b.x, y: b.y, w: b.x2 - b.x, h: b.y2 - b.y, n: b.n }));
}

// Width of a text at font-size 1, measured once per text (layout is costly).
const widths = new Map();
function unitWidth(textNode, text) {
  const key = text;
  if (!widths.has(key)) {
    textNode.textContent = text;
    textNode.setAttribute("font-size", "100");
    widths.set(key, textNode.getComputedTextLength() / 100 || text.length * 0.6);
  }
  return widths.get(key);
}

export class FloorPlan {
  constructor(svg, { onOpen, onFocus, describe, shortName, countText, onZoom }) {
    this.svg = svg;
    this.onOpen = onOpen;
    this.onFocus = onFocus || (() => {});
    this.describe = describe; // (spaceId) -> accessible name
    this.shortName = shortName; // (spaceId) -> [label, fallback label]
    this.countText = countText; // (spaceId, live) -> "3/12" or ""
    this.onZoom = onZoom || (() => {});
    this.items = new Map(); // space id -> {node, rect, ...}
    this.zoneLabels = [];
    this.order = []; // reading order (top to bottom, left to right on screen)
    this.tabStop = null;
    this.zoom = new PanZoom(svg, { onChange: (s) => this.layoutTexts(s) });
    svg.addEventListener("keydown", (e) => this.onKey(e));
    svg.addEventListener("click", (e) => {
      const g = e.target.closest?.(".space");
      if (g && g.dataset.space && g.getAttribute("tabindex") !== null) {
        this.focusSpace(g.dataset.space);
        this.onOpen(g.dataset.space);
      }
    });
    svg.addEventListener("focusin", (e) => {
      const g = e.target.closest?.(".space");
      if (g && this.items.has(g.dataset.space)) {
        this.setTabStop(g.dataset.space);
        this.zoom.ensureVisible(this.items.get(g.dataset.space).rect);
        this.onFocus(g.dataset.space);
      }
    });
  }

  // floor: {plan:{width,height}, image}; spaces: [{id, type, zone, geometry}];
  // zoneColours: Map(zone id -> index); zoneName(id); visible(id): false for
  // spaces this key may not see; imageUrl: the plan image (blob URL) or null;
  // minScale: px per metre the default view must reach.
  render({ floor, spaces, zoneColours, zoneName, rotated, visible, imageUrl, minScale }) {
    const svg = this.svg;
    const plan = floor.plan;
    this.rotated = rotated;
    svg.replaceChildren();
    this.items.clear();
    this.zoneLabels = [];
    const vw = rotated ? plan.height : plan.width;
    const vh = rotated ? plan.width : plan.height;
    svg.dataset.rotated = rotated ? "true" : "false";
    svg.style.aspectRatio = rotated ? "" : `${vw + 1} / ${vh + 1}`;
    this.drawBackdrop({ floor, vw, vh, rotated, imageUrl });
    this.drawZones(spaces, zoneColours, zoneName, plan, rotated);

    const layer = el("g", { class: "spaces" }, svg);
    const texts = el("g", { class: "texts", "aria-hidden": "true" }, svg);
    for (const s of spaces) this.drawSpace(s, layer, texts, plan, rotated, visible(s.id));
    for (const z of this.zoneLabels) texts.appendChild(z.node);
    this.order = [...this.items.entries()]
      .filter(([, it]) => it.shown)
      .sort(([, a], [, b]) => a.rect.y - b.rect.y || a.rect.x - b.rect.x)
      .map(([id]) => id);
    const first = this.order.includes(this.tabStop) ? this.tabStop : this.order[0];
    this.tabStop = null;
    if (first) this.setTabStop(first);
    this.zoom.setBase({ x: -0.5, y: -0.5, w: vw + 1, h: vh + 1 }, { minScale });
  }

  drawBackdrop({ floor, vw, vh, rotated, imageUrl }) {
    const svg = this.svg;
    const img = floor.image;
    if (img && imageUrl) {
      const node = el("image", { class: "backdrop", href: imageUrl, x: img.x, y: img.y, width: img.width, height: img.height, preserveAspectRatio: "none", "aria-hidden": "true" }, svg);
      // a quarter turn clockwise, as toScreen turns the spaces
      if (rotated) node.setAttribute("transform", `matrix(0 1 -1 0 ${floor.plan.height} 0)`);
    } else {
      el("rect", { class: "floor", x: 0, y: 0, width: vw, height: vh, rx: 0.4 }, svg);
    }
  }

  // Zone areas: a tint, an outline with the zone's own dash pattern, and its
  // name above each cluster, so zones differ by more than colour.
  drawZones(spaces, zoneColours, zoneName, plan, rotated) {
    const zonesLayer = el("g", { class: "zones", "aria-hidden": "true" }, this.svg);
    const byZone = new Map();
    for (const s of spaces) {
      if (!byZone.has(s.zone)) byZone.set(s.zone, []);
      byZone.get(s.zone).push(toScreen(s.geometry, plan, rotated));
    }
    for (const [zone, rects] of byZone) {
      const tint = zoneColours.get(zone) ?? 0;
      const zg = el("g", { class: `zone tint-${tint}`, "data-zone": zone }, zonesLayer);
      for (const b of clusters(rects)) {
        const pad = 0.45;
        el("rect", { class: "zone-area", x: round(b.x - pad), y: round(b.y - pad), width: round(b.w + 2 * pad), height: round(b.h + 2 * pad), rx: 0.5 }, zg);
        el("rect", { class: "zone-edge", x: round(b.x - pad), y: round(b.y - pad), width: round(b.w + 2 * pad), height: round(b.h + 2 * pad), rx: 0.5, "stroke-dasharray": DASHES[tint % DASHES.length] }, zg);
        const node = el("text", { class: `zone-name tint-text-${tint}`, "data-zone": zone });
        node.textContent = zoneName(zone);
        this.zoneLabels.push({ node, box: { x: b.x - pad, y: b.y - pad, w: b.w + 2 * pad, h: b.h + 2 * pad } });
      }
    }
  }

  drawSpace(s, layer, texts, plan, rotated, shown) {
    const r = toScreen(s.geometry, plan, rotated);
    const g = el("g", { class: "space", "data-space": s.id, "data-type": s.type, "data-zone": s.zone, "data-state": shown ? "unknown" : "hidden" }, layer);
    if (shown) {
      g.setAttribute("role", "button");
      g.setAttribute("tabindex", "-1");
      g.setAttribute("aria-haspopup", "dialog");
    } else {
      g.setAttribute("aria-hidden", "true");
    }
    el("rect", { class: "box", x: r.x, y: r.y, width: r.w, height: r.h, rx: Math.min(0.15, r.w / 6, r.h / 6) }, g);
    const big = Math.min(r.w, r.h) >= BIG;
    const cx = r.x + r.w / 2;
    const cy = r.y + r.h / 2;
    const size = Math.min(r.w, r.h);
    // Occupied marker: a person (head and shoulders) for rooms; for desks a dot
    // off-centre along the long side, leaving room for the desk's number.
    const marker = el("g", { class: "marker", "aria-hidden": "true" }, g);
    if (big) {
      el("circle", { cx: round(cx), cy: round(cy - 0.35), r: 0.32 }, marker);
      el("path", { d: `M ${round(cx - 0.6)} ${round(cy + 0.55)} a 0.6 0.55 0 0 1 1.2 0 z` }, marker);
    } else {
      const along = r.w >= r.h;
      const mx = along && r.w > 1.2 * r.h ? r.x + r.w * 0.72 : cx;
      const my = !along && r.h > 1.2 * r.w ? r.y + r.h * 0.72 : cy;
      el("circle", { cx: round(mx), cy: round(my), r: round(Math.max(0.12, size * 0.26)) }, marker);
    }
    el("rect", { class: "ring", x: round(r.x - 0.22), y: round(r.y - 0.22), width: round(r.w + 0.44), height: round(r.h + 0.44), rx: 0.3 }, g);
    const title = el("title", {}, g);
    const item = { node: g, rect: r, title, shown, big, labels: null };
    if (shown) item.labels = this.drawTexts(s, r, big, texts);
    this.items.set(s.id, item);
  }

  drawTexts(s, r, big, texts) {
    const g = el("g", { class: "lbl", "data-space": s.id, "data-state": "unknown" }, texts);
    const name = el("text", { class: big ? "name" : "number" }, g);
    const count = big || s.type !== "desk" ? el("text", { class: "count" }, g) : null;
    const numberAt = r.w >= r.h ? { x: r.x + r.w * (r.w > 1.2 * r.h ? 0.3 : 0.5), y: r.y + r.h / 2 } : { x: r.x + r.w / 2, y: r.y + r.h * (r.h > 1.2 * r.w ? 0.3 : 0.5) };
    return { g, name, count, numberAt };
  }

  // Called after the plan is in the document and on a language switch:
  // the texts and their measured widths.
  relabel() {
    for (const [id, it] of this.items) {
      if (it.labels) {
        const [full, short] = this.shortName(id);
        it.labels.full = full;
        it.labels.short = short;
        it.labels.fullW = unitWidth(it.labels.name, full);
        it.labels.shortW = short ? unitWidth(it.labels.name, short) : Infinity;
      }
      this.refreshName(id);
    }
    for (const z of this.zoneLabels) z.w = unitWidth(z.node, z.node.textContent);
    this.layoutTexts(this.zoom.scale);
  }

  setZoneNames(zoneName) {
    for (const z of this.zoneLabels) z.node.textContent = zoneName(z.node.dataset.zone);
  }

  // Texts keep their screen size at every zoom; each is shown only where it
  // fits inside its space (s: px per metre).
  layoutTexts(s) {
    // halos of 3 screen px (a CSS stroke-width would be in metres here)
    this.svg.querySelector(".texts")?.setAttribute("stroke-width", round(3 / s));
    for (const it of this.items.values()) if (it.labels) this.layoutSpace(it, s);
    for (const z of this.zoneLabels) {
      const f = ZONE_PX / s;
      const fits = (z.w || 0) * ZONE_PX <= z.box.w * s;
      z.node.style.display = fits ? "" : "none";
      z.node.setAttribute("font-size", round(f));
      z.node.setAttribute("x", round(z.box.x + 2 / s));
      z.node.setAttribute("y", round(z.box.y - 3 / s));
    }
    this.onZoom(s);
  }

  layoutSpace(it, s) {
    const { rect: r, labels: L } = it;
    const wPx = r.w * s * 0.9;
    const hPx = r.h * s;
    const name = L.name;
    if (it.big) {
      // the full name, else the short one, else the short one a little smaller
      let text = "";
      let px = NAME_PX;
      if (L.full && L.fullW * NAME_PX <= wPx) text = L.full;
      else if (L.short && L.shortW * NAME_PX <= wPx) text = L.short;
      else if (L.short && L.shortW * SMALL_PX <= wPx) [text, px] = [L.short, SMALL_PX];
      name.textContent = text;
      name.setAttribute("font-size", round(px / s));
      name.setAttribute("x", round(r.x + r.w / 2));
      name.setAttribute("y", round(r.y + (NAME_PX * 0.75 + 4) / s));
    } else {
      const text = L.short || L.full;
      const w = (text === L.short ? L.shortW : L.fullW) * NUMBER_PX;
      const fits = w <= (r.w >= r.h ? wPx * 0.5 : wPx) && hPx >= NUMBER_PX * 1.15;
      name.textContent = fits ? text : "";
      name.setAttribute("font-size", round(NUMBER_PX / s));
      name.setAttribute("x", round(L.numberAt.x));
      name.setAttribute("y", round(L.numberAt.y));
    }
    if (L.count) {
      const text = L.countValue || "";
      const fits = text && text.length * 0.62 * COUNT_PX <= wPx && hPx >= (it.big ? 3.2 : 1.1) * COUNT_PX;
      L.count.textContent = fits ? text : "";
      L.count.setAttribute("font-size", round(COUNT_PX / s));
      L.count.setAttribute("x", round(r.x + r.w / 2));
      L.count.setAttribute("y", round(it.big ? r.y + r.h - (COUNT_PX * 0.5 + 4) / s : r.y + r.h / 2));
    }
  }

  refreshName(id) {
    const it = this.items.get(id);
    if (!it || !it.shown) return;
    const name = this.describe(id);
    it.node.setAttribute("aria-label", name);
    it.title.textContent = name;
  }

  // live: {state, count, reason}; shown: the state to draw ("waiting" too).
  setState(id, live, shown = live.state) {
    const it = this.items.get(id);
    if (!it || !it.shown) return;
    it.node.dataset.state = shown;
    if (it.labels) {
      it.labels.g.dataset.state = shown;
      it.labels.countValue = this.countText(id, live);
      this.layoutSpace(it, this.zoom.scale);
    }
    this.refreshName(id);
  }

  setTabStop(id) {
    if (this.tabStop === id) return;
    const prev = this.items.get(this.tabStop);
    if (prev) prev.node.setAttribute("tabindex", "-1");
    const it = this.items.get(id);
    if (it) {
      it.node.setAttribute("tabindex", "0");
      this.tabStop = id;
    }
  }

  focusSpace(id) {
    const it = this.items.get(id);
    if (!it || !it.shown) return;
    this.setTabStop(id);
    this.zoom.ensureVisible(it.rect);
    it.node.focus({ preventScroll: true });
  }

  onKey(e) {
    if (this.zoom.onKey(e)) return;
    const g = e.target.closest?.(".space");
    if (!g) return;
    const id = g.dataset.space;
    const it = this.items.get(id);
    if (!it) return;
    let next = null;
    if (KEYS[e.key]) {
      const rects = this.order.map((sid) => this.items.get(sid).rect);
      const r = nearestInDirection(it.rect, rects, KEYS[e.key]);
      if (r) next = this.order.find((sid) => this.items.get(sid).rect === r);
    } else if (e.key === "Home") {
      next = this.order[0];
    } else if (e.key === "End") {
      next = this.order[this.order.length - 1];
    } else if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      this.onOpen(id);
      return;
    } else {
      return;
    }
    e.preventDefault();
    if (next) this.focusSpace(next);
  }

  // ids: a Set of spaces to point out (found free spaces), or null.
  highlight(ids) {
    this.svg.classList.toggle("finding", Boolean(ids));
    for (const [id, it] of this.items) it.node.classList.toggle("found", Boolean(ids && ids.has(id)));
  }

  // Search results: ringed and brought into view (the first one).
  mark(ids) {
    this.svg.classList.toggle("searching", Boolean(ids && ids.size));
    let first = null;
    for (const id of this.order) {
      const on = Boolean(ids && ids.has(id));
      const it = this.items.get(id);
      it.node.classList.toggle("match", on);
      it.labels?.g.classList.toggle("match", on);
      if (on && !first) first = it;
    }
    if (first) this.zoom.ensureVisible(first.rect);
  }

  // Filters: spaces for which keep(id) is false are dimmed (never hidden:
  // the plan keeps its shape).
  filter(keep) {
    for (const [id, it] of this.items) {
      const out = keep ? !keep(id) : false;
      it.node.classList.toggle("filtered", out);
      it.labels?.g.classList.toggle("filtered", out);
    }
  }

  highlightZone(zone) {
    this.svg.classList.toggle("zone-focus", Boolean(zone));
    for (const it of this.items.values()) it.node.classList.toggle("in-zone", it.node.dataset.zone === zone);
    for (const zg of this.svg.querySelectorAll(".zone")) zg.classList.toggle("in-zone", zg.dataset.zone === zone);
  }

  select(id) {
    for (const [sid, it] of this.items) it.node.classList.toggle("selected", sid === id);
  }
}
