// The index page: the reviews this browser has opened on this server (known.js), their state as the server tells
// it for those ids only, and a form that opens a new view (since / commit / range) of one of them. The server
// lists no reviews: it describes the ids it is given.
import { STORAGE_KEY, forget, keepDetails, readKnown } from "./known.js";
import { goneItem, servedItem } from "./home-list.js";

/** @typedef {import("./home-list.js").ReviewSummary} ReviewSummary */
/** @typedef {import("./known.js").KnownReview} KnownReview */

/**
 * @template {Element} T
 * @param {string} selector
 * @returns {T}
 */
function need(selector) {
  const element = document.querySelector(selector);
  if (!element) throw new Error(`home.html lacks ${selector}`);
  return /** @type {T} */ (element);
}

/**
 * The URL of a view of review `id`.
 * @param {string} id
 * @param {"since"|"commit"|"range"} mode
 * @param {string} rev
 * @param {boolean} live
 * @returns {string}
 */
export function viewUrl(id, mode, rev, live) {
  const params = new URLSearchParams();
  params.set(mode, rev);
  params.set("live", mode === "since" && live ? "true" : "false");
  return `/review/${encodeURIComponent(id)}/view?${params.toString()}`;
}

/**
 * What the server says of these ids (the ones it does not serve are left out of its answer).
 * @param {string[]} ids
 * @returns {Promise<ReviewSummary[]>}
 */
async function describe(ids) {
  if (ids.length === 0) return [];
  const query = new URLSearchParams(ids.map((id) => ["id", id]));
  const response = await fetch(`/api/reviews?${query}`, { headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
  return response.json();
}

/** @returns {KnownReview[]} */
function knownHere() {
  try {
    return readKnown(localStorage);
  } catch {
    return []; // storage disabled: nothing was remembered
  }
}

function main() {
  /** @type {HTMLUListElement} */
  const list = need("#reviews");
  /** @type {HTMLParagraphElement} */
  const empty = need("#reviews-empty");
  /** @type {HTMLElement} */
  const gone = need("#gone");
  /** @type {HTMLUListElement} */
  const goneList = need("#reviews-gone");
  /** @type {HTMLFormElement} */
  const form = need("#open-view");
  /** @type {HTMLSelectElement} */
  const reviewSelect = need("#open-review");
  /** @type {HTMLSelectElement} */
  const mode = need("#open-mode");
  /** @type {HTMLInputElement} */
  const rev = need("#open-rev");
  /** @type {HTMLInputElement} */
  const live = need("#open-live");
  /** @type {HTMLParagraphElement} */
  const error = need("#open-error");

  const syncLive = () => {
    live.disabled = mode.value !== "since";
    if (live.disabled) live.checked = false;
    rev.placeholder = mode.value === "range" ? "main..feature" : "HEAD";
  };
  mode.addEventListener("change", syncLive);
  syncLive();

  /** @param {ReviewSummary[]} served */
  const fillSelect = (served) => {
    const chosen = reviewSelect.value;
    reviewSelect.replaceChildren(
      ...served.map((review) => {
        const option = document.createElement("option");
        option.value = review.id;
        option.textContent = `${review.title || review.id} \u2014 ${review.repo}`;
        return option;
      }),
    );
    if (served.some((review) => review.id === chosen)) reviewSelect.value = chosen;
    reviewSelect.disabled = served.length === 0;
  };

  let generation = 0;
  const refresh = async () => {
    const mine = ++generation;
    const known = knownHere();
    let served;
    try {
      served = await describe(known.map((k) => k.id));
    } catch (err) {
      if (mine !== generation) return;
      empty.hidden = false;
      empty.textContent = `Could not load reviews: ${err instanceof Error ? err.message : String(err)}`;
      return;
    }
    if (mine !== generation) return; // a later refresh is under way
    try {
      keepDetails(localStorage, served);
    } catch {
      // storage full or disabled: the titles of reviews gone later stay unknown
    }
    const byId = new Map(served.map((review) => [review.id, review]));
    const now = Date.now();
    /** @param {string} id */
    const onForget = (id) => {
      try {
        forget(localStorage, id);
      } catch {
        return;
      }
      refresh();
    };
    list.replaceChildren(
      ...known.flatMap((k) => {
        const review = byId.get(k.id);
        return review ? [servedItem(k, review, now, onForget)] : [];
      }),
    );
    const missing = known.filter((k) => !byId.has(k.id));
    goneList.replaceChildren(...missing.map((k) => goneItem(k, now, onForget)));
    gone.hidden = missing.length === 0;
    fillSelect(known.flatMap((k) => byId.get(k.id) ?? []));
    empty.hidden = served.length > 0;
    empty.textContent = known.length === 0
      ? "This browser has not opened a review on this server yet. Open the address that backloop server printed " +
        "or your agent gave you (backloop list prints them all); it will be listed here."
      : "None of the reviews this browser opened is on this server now.";
  };

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = rev.value.trim();
    const id = reviewSelect.value;
    error.hidden = true;
    if (!id || !value) {
      error.textContent = !id ? "There is no review to open: open a review's address first." : "Give a revision.";
      error.hidden = false;
      return;
    }
    if (mode.value === "range" && !value.includes("..")) {
      error.textContent = "A range has the form A..B or A...B.";
      error.hidden = false;
      return;
    }
    const which = mode.value === "commit" ? "commit" : mode.value === "range" ? "range" : "since";
    location.assign(viewUrl(id, which, value, live.checked));
  });

  // Another tab opened (or forgot) a review; or the person comes back to this tab: the states may have changed.
  addEventListener("storage", (event) => {
    if (event.key === STORAGE_KEY || event.key === null) refresh();
  });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") refresh();
  });
  refresh();
}

main();
