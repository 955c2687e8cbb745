// The live page's requests to the API: JSON with the key in the Authorization
// header (never in a URL), and the plan images (an <image> element cannot send
// the key). The key itself is kept by common/api.js (takeKey, storeKey).

import { HttpError } from "../sse.js";
import { API_ROOT, state } from "./context.js";

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
