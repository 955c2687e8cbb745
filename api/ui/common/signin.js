// Signing in and out on the analytics and agency pages: the key from the
// sign-in form (or the URL fragment, common/api.js takeKey) in session
// storage, the sign-in card shown with the reason when the key is refused.

import { t } from "../i18n.js";
import { storeKey } from "./api.js";

const $ = (id) => document.getElementById(id);

// messageKey: an i18n key (signin_invalid), or null for a plain sign-in.
export function showSignedOut(state, messageKey) {
  storeKey(null);
  state.key = null;
  $("board").hidden = true;
  $("signout").hidden = true;
  $("signin").hidden = false;
  $("signin-error").textContent = messageKey ? t(messageKey) : "";
  $("key").focus();
}

// The board instead of the sign-in card, once the key was accepted.
export function showSignedIn() {
  $("signin").hidden = true;
  $("board").hidden = false;
  $("signout").hidden = false;
}

// The sign-out button and the sign-in form; start() loads the page with state.key.
export function wireSignin(state, start) {
  $("signout").addEventListener("click", () => showSignedOut(state, null));
  $("signin-form").addEventListener("submit", (e) => {
    e.preventDefault();
    state.key = $("key").value.trim();
    $("key").value = "";
    storeKey(state.key);
    start();
  });
}
