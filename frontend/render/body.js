// One file's body: notices and messages, the diff table (only when the file is near the viewport, else a
// placeholder of about its height; a table already built is patched, see table.js), the threads under their
// lines, and the kept elements (open forms).
import { h } from "./dom.js";
import { renderFileParts } from "./file.js";
import { unified } from "./unified.js";
import { split } from "./split.js";
import { buildTable, patchTable } from "./table.js";
import { buildRows, estimateRows, maxLineNumber } from "../rows.js";
import { keepElements, restoreKept } from "./keep.js";

/**
 * @typedef {import("../store.js").Store} Store
 * @typedef {import("../protocol.js").FileDiff} FileDiff
 * @typedef {import("./file.js").FileContext & {threads: import("./threads.js").Threads|null,
 *   decorate?: (path: string, body: HTMLElement) => void}} BodyContext threads: null until extras.js loaded;
 *   decorate runs after each render
 * @typedef {{path: string, section: HTMLElement, body: HTMLDivElement, mounted: boolean, near: boolean,
 *   measured: {digest: string, layout: string, height: number}|null, headerKey: string,
 *   table: import("./table.js").Table|null}} Entry table: the diff table in the body, if built
 */

/** Row height in px (keep in sync with --line-height in base.css). */
export const LINE_HEIGHT = 20;

/**
 * Run a DOM change in `container` and give focus back to the element that had it, if it is still there.
 * @param {HTMLElement} container
 * @param {() => void} change
 */
function keepingFocus(container, change) {
  const active = document.activeElement;
  const inside = active instanceof HTMLElement && container.contains(active);
  change();
  if (inside && active.isConnected && document.activeElement !== active) active.focus({ preventScroll: true });
}

/**
 * @param {Entry} entry
 * @param {FileDiff} file
 * @param {string} layout
 * @returns {HTMLDivElement}
 */
function placeholder(entry, file, layout) {
  const box = h("div", { className: "diff-placeholder", attrs: { "aria-hidden": "true" } });
  const measured = entry.measured;
  const fits = measured && measured.digest === (file.digest ?? "") && measured.layout === layout;
  box.style.height = `${fits && measured ? measured.height : estimateRows(file) * LINE_HEIGHT}px`;
  return box;
}

/**
 * Put the file's threads in its body.
 * @param {Store} store
 * @param {BodyContext} context
 * @param {Entry} entry
 */
export function placeThreads(store, context, entry) {
  const columns = (store.view.layout === "split" ? split : unified).columns.length;
  const threads = context.threads;
  if (threads) keepingFocus(entry.body, () => threads.place(entry.body, store.comments.on(entry.path), columns));
}

/**
 * Rebuild a file's body from the store. Rows are built when the entry is mounted or near the viewport.
 * @param {Entry} entry
 * @param {Store} store
 * @param {BodyContext} context
 * @returns {boolean} whether the diff rows are in the DOM now
 */
export function renderBody(entry, store, context) {
  const file = store.files.get(entry.path);
  if (!file) return false;
  const ui = store.ui.get(entry.path);
  const collapsed = Boolean(ui?.collapsed);
  entry.body.hidden = collapsed;
  const { parts, table, loading } = renderFileParts(file, ui, context);
  if (loading && !collapsed) {
    // Sized like the diff that is coming, so the page does not jump when it arrives.
    const box = h("div", { className: "diff-placeholder diff-loading" }, [
      h("span", { className: "diff-loading-label", text: "Loading diff\u2026" }),
    ]);
    box.style.height = `${estimateRows(file) * LINE_HEIGHT}px`;
    parts.push(box);
  }
  entry.body.setAttribute("aria-busy", String(Boolean(loading)));
  const wanted = table && !collapsed;
  const mounted = wanted && (entry.mounted || entry.near);
  /** @type {import("./table.js").Layout<any>} (whichever: its items go back to its own build) */
  const layout = store.view.layout === "split" ? split : unified;
  keepingFocus(entry.body, () => {
    const kept = keepElements(entry.body);
    const previous = entry.table;
    entry.table = null;
    if (mounted) {
      const rows = buildRows(file, ui);
      let max = maxLineNumber(file);
      if (ui) for (const n of ui.expanded.keys()) max = Math.max(max, n);
      if (previous && previous.layout === layout.name && previous.wrap.parentElement === entry.body && patchTable(previous, layout, rows, max)) {
        // The table stays where it is; what stands before it is put there again.
        entry.table = previous;
        for (const child of [...entry.body.children]) if (child !== previous.wrap) child.remove();
        previous.wrap.before(...parts);
      } else {
        entry.table = buildTable(layout, rows, max);
        parts.push(entry.table.wrap);
      }
    } else if (wanted) {
      parts.push(placeholder(entry, file, store.view.layout));
    }
    if (!entry.table || entry.table !== previous) entry.body.replaceChildren(...parts);
    restoreKept(entry.body, kept);
    context.threads?.place(entry.body, store.comments.on(entry.path), layout.columns.length);
  });
  context.decorate?.(entry.path, entry.body);
  return mounted;
}
