// Report requests of the analytics and agency pages: the key in the Authorization header
// (never in a URL), one request at a time (the API runs at most two reports
// per key at once and refuses more with 429), a 429 retried after Retry-After.

const KEY_STORE = "occupancy.key"; // one sign-in serves the three pages

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail || `HTTP ${status}`);
    this.status = status;
  }
}

export function takeKey() {
  const params = new URLSearchParams(location.hash.slice(1));
  const key = params.get("key");
  if (key) {
    sessionStorage.setItem(KEY_STORE, key);
    params.delete("key");
    const rest = params.toString();
    history.replaceState(null, "", location.pathname + location.search + (rest ? `#${rest}` : ""));
  }
  return sessionStorage.getItem(KEY_STORE);
}

export function storeKey(key) {
  if (key) sessionStorage.setItem(KEY_STORE, key);
  else sessionStorage.removeItem(KEY_STORE);
}

export function reportUrl(path, params) {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(params)) {
    if (v !== null && v !== undefined && v !== "") url.searchParams.set(k, String(v));
  }
  return url;
}

let queue = Promise.resolve();

function queued(job) {
  const run = queue.then(job, job);
  queue = run.catch(() => undefined);
  return run;
}

async function request(url, key, attempt = 0) {
  const res = await fetch(url, { headers: { Authorization: `Bearer ${key}` } });
  if (res.status === 429 && attempt < 3) {
    const wait = Number(res.headers.get("Retry-After") || "2");
    await new Promise((r) => setTimeout(r, Math.min(wait, 10) * 1000));
    return request(url, key, attempt + 1);
  }
  if (!res.ok) {
    let detail = "";
    try {
      detail = (await res.json()).detail;
    } catch {
      /* not a problem document */
    }
    throw new ApiError(res.status, typeof detail === "string" ? detail : JSON.stringify(detail));
  }
  return res;
}

export function getJson(path, params, key) {
  return queued(async () => (await request(reportUrl(path, params), key)).json());
}

// An export: fetched with the key in the header, then saved from a blob URL
// under the file name the API gives (Content-Disposition).
export function download(path, params, key) {
  return queued(async () => {
    const res = await request(reportUrl(path, params), key);
    const disposition = res.headers.get("Content-Disposition") || "";
    const name = /filename="([^"]+)"/.exec(disposition)?.[1] || "report";
    const blob = await res.blob();
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = name;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
    return name;
  });
}
