// Server-Sent Events over fetch(), so the API key travels in the
// Authorization header instead of the URL (EventSource cannot send headers,
// and a key in a URL ends up in access logs and proxies).

export class HttpError extends Error {
  constructor(status, text) {
    super(`HTTP ${status}${text ? `: ${text}` : ""}`);
    this.status = status;
  }
}

// Incremental parser of the text/event-stream format (WHATWG HTML, "Server-sent
// events"): lines end in CRLF, LF or CR; a blank line dispatches the event.
export class SseParser {
  constructor(onEvent, onRetry = () => {}) {
    this.onEvent = onEvent;
    this.onRetry = onRetry;
    this.buf = "";
    this.event = "";
    this.data = [];
  }

  push(chunk) {
    this.buf += chunk;
    let start = 0;
    for (;;) {
      const m = /\r\n|\r|\n/g;
      m.lastIndex = start;
      const hit = m.exec(this.buf);
      if (!hit) break;
      // A lone CR at the very end may be the first half of a CRLF split over chunks.
      if (hit[0] === "\r" && hit.index === this.buf.length - 1) break;
      this.line(this.buf.slice(start, hit.index));
      start = hit.index + hit[0].length;
    }
    this.buf = this.buf.slice(start);
  }

  line(text) {
    if (text === "") {
      if (this.data.length) {
        this.onEvent(this.event || "message", this.data.join("\n"));
      }
      this.event = "";
      this.data = [];
      return;
    }
    if (text.startsWith(":")) return; // comment, e.g. keep-alive
    const colon = text.indexOf(":");
    const field = colon < 0 ? text : text.slice(0, colon);
    let value = colon < 0 ? "" : text.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") this.event = value;
    else if (field === "data") this.data.push(value);
    else if (field === "retry" && /^\d+$/.test(value)) this.onRetry(Number(value));
  }
}

// Reads one stream until it ends, fails, is aborted or stays silent longer
// than idleMs (the server sends a keep-alive every 15 s). Resolves when the
// stream ends; rejects with HttpError for a refused request.
export async function readStream(url, { key, signal, idleMs = 45000, onOpen, onEvent, onRetry }) {
  const watchdog = new AbortController();
  const abort = () => watchdog.abort();
  signal?.addEventListener("abort", abort, { once: true });
  let timer = setTimeout(abort, idleMs);
  const alive = () => {
    clearTimeout(timer);
    timer = setTimeout(abort, idleMs);
  };
  try {
    const res = await fetch(url, {
      headers: { Authorization: `Bearer ${key}`, Accept: "text/event-stream" },
      cache: "no-store",
      signal: watchdog.signal,
    });
    if (!res.ok) {
      let detail = "";
      try {
        detail = (await res.json()).detail || "";
      } catch {
        /* not JSON */
      }
      throw new HttpError(res.status, detail);
    }
    onOpen?.();
    const parser = new SseParser(onEvent, onRetry);
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      alive();
      parser.push(value);
    }
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", abort);
  }
}
