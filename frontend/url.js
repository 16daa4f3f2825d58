// URLs of a review page: everything a view shows is in its query string, so views are shareable.

/** The parameters that decide which diff a view shows (layout is presentation only). */
export const DIFF_PARAMS = Object.freeze(["since", "commit", "range", "live", "ws", "context", "round"]);

/**
 * @param {string} pathname e.g. /review/c0837b48/view
 * @returns {string|null}
 */
export function reviewIdFromPath(pathname) {
  const match = /^\/review\/([^/]+)\/view\/?$/.exec(pathname);
  return match ? decodeURIComponent(match[1]) : null;
}

/**
 * The websocket URL for the page at `location`: same review, same query string.
 * @param {Location|URL} location
 * @param {string} id
 * @returns {string}
 */
export function socketUrl(location, id) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/review/${encodeURIComponent(id)}/ws${location.search}`;
}

/**
 * The URL of one side of a file's raw bytes, for the same view.
 * @param {string} id
 * @param {"old"|"new"} side
 * @param {string} path
 * @param {string} search the page's query string
 * @returns {string}
 */
export function rawUrl(id, side, path, search) {
  const params = new URLSearchParams();
  params.set("side", side);
  params.set("path", path);
  const view = new URLSearchParams(search);
  for (const name of DIFF_PARAMS) {
    const value = view.get(name);
    if (value !== null) params.set(name, value);
  }
  return `/review/${encodeURIComponent(id)}/raw?${params.toString()}`;
}

/**
 * The URL of the review's open threads as Markdown.
 * @param {string} id
 * @returns {string}
 */
export function commentsUrl(id) {
  return `/review/${encodeURIComponent(id)}/comments.md`;
}

/**
 * A copy of `href` with query parameters set (string) or removed (null).
 * @param {string} href
 * @param {Record<string, string|null>} changes
 * @returns {string}
 */
export function withParams(href, changes) {
  const url = new URL(href);
  for (const [name, value] of Object.entries(changes)) {
    if (value === null) url.searchParams.delete(name);
    else url.searchParams.set(name, value);
  }
  return url.toString();
}

/**
 * @typedef {{layout: "unified"|"split", ws: boolean, context: number, round: number|null}} ViewOptions
 * `round`: the view shows the changes since the end of that round of the review.
 * @param {string} search
 * @returns {ViewOptions}
 */
export function readView(search) {
  const params = new URLSearchParams(search);
  const context = Number.parseInt(params.get("context") ?? "3", 10);
  const ws = (params.get("ws") ?? "").toLowerCase();
  const round = Number.parseInt(params.get("round") ?? "", 10);
  return {
    round: Number.isFinite(round) && round >= 1 ? round : null,
    layout: params.get("view") === "split" ? "split" : "unified",
    ws: ["1", "true", "yes", "on"].includes(ws),
    context: Number.isFinite(context) && context >= 0 ? context : 3,
  };
}

/**
 * The file filter a page starts with (`filter=`, kept by the page as it is typed).
 * @param {string} search
 * @returns {string}
 */
export function readFilter(search) {
  return new URLSearchParams(search).get("filter") ?? "";
}
