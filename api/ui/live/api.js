// The live page's requests to the API: JSON with the key in the Authorization
// header (never in a URL), the key taken from the URL fragment, and the plan
// images (an <image> element cannot send the key).

import { HttpError } from "../sse.js";
import { API_ROOT, KEY_STORE, state } from "./context.js";

export async function api(path) {
  let res;
  try {
    res = await fetch(new URL(path, API_ROOT), {
      headers: { Authorization: `Bearer ${state.key}` },
      cache: "no-store",
    });
  } catch (exc) {
    throw new HttpError(0, exc.message);
  }
  if (!res.ok) {
    let detail = "";
    try {
      detail = (await res.json()).detail || "";
    } catch {
      /* not JSON */
    }
    throw new HttpError(res.status, typeof detail === "string" ? detail : "");
  }
  return res.json();
}

// The key arrives in the URL fragment (never sent to the server), is moved
// to sessionStorage and removed from the address bar and history.
export function takeKeyFromUrl() {
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

// The floor's plan image as a blob URL, or null when it cannot be read.
export async function fetchPlanImage(floor) {
  try {
    const res = await fetch(new URL(floor.image.url.replace(/^\//, ""), API_ROOT), {
      headers: { Authorization: `Bearer ${state.key}` },
    });
    if (!res.ok) return null;
    return URL.createObjectURL(await res.blob());
  } catch {
    return null; // the spaces are drawn without the building's plan
  }
}
