// A file's diff table: rows in chunks (off-screen chunks skip layout), built from one item per row, and
// patched in place on a live update. A live update changes a few rows, not the table: the rows before and
// after the change stay (their highlighted HTML is not parsed again, the table is not styled and laid out
// anew, a text selection in them survives), rows whose line numbers moved get the new numbers in place, and
// only the rows in between are built.
import { h } from "./dom.js";

/**
 * @typedef {object} Item one row to show
 * @property {string} sig what the row shows, line numbers aside
 * @property {string} numbers its line numbers
 *
 * @typedef {{tr: HTMLTableRowElement, sig: string, numbers: string}} Shown a row in the table
 * @typedef {{layout: string, wrap: HTMLDivElement, shown: Shown[]}} Table a built diff table and its rows
 */

/**
 * How one layout (unified, split) makes its rows.
 * @template {Item} T
 * @typedef {object} Layout
 * @property {string} name
 * @property {string[]} columns class names of the <col>s
 * @property {(rows: import("../rows.js").Row[]) => T[]} items
 * @property {(item: T) => HTMLTableRowElement} build
 * @property {(tr: HTMLTableRowElement, item: T) => void} renumber give a built row new line numbers
 */

/** Rows per table chunk: off-screen chunks skip layout (content-visibility), so huge files stay usable. The
 * first chunk is smaller: about a screenful, all that the first paint of a big file has to lay out. */
export const CHUNK_ROWS = 250;
const FIRST_CHUNK_ROWS = 60;
/** Most rows one patch builds or drops; past that, building the whole table again costs about the same. */
const MOST_CHANGED = 300;

/**
 * @param {number} maxNumber the largest line number shown
 * @returns {string} characters of the number columns
 */
const numberChars = (maxNumber) => String(Math.max(3, String(maxNumber).length));

/**
 * Build the table of `rows`.
 * @template {Item} T
 * @param {Layout<T>} layout
 * @param {import("../rows.js").Row[]} rows
 * @param {number} maxNumber the largest line number shown, to size the number columns
 * @returns {Table}
 */
export function buildTable(layout, rows, maxNumber) {
  const wrap = h("div", { className: "diff-wrap" });
  wrap.style.setProperty("--num-chars", numberChars(maxNumber));
  /** @type {Shown[]} */
  const shown = [];
  /** @type {HTMLTableSectionElement|null} */
  let body = null;
  let count = 0;
  for (const item of layout.items(rows)) {
    const size = wrap.childElementCount === 1 ? FIRST_CHUNK_ROWS : CHUNK_ROWS;
    if (!body || count >= size) {
      body = document.createElement("tbody");
      const colgroup = h("colgroup");
      for (const name of layout.columns) colgroup.append(h("col", { className: name }));
      const chunk = h("div", { className: "diff-chunk" }, [h("table", { className: `diff diff-${layout.name}` }, [colgroup, body])]);
      chunk.style.containIntrinsicSize = `auto ${(wrap.childElementCount ? CHUNK_ROWS : FIRST_CHUNK_ROWS) * 20}px`;
      wrap.append(chunk);
      count = 0;
    }
    const tr = layout.build(item);
    body.append(tr);
    shown.push({ tr, sig: item.sig, numbers: item.numbers });
    count += 1;
  }
  const last = /** @type {HTMLElement|null} */ (wrap.lastElementChild);
  if (last) last.style.containIntrinsicSize = `auto ${count * 20}px`;
  return { layout: layout.name, wrap, shown };
}

/**
 * Make `table` show `rows`, keeping the rows at both ends that are the same. Rows the table did not make
 * (threads, open forms) must be out of it, or be put in their places again by the caller.
 * @template {Item} T
 * @param {Table} table built with the same layout
 * @param {Layout<T>} layout
 * @param {import("../rows.js").Row[]} rows
 * @param {number} maxNumber
 * @returns {boolean} false when nothing can be kept or too much changed: the table is untouched, build it anew
 */
export function patchTable(table, layout, rows, maxNumber) {
  const items = layout.items(rows);
  const old = table.shown;
  let head = 0;
  while (head < old.length && head < items.length && old[head].sig === items[head].sig && old[head].numbers === items[head].numbers) {
    head += 1;
  }
  // (the rows after a change often keep their text but move: a line added above renumbers them)
  let tail = 0;
  while (tail < old.length - head && tail < items.length - head && old[old.length - 1 - tail].sig === items[items.length - 1 - tail].sig) {
    tail += 1;
  }
  const dropped = old.slice(head, old.length - tail);
  const added = items.slice(head, items.length - tail);
  if (head + tail === 0 || dropped.length + added.length > MOST_CHANGED) return false;
  const built = added.map((item) => ({ tr: layout.build(item), sig: item.sig, numbers: item.numbers }));
  if (built.length) {
    const trs = built.map((shown) => shown.tr);
    if (tail > 0) old[old.length - tail].tr.before(...trs);
    else old[head - 1].tr.after(...trs);
  }
  for (const shown of dropped) shown.tr.remove();
  const kept = old.slice(old.length - tail);
  kept.forEach((shown, i) => {
    const item = items[items.length - tail + i];
    if (shown.numbers === item.numbers) return;
    layout.renumber(shown.tr, item);
    shown.numbers = item.numbers;
  });
  table.shown = [...old.slice(0, head), ...built, ...kept];
  const chars = numberChars(maxNumber);
  if (table.wrap.style.getPropertyValue("--num-chars") !== chars) table.wrap.style.setProperty("--num-chars", chars);
  return true;
}
