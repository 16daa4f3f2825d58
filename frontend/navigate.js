// Where the keyboard's "next" and "previous" lead (keyboard.js): files, hunks and unresolved threads, from where
// the person is. That is where focus is in the file list (a line's "+", a thread, a file's header), or else the
// file at the top of the view. Moving there scrolls to it and focuses it, so the next key goes on from there.

/**
 * @typedef {import("./store.js").Store} Store
 * @typedef {import("./render/files.js").FileList} FileList
 * @typedef {import("./protocol.js").Comment} Comment
 * @typedef {import("./protocol.js").FileDiff} FileDiff
 * @typedef {{path: string|null, row: HTMLTableRowElement|null, thread: HTMLElement|null, inFile: boolean}} Place
 */

/** @returns {Promise<void>} after the next frame's render (the painter's frame callback runs before this one) */
export const nextFrame = () => new Promise((resolve) => requestAnimationFrame(() => resolve()));

/**
 * The diff line an element belongs to: its own row, or for a thread or form under a line, that line's row.
 * @param {Element|null} element
 * @returns {HTMLTableRowElement|null}
 */
export function lineRowOf(element) {
  let row = element?.closest("tr") ?? null;
  while (row && !row.matches("tr[data-key]")) {
    const previous = row.previousElementSibling;
    row = previous instanceof HTMLTableRowElement && !previous.matches(".gap") ? previous : null;
  }
  return row;
}

/**
 * Where the person is: where focus is, or when focus was lost (a form it was in is gone) where the keyboard last
 * took it, or else the file at the top of the view.
 * @param {FileList} files
 * @param {Element|null} [last] where the keyboard last took focus
 * @returns {Place}
 */
export function place(files, last = null) {
  let active = document.activeElement;
  if ((!active || active === document.body) && last?.isConnected) active = last;
  const section = active?.closest("section.file");
  if (active && section instanceof HTMLElement) {
    const thread = active.closest("[data-comment-id]");
    return { path: section.dataset.path ?? null, row: lineRowOf(active), thread: thread instanceof HTMLElement ? thread : null, inFile: true };
  }
  const thread = active?.closest("#conversation [data-comment-id]");
  if (thread instanceof HTMLElement) return { path: null, row: null, thread, inFile: false };
  return { path: files.currentPath(), row: null, thread: null, inFile: false };
}

/**
 * The line each hunk of a file is about, as a row key: its first added line (what a comment is usually on), else
 * its first deleted one.
 * @param {FileDiff} file
 * @returns {string[]}
 */
export function hunkKeys(file) {
  return file.hunks.map((hunk) => {
    const line = hunk.lines.find((l) => l.kind === "add") ?? hunk.lines.find((l) => l.kind === "del") ?? hunk.lines[0];
    return line.new != null && line.kind !== "del" ? `n${line.new}` : `o${line.old}`;
  });
}

/**
 * The rows of a file's hunks that are in the page (its table built), in order.
 * @param {HTMLElement} section
 * @param {FileDiff} file
 * @returns {HTMLTableRowElement[]}
 */
export function hunkRows(section, file) {
  /** @type {HTMLTableRowElement[]} */
  const rows = [];
  for (const key of hunkKeys(file)) {
    const row = section.querySelector(`tr[data-key="${key}"], tr[data-key-old="${key}"]`);
    if (row instanceof HTMLTableRowElement) rows.push(row);
  }
  return rows;
}

/**
 * The hunk row after (1) or before (-1) the person's place in one file: from the focused line; from the file's
 * title, its first; with no focus in the file, the first below `edge` (px from the top of the view) or the last
 * above it.
 * @param {HTMLTableRowElement[]} rows the file's hunk rows, in order
 * @param {Place} here
 * @param {1|-1} step
 * @param {number} edge
 * @returns {HTMLTableRowElement|undefined}
 */
export function hunkIn(rows, here, step, edge) {
  const from = here.row;
  if (from) {
    const follows = (/** @type {Node} */ row) => Boolean(from.compareDocumentPosition(row) & Node.DOCUMENT_POSITION_FOLLOWING);
    return step > 0 ? rows.find((row) => row !== from && follows(row)) : rows.findLast((row) => row !== from && !follows(row));
  }
  if (here.inFile) return step > 0 ? rows[0] : undefined;
  const top = (/** @type {Element} */ row) => row.getBoundingClientRect().top;
  return step > 0 ? rows.find((row) => top(row) > edge) : rows.findLast((row) => top(row) < edge);
}

/**
 * Focus a diff line: its "+" (a control a screen reader names, "Comment on line 12"), in the middle of the view.
 * @param {HTMLTableRowElement} row
 */
export function focusLine(row) {
  const side = (row.dataset.key ?? "").startsWith("o") ? "old" : "new";
  const control = row.querySelector(`.comment-button[data-side=${side}]`) ?? row.querySelector(".comment-button");
  const target = control instanceof HTMLElement ? control : row;
  if (target === row) row.tabIndex = -1;
  row.scrollIntoView({ block: "center" });
  target.focus({ preventScroll: true });
}

/**
 * Where a thread sits in the page, to order threads: its file's place in the diff, then its line (threads on
 * the file as a whole, and outdated ones, come first: they are shown on top of the file).
 * @param {Comment} comment
 * @param {Map<string, number>} index file paths by their place
 * @returns {[number, number, number]}
 */
function threadKey(comment, index) {
  if (!comment.path) return [-1, 0, comment.created_at];
  const line = comment.line == null || comment.outdated ? 0 : (comment.end_line ?? comment.line);
  return [index.get(comment.path) ?? Number.MAX_SAFE_INTEGER, line, comment.created_at];
}

/**
 * @param {number[]} a
 * @param {number[]} b
 * @returns {number}
 */
const compare = (a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];

/**
 * The unresolved thread after (step 1) or before (step -1) the person's place, or null.
 * @param {Store} store
 * @param {Place} here
 * @param {1|-1} step
 * @returns {Comment|null}
 */
export function nextThread(store, here, step) {
  const index = new Map(store.order.map((path, i) => [path, i]));
  const open = [...store.comments.byId.values()]
    .filter((comment) => (comment.state ?? "open") === "open" && (!comment.path || index.has(comment.path)))
    .map((comment) => ({ comment, key: threadKey(comment, index) }))
    .sort((a, b) => compare(a.key, b.key));
  const current = here.thread ? store.comments.byId.get(here.thread.dataset.commentId ?? "") : undefined;
  /** @type {number[]} */
  let from;
  if (current) from = threadKey(current, index);
  else if (here.path === null) from = step > 0 ? [-2, 0, 0] : [Number.MAX_SAFE_INTEGER, 0, 0];
  else {
    // (a thread under the focused line comes after it, one on the file before its first line)
    const line = here.row ? Number((here.row.dataset.key ?? "n0").slice(1)) : -1;
    from = [index.get(here.path) ?? -1, line, -1];
  }
  const found = step > 0 ? open.find((item) => compare(item.key, from) > 0) : open.findLast((item) => compare(item.key, from) < 0);
  return found?.comment ?? null;
}

/**
 * The path of the file after (1) or before (-1) `path` among those `shown`, in the diff's order; with no path,
 * the first or last of them.
 * @param {string[]} order
 * @param {string|null} path
 * @param {1|-1} step
 * @param {(path: string) => boolean} shown
 * @returns {string|null}
 */
export function nextPath(order, path, step, shown) {
  const at = path === null ? -1 : order.indexOf(path);
  let i = at === -1 ? (step > 0 ? 0 : order.length - 1) : at + step;
  for (; i >= 0 && i < order.length; i += step) if (shown(order[i])) return order[i];
  return null;
}
