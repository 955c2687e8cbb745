// Pan and zoom of the plan, by moving the SVG's viewBox over the plan (in
// metres): mouse wheel zooms at the pointer, dragging pans, two fingers
// pinch and pan; +, -, 0 and Shift+arrows from the keyboard; the visible
// buttons call the same methods. A drag never turns into a click on a space.

const MAX_PX_PER_M = 160;

export class PanZoom {
  constructor(svg, { onChange }) {
    this.svg = svg;
    this.onChange = onChange;
    this.base = { x: 0, y: 0, w: 1, h: 1 };
    this.view = { x: 0, y: 0, s: 1 }; // top-left in metres, scale in px per metre
    this.home = { x: 0, y: 0, s: 1 };
    this.pointers = new Map();
    this.dragged = false;
    svg.addEventListener("wheel", (e) => this.onWheel(e), { passive: false });
    svg.addEventListener("pointerdown", (e) => this.onDown(e));
    svg.addEventListener("pointermove", (e) => this.onMove(e));
    for (const type of ["pointerup", "pointercancel", "pointerleave"]) {
      svg.addEventListener(type, (e) => this.onUp(e));
    }
    // A pan that ends over a space must not open it.
    svg.addEventListener(
      "click",
      (e) => {
        if (this.dragged) {
          e.stopPropagation();
          e.preventDefault();
          this.dragged = false;
        }
      },
      true,
    );
  }

  size() {
    const r = this.svg.getBoundingClientRect();
    return { w: Math.max(1, r.width), h: Math.max(1, r.height) };
  }

  fitScale() {
    const { w, h } = this.size();
    return Math.min(w / this.base.w, h / this.base.h);
  }

  // base: the plan's bounds in metres; minScale: px per metre the default
  // view must reach (so the smallest space stays a usable target).
  setBase(base, { minScale = 0 } = {}) {
    this.base = base;
    const fit = this.fitScale();
    const s = Math.min(MAX_PX_PER_M, Math.max(fit, minScale));
    const { w, h } = this.size();
    // Fitting: centred. Zoomed in for targets: start at the top-left corner.
    const x = s === fit ? base.x - (w / s - base.w) / 2 : base.x;
    const y = s === fit ? base.y - (h / s - base.h) / 2 : base.y;
    this.home = { x, y, s };
    this.view = { ...this.home };
    this.apply();
  }

  reset() {
    this.view = { ...this.home };
    this.apply();
  }

  get scale() {
    return this.view.s;
  }

  clamp() {
    const { w, h } = this.size();
    const v = this.view;
    v.s = Math.min(MAX_PX_PER_M, Math.max(this.fitScale() * 0.9, v.s));
    const vw = w / v.s;
    const vh = h / v.s;
    const b = this.base;
    // Keep the plan in view: a side larger than the view may not leave it;
    // a smaller one stays centred.
    v.x = vw >= b.w ? b.x - (vw - b.w) / 2 : Math.min(Math.max(v.x, b.x), b.x + b.w - vw);
    v.y = vh >= b.h ? b.y - (vh - b.h) / 2 : Math.min(Math.max(v.y, b.y), b.y + b.h - vh);
  }

  apply() {
    this.clamp();
    const { w, h } = this.size();
    const v = this.view;
    const r = (n) => Math.round(n * 1000) / 1000;
    this.svg.setAttribute("viewBox", `${r(v.x)} ${r(v.y)} ${r(w / v.s)} ${r(h / v.s)}`);
    this.svg.dataset.scale = String(r(v.s));
    this.onChange(v.s);
  }

  // factor > 1 zooms in, around (px, py) in the SVG's own pixels (default: centre).
  zoomBy(factor, px, py) {
    const { w, h } = this.size();
    const ax = px ?? w / 2;
    const ay = py ?? h / 2;
    const v = this.view;
    const mx = v.x + ax / v.s;
    const my = v.y + ay / v.s;
    v.s *= factor;
    v.s = Math.min(MAX_PX_PER_M, Math.max(this.fitScale() * 0.9, v.s));
    v.x = mx - ax / v.s;
    v.y = my - ay / v.s;
    this.apply();
  }

  panBy(dxPx, dyPx) {
    this.view.x -= dxPx / this.view.s;
    this.view.y -= dyPx / this.view.s;
    this.apply();
  }

  // Brings a rectangle (metres) into view, with a margin, without zooming.
  ensureVisible(rect) {
    const { w, h } = this.size();
    const v = this.view;
    const m = 24 / v.s;
    const vw = w / v.s;
    const vh = h / v.s;
    if (rect.x - m < v.x) v.x = rect.x - m;
    else if (rect.x + rect.w + m > v.x + vw) v.x = rect.x + rect.w + m - vw;
    if (rect.y - m < v.y) v.y = rect.y - m;
    else if (rect.y + rect.h + m > v.y + vh) v.y = rect.y + rect.h + m - vh;
    this.apply();
  }

  // Keyboard: returns true when the key was a pan/zoom key.
  onKey(e) {
    const step = 60;
    if (e.key === "+" || e.key === "=") this.zoomBy(1.4);
    else if (e.key === "-" || e.key === "_") this.zoomBy(1 / 1.4);
    else if (e.key === "0") this.reset();
    else if (e.shiftKey && e.key === "ArrowLeft") this.panBy(step, 0);
    else if (e.shiftKey && e.key === "ArrowRight") this.panBy(-step, 0);
    else if (e.shiftKey && e.key === "ArrowUp") this.panBy(0, step);
    else if (e.shiftKey && e.key === "ArrowDown") this.panBy(0, -step);
    else return false;
    e.preventDefault();
    return true;
  }

  local(e) {
    const r = this.svg.getBoundingClientRect();
    return { x: e.clientX - r.left, y: e.clientY - r.top };
  }

  onWheel(e) {
    e.preventDefault();
    const p = this.local(e);
    const delta = e.deltaMode === 1 ? e.deltaY * 16 : e.deltaY;
    this.zoomBy(Math.exp(-delta * 0.0015), p.x, p.y);
  }

  onDown(e) {
    if (e.button !== undefined && e.button > 0) return;
    this.pointers.set(e.pointerId, this.local(e));
    this.moved = 0;
    if (this.pointers.size === 1) this.dragged = false;
  }

  onMove(e) {
    const prev = this.pointers.get(e.pointerId);
    if (!prev) return;
    const p = this.local(e);
    if (this.pointers.size === 1) {
      this.moved += Math.abs(p.x - prev.x) + Math.abs(p.y - prev.y);
      if (this.moved > 6) {
        if (!this.dragged) this.svg.setPointerCapture?.(e.pointerId);
        this.dragged = true;
        this.panBy(p.x - prev.x, p.y - prev.y);
      }
    } else if (this.pointers.size === 2) {
      const [a, b] = [...this.pointers.entries()].map(([id, q]) => (id === e.pointerId ? p : q));
      const [pa, pb] = [...this.pointers.values()];
      const before = Math.hypot(pa.x - pb.x, pa.y - pb.y);
      const after = Math.hypot(a.x - b.x, a.y - b.y);
      const mid = { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 };
      const midBefore = { x: (pa.x + pb.x) / 2, y: (pa.y + pb.y) / 2 };
      this.dragged = true;
      if (before > 0) this.zoomBy(after / before, mid.x, mid.y);
      this.panBy(mid.x - midBefore.x, mid.y - midBefore.y);
    }
    this.pointers.set(e.pointerId, p);
  }

  onUp(e) {
    this.pointers.delete(e.pointerId);
  }
}
