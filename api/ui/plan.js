// The SVG floor plan: one <g class="space"> per desk or room, drawn from the
// registry's geometry (metres). State is shown by colour AND by pattern:
// occupied = dark fill with a person dot, free = light and empty, unknown =
// hatching with a dashed edge. Keyboard: one tab stop (roving tabindex), arrow
// keys move to the nearest space in that direction, Enter/Space opens details.

const SVG_NS = "http://www.w3.org/2000/svg";
const BIG = 2.4; // metres: spaces at least this big on both sides get a text label

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

export class FloorPlan {
  constructor(svg, { onOpen, onFocus, describe, shortName }) {
    this.svg = svg;
    this.onOpen = onOpen;
    this.onFocus = onFocus || (() => {});
    this.describe = describe; // (spaceId) -> accessible name
    this.shortName = shortName; // (spaceId) -> [label, fallback label]
    this.items = new Map(); // space id -> {node, rect, ...}
    this.order = []; // reading order (top to bottom, left to right on screen)
    this.tabStop = null;
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
        this.onFocus(g.dataset.space);
      }
    });
  }

  // floor: {plan:{width,height}}; spaces: [{id, type, zone, geometry}];
  // zoneColours: Map(zone id -> index); visible(id): false for spaces this key may not see.
  render({ floor, spaces, zoneColours, rotated, visible }) {
    const svg = this.svg;
    const plan = floor.plan;
    this.rotated = rotated;
    svg.replaceChildren();
    this.items.clear();
    const vw = rotated ? plan.height : plan.width;
    const vh = rotated ? plan.width : plan.height;
    svg.setAttribute("viewBox", `-0.5 -0.5 ${vw + 1} ${vh + 1}`);
    svg.dataset.rotated = rotated ? "true" : "false";
    el("rect", { class: "floor", x: 0, y: 0, width: vw, height: vh, rx: 0.4 }, svg);

    // Zone areas: every space of a zone padded, in the zone's tint; the
    // overlapping pads merge into one region per zone.
    const zonesLayer = el("g", { class: "zones", "aria-hidden": "true" }, svg);
    const zoneGroups = new Map();
    for (const s of spaces) {
      let zg = zoneGroups.get(s.zone);
      if (!zg) {
        zg = el("g", { class: `zone tint-${zoneColours.get(s.zone) ?? 0}`, "data-zone": s.zone }, zonesLayer);
        zoneGroups.set(s.zone, zg);
      }
      const r = toScreen(s.geometry, plan, rotated);
      const pad = 0.45;
      el("rect", { x: round(r.x - pad), y: round(r.y - pad), width: round(r.w + 2 * pad), height: round(r.h + 2 * pad), rx: 0.5 }, zg);
    }

    const layer = el("g", { class: "spaces" }, svg);
    for (const s of spaces) {
      const r = toScreen(s.geometry, plan, rotated);
      const shown = visible(s.id);
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
      const cy = big ? r.y + r.h * 0.6 : r.y + r.h / 2;
      const size = Math.min(r.w, r.h);
      const dotR = big ? 0.45 : Math.max(0.12, size * 0.28);
      // Occupied marker: a person (head and shoulders) for rooms, a dot for desks.
      const marker = el("g", { class: "marker", "aria-hidden": "true" }, g);
      if (big) {
        el("circle", { cx: round(cx), cy: round(cy - 0.35), r: 0.32 }, marker);
        el("path", { d: `M ${round(cx - 0.6)} ${round(cy + 0.55)} a 0.6 0.55 0 0 1 1.2 0 z` }, marker);
      } else {
        el("circle", { cx: round(cx), cy: round(cy), r: round(dotR) }, marker);
      }
      if (size >= 1.2) {
        const q = el("text", { class: "q", x: round(cx), y: round(cy), "aria-hidden": "true" }, g);
        q.textContent = "?";
        q.setAttribute("font-size", round(Math.min(size * 0.5, 1.1)));
      }
      if (big) {
        const label = el("text", { class: "label", x: round(cx), y: round(r.y + 0.85), "aria-hidden": "true" }, g);
        label.dataset.w = String(r.w);
        const count = el("text", { class: "count", x: round(cx + 0.8), y: round(cy + 0.1), "aria-hidden": "true" }, g);
        count.textContent = "";
      }
      el("rect", { class: "ring", x: round(r.x - 0.22), y: round(r.y - 0.22), width: round(r.w + 0.44), height: round(r.h + 0.44), rx: 0.3 }, g);
      const title = el("title", {}, g);
      this.items.set(s.id, { node: g, rect: r, title, shown });
    }
    this.order = [...this.items.entries()]
      .filter(([, it]) => it.shown)
      .sort(([, a], [, b]) => a.rect.y - b.rect.y || a.rect.x - b.rect.x)
      .map(([id]) => id);
    const first = this.order.includes(this.tabStop) ? this.tabStop : this.order[0];
    this.tabStop = null;
    if (first) this.setTabStop(first);
  }

  // Called after the plan is in the document: labels need text measurement.
  relabel() {
    for (const [id, it] of this.items) {
      const label = it.node.querySelector(".label");
      if (label) {
        const [full, short] = this.shortName(id);
        const room = Number(label.dataset.w) * 0.92;
        label.textContent = full;
        label.style.display = "";
        if (label.getComputedTextLength() > room) {
          label.textContent = short;
          if (!short || label.getComputedTextLength() > room) label.style.display = "none";
        }
      }
      this.refreshName(id);
    }
  }

  refreshName(id) {
    const it = this.items.get(id);
    if (!it || !it.shown) return;
    const name = this.describe(id);
    it.node.setAttribute("aria-label", name);
    it.title.textContent = name;
  }

  setState(id, live) {
    const it = this.items.get(id);
    if (!it || !it.shown) return;
    it.node.dataset.state = live.state;
    const count = it.node.querySelector(".count");
    if (count) count.textContent = live.state === "occupied" && live.count != null ? String(live.count) : "";
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
    it.node.focus();
  }

  onKey(e) {
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

  highlightZone(zone) {
    this.svg.classList.toggle("zone-focus", Boolean(zone));
    for (const it of this.items.values()) it.node.classList.toggle("in-zone", it.node.dataset.zone === zone);
    for (const zg of this.svg.querySelectorAll(".zone")) zg.classList.toggle("in-zone", zg.dataset.zone === zone);
  }

  select(id) {
    for (const [sid, it] of this.items) it.node.classList.toggle("selected", sid === id);
  }
}
