// The details dialog of one space: opened from the plan or a result list,
// focus given back to the space when it closes.

import { renderDetails } from "./board.js";
import { $, floorOf, parts, state } from "./context.js";

export function openDetails(id) {
  state.detailsId = id;
  parts.plan.select(id);
  renderDetails();
  const dialog = $("details");
  if (!dialog.open) dialog.showModal();
  $("d-close").focus();
}

export function closeDetails() {
  const dialog = $("details");
  if (dialog.open) dialog.close();
}

export function onDetailsClosed() {
  const id = state.detailsId;
  state.detailsId = null;
  parts.plan.select(null);
  // "close" is queued after the dialog closes: focus may have moved on since
  // (a quick Tab), and must not be pulled back.
  const at = document.activeElement;
  const idle = !at || at === document.body || $("details").contains(at) || at.closest?.(".space");
  if (id && floorOf(id) === state.floorId && idle) parts.plan.focusSpace(id);
}
