// One file's section: the element that stands for the file in the list (made before its diff is built), and its
// sticky header, rebuilt only when what it shows changed. The body is body.js's.
import { h, fileId } from "./dom.js";
import { renderFileHeader } from "./file.js";
import { estimateRows } from "../rows.js";
import { LINE_HEIGHT } from "./body.js";

/**
 * @typedef {import("../store.js").Store} Store
 * @typedef {import("./body.js").Entry} Entry
 */

/** Height in px of a file header (roughly, for size estimates). */
export const HEADER_HEIGHT = 46;

/**
 * A file's section, with its (empty) body.
 * @param {string} path
 * @returns {Entry}
 */
export function newEntry(path) {
  const id = fileId(path);
  const section = h("section", { className: "file", attrs: { id, "aria-labelledby": `${id}-title` } });
  section.dataset.path = path;
  const body = h("div", { className: "file-body", attrs: { id: `${id}-body` } });
  return { path, section, body, mounted: false, near: false, measured: null, headerKey: "", table: null };
}

/**
 * Bring a file's header, collapsed state and size estimate up to date with the store.
 * @param {Entry} entry
 * @param {Store} store
 * @returns {boolean} whether the header was rebuilt
 */
export function renderSection(entry, store) {
  const file = store.files.get(entry.path);
  if (!file) return false;
  const ui = store.ui.get(entry.path);
  const editable = Boolean(store.review?.view.live) && !file.binary && file.status !== "deleted";
  const collapsed = Boolean(ui?.collapsed);
  const mark = store.viewed.get(entry.path);
  // The header shows only these: a file that came again with new lines but the same counts keeps it.
  const key = JSON.stringify([file.old_path, file.status, file.similarity, file.old_mode, file.new_mode, file.binary,
    file.untracked, file.unchanged, file.additions, file.deletions, editable, collapsed, mark.viewed, mark.changed]);
  const rebuilt = entry.headerKey !== key || entry.section.firstElementChild === entry.body;
  if (rebuilt) {
    entry.headerKey = key;
    const header = renderFileHeader(file, ui, editable, mark, store.view.round);
    const heading = header.querySelector("h2");
    if (heading) heading.tabIndex = -1;
    const old = entry.section.firstElementChild === entry.body ? null : entry.section.firstElementChild;
    // (a control used from the keyboard, say the "Viewed" checkbox, keeps the focus in the new header)
    const active = old?.contains(document.activeElement) ? /** @type {HTMLElement} */ (document.activeElement) : null;
    old?.remove();
    if (!entry.body.isConnected) entry.section.append(entry.body);
    entry.section.prepend(header);
    const action = active?.dataset.action;
    const again = action ? header.querySelector(`[data-action="${action}"]`) : null;
    if (again instanceof HTMLElement) again.focus({ preventScroll: true });
  }
  entry.section.classList.toggle("file-collapsed", collapsed);
  // Off-screen sections skip layout (content-visibility: auto) and take this size until first rendered.
  const guess = HEADER_HEIGHT + (collapsed ? 0 : Math.max(3, estimateRows(file)) * LINE_HEIGHT);
  entry.section.style.containIntrinsicSize = `auto ${guess}px`;
  return rebuilt;
}
