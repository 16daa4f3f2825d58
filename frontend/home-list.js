// The index page's review lists: DOM only. Reviews the server serves (with their state), and the ones this browser
// has opened that the server does not know now (with what it last said of them).

/**
 * @typedef {object} ReviewSummary what GET /api/reviews?id=… says of a review
 * @property {string} id
 * @property {string} title
 * @property {string} repo
 * @property {string} url the review's own view
 * @property {string} view what that view shows, in words
 * @property {"open"|"approved"|"changes_requested"} state
 * @property {"idle"|"waiting"|"working"} agent
 * @property {number} threads
 * @property {number} open_threads
 */

/** @typedef {import("./known.js").KnownReview} KnownReview */

const STATE_NAMES = { open: "Open", approved: "Approved", changes_requested: "Changes requested" };
const AGENT_NAMES = { waiting: "Agent waiting for comments", working: "Agent working" };

/**
 * @param {string} tag
 * @param {string} className
 * @param {string} text
 * @returns {HTMLElement}
 */
function element(tag, className, text) {
  const made = document.createElement(tag);
  made.className = className;
  made.textContent = text;
  return made;
}

/**
 * "3 minutes ago", "yesterday"…
 * @param {number} then
 * @param {number} now
 * @returns {string}
 */
export function ago(then, now) {
  const seconds = Math.round((then - now) / 1000);
  const format = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
  /** @type {[Intl.RelativeTimeFormatUnit, number][]} */
  const units = [["day", 86400], ["hour", 3600], ["minute", 60]];
  for (const [unit, size] of units) {
    if (Math.abs(seconds) >= size) return format.format(Math.trunc(seconds / size), unit);
  }
  return format.format(0, "second");
}

/**
 * Where the review's link goes: the view this browser last opened, if it is a view of this review (the stored URL
 * only ever becomes a same-origin review link), else the review's own view.
 * @param {KnownReview} known
 * @param {ReviewSummary} review
 * @returns {string}
 */
export function linkFor(known, review) {
  const prefix = `/review/${encodeURIComponent(review.id)}/view?`;
  return known.url.startsWith(prefix) ? known.url : review.url;
}

/**
 * @param {string} title
 * @param {() => void} onForget
 * @returns {HTMLButtonElement}
 */
function forgetButton(title, onForget) {
  const button = /** @type {HTMLButtonElement} */ (element("button", "btn btn-small review-forget", "Forget"));
  button.type = "button";
  button.setAttribute("aria-label", `Forget ${title} in this browser`);
  button.title = "Remove from this list (the review itself stays)";
  button.addEventListener("click", onForget);
  return button;
}

/**
 * @param {number} threads
 * @param {number} open
 * @returns {string}
 */
function threadNote(threads, open) {
  if (threads === 0) return "no comments";
  const plural = threads === 1 ? "thread" : "threads";
  return open === 0 ? `${threads} ${plural}, all resolved` : `${open} of ${threads} ${plural} open`;
}

/**
 * One served review: its link, state, agent, repository, view and comments.
 * @param {KnownReview} known
 * @param {ReviewSummary} review
 * @param {number} now
 * @param {(id: string) => void} onForget
 * @returns {HTMLLIElement}
 */
export function servedItem(known, review, now, onForget) {
  const item = document.createElement("li");
  item.dataset.review = review.id;
  const title = review.title || `Review ${review.id}`;
  const line = element("div", "review-line", "");
  const link = /** @type {HTMLAnchorElement} */ (element("a", "review-link", title));
  link.href = linkFor(known, review);
  const state = element("span", "review-state", STATE_NAMES[review.state] ?? review.state);
  state.dataset.reviewState = review.state;
  line.append(link, state);
  if (review.agent !== "idle") {
    const agent = element("span", "review-agent", AGENT_NAMES[review.agent] ?? review.agent);
    agent.dataset.agent = review.agent;
    line.append(agent);
  }
  line.append(forgetButton(title, () => onForget(review.id)));
  const notes = [threadNote(review.threads, review.open_threads), `opened ${ago(known.seen, now)}`];
  if (!title.includes(review.view)) notes.unshift(review.view); // (default titles name the view already)
  item.append(line, element("span", "review-repo", review.repo), element("span", "review-note", notes.join(" · ")));
  return item;
}

/**
 * A review this browser opened that the server does not serve now: what it was, and Forget.
 * @param {KnownReview} known
 * @param {number} now
 * @param {(id: string) => void} onForget
 * @returns {HTMLLIElement}
 */
export function goneItem(known, now, onForget) {
  const item = document.createElement("li");
  item.dataset.review = known.id;
  const title = known.title || `Review ${known.id}`;
  const line = element("div", "review-line", "");
  line.append(element("span", "review-gone-title", title), forgetButton(title, () => onForget(known.id)));
  item.append(line);
  if (known.repo) item.append(element("span", "review-repo", known.repo));
  item.append(element("span", "review-note", `opened ${ago(known.seen, now)}`));
  return item;
}
