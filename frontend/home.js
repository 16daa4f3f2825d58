// The index page: lists the reviews of this server and opens a new view (since / commit / range) of one.

/** @typedef {{id: string, title: string, repo: string, url: string}} ReviewSummary */

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
 * @param {HTMLUListElement} list
 * @param {ReviewSummary[]} reviews
 */
function renderReviews(list, reviews) {
  list.replaceChildren(
    ...reviews.map((review) => {
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.href = review.url;
      link.textContent = review.title || `Review ${review.id}`;
      const repo = document.createElement("span");
      repo.className = "review-repo";
      repo.textContent = review.repo;
      item.dataset.review = review.id;
      item.append(link, repo);
      return item;
    }),
  );
}

async function main() {
  /** @type {HTMLUListElement} */
  const list = need("#reviews");
  /** @type {HTMLParagraphElement} */
  const empty = need("#reviews-empty");
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

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = rev.value.trim();
    const id = reviewSelect.value;
    error.hidden = true;
    if (!id || !value) {
      error.textContent = !id ? "There is no review to open." : "Give a revision.";
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

  try {
    const response = await fetch("/api/reviews", { headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
    /** @type {ReviewSummary[]} */
    const reviews = await response.json();
    renderReviews(list, reviews);
    reviewSelect.replaceChildren(
      ...reviews.map((review) => {
        const option = document.createElement("option");
        option.value = review.id;
        option.textContent = `${review.title || review.id} \u2014 ${review.repo}`;
        return option;
      }),
    );
    empty.hidden = reviews.length > 0;
    empty.textContent = "No reviews yet. Start one from your agent, or run backloop server in a repository.";
  } catch (err) {
    empty.hidden = false;
    empty.textContent = `Could not load reviews: ${err instanceof Error ? err.message : String(err)}`;
  }
}

main();
