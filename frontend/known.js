// The reviews this browser has opened on this server, kept in the origin's localStorage. The server lists no
// reviews to anyone (a review id is the capability to read and change a review, and any local process can ask the
// server): the index page learns the person's reviews from here and asks the server only about these ids.

export const STORAGE_KEY = "backloop.reviews";
/** The most recently opened reviews kept; older ones are forgotten. */
export const MAX_KNOWN = 100;

/**
 * @typedef {object} KnownReview
 * @property {string} id
 * @property {string} url path and query of the view last opened in this browser
 * @property {number} seen when it was last opened (ms since the epoch)
 * @property {string} [title] as the server last described it, for when it no longer serves the review
 * @property {string} [repo]
 */

/**
 * @param {unknown} value
 * @returns {value is KnownReview}
 */
function isKnown(value) {
  if (typeof value !== "object" || value === null) return false;
  const v = /** @type {Record<string, unknown>} */ (value);
  return typeof v.id === "string" && v.id !== "" && typeof v.url === "string" && typeof v.seen === "number";
}

/**
 * The known reviews, most recently opened first. Unreadable or foreign entries are skipped, never fatal.
 * @param {Storage} storage
 * @returns {KnownReview[]}
 */
export function readKnown(storage) {
  let parsed;
  try {
    parsed = JSON.parse(storage.getItem(STORAGE_KEY) ?? "[]");
  } catch {
    return [];
  }
  if (!Array.isArray(parsed)) return [];
  const byId = new Map();
  for (const entry of parsed.filter(isKnown)) {
    if (!byId.has(entry.id) || byId.get(entry.id).seen < entry.seen) byId.set(entry.id, entry);
  }
  return [...byId.values()].sort((a, b) => b.seen - a.seen);
}

/**
 * @param {Storage} storage
 * @param {KnownReview[]} known
 */
function write(storage, known) {
  storage.setItem(STORAGE_KEY, JSON.stringify(known.slice(0, MAX_KNOWN)));
}

/**
 * Note that review `id` was opened at `url` (path and query) now.
 * @param {Storage} storage
 * @param {string} id
 * @param {string} url
 * @param {number} now
 */
export function remember(storage, id, url, now) {
  const known = readKnown(storage);
  const previous = known.find((k) => k.id === id);
  write(storage, [{ ...previous, id, url, seen: now }, ...known.filter((k) => k.id !== id)]);
}

/**
 * @param {Storage} storage
 * @param {string} id
 */
export function forget(storage, id) {
  write(storage, readKnown(storage).filter((k) => k.id !== id));
}

/**
 * Keep the title and repository the server gave for each review, so that a review the server no longer has is
 * still recognisable in the list.
 * @param {Storage} storage
 * @param {{id: string, title: string, repo: string}[]} summaries
 */
export function keepDetails(storage, summaries) {
  const details = new Map(summaries.map((s) => [s.id, s]));
  const known = readKnown(storage);
  const stale = known.filter((k) => {
    const d = details.get(k.id);
    return d !== undefined && (d.title !== k.title || d.repo !== k.repo);
  });
  // Written only when something changed: each write tells the other open index pages to refresh, which write too.
  if (stale.length === 0) return;
  write(storage, known.map((k) => {
    const d = details.get(k.id);
    return d ? { ...k, title: d.title, repo: d.repo } : k;
  }));
}
