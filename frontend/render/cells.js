// Pieces shared by the unified and split layouts: code cells, line markers, expander rows.
import { h, button, icon } from "./dom.js";

/**
 * @typedef {import("../protocol.js").Line} Line
 * @typedef {import("../rows.js").GapRow} GapRow
 * @typedef {import("../rows.js").Expander} Expander
 */

/**
 * Fill a code cell: the server's escaped, highlighted `html` (the only markup this page ever parses), then
 * markers for a CRLF line ending and a missing final newline.
 * @param {HTMLTableCellElement} cell
 * @param {Line} line
 */
export function fillCode(cell, line) {
  const content = document.createElement("span");
  content.className = "content";
  content.innerHTML = line.html;
  cell.append(content);
  if (line.text.endsWith("\r")) {
    cell.append(h("span", { className: "crlf", text: "CRLF", attrs: { title: "This line ends with CRLF" } }));
  }
  if (line.no_eol) {
    cell.append(
      h("span", {
        className: "no-eol",
        text: "\u2298",
        attrs: { title: "No newline at end of file", role: "img", "aria-label": "No newline at end of file" },
      }),
    );
  }
}

/**
 * The key of a row: the new-side line number if it has one, else the old one.
 * @param {Line} line
 * @returns {string}
 */
export function lineKey(line) {
  return line.new != null ? `n${line.new}` : `o${line.old}`;
}

/**
 * @param {HTMLTableCellElement} cell
 * @param {number|null|undefined} number
 */
export function fillNumber(cell, number) {
  if (number != null) cell.textContent = String(number);
}

/**
 * The buttons of one expander row.
 * @param {Expander} expander
 * @returns {HTMLButtonElement}
 */
function expanderButton(expander) {
  const { start, end } = expander.range;
  const count = end - start + 1;
  const names = {
    up: `Expand ${count} lines up`,
    down: `Expand ${count} lines down`,
    all: `Expand all ${count} hidden lines`,
  };
  const control = button("", {
    className: `expander expander-${expander.direction}`,
    label: names[expander.direction],
    title: names[expander.direction],
    data: { action: "expand", start: String(start), end: String(end) },
  });
  control.append(icon(expander.direction));
  return control;
}

/**
 * An expander / hunk header row.
 * @param {GapRow} gap
 * @param {number} numberColumns how many line-number columns the buttons span
 * @param {number} codeColumns how many columns the header text spans
 * @returns {HTMLTableRowElement}
 */
export function gapRow(gap, numberColumns, codeColumns) {
  const buttons = h("td", { className: "gap-expand", attrs: { colspan: String(numberColumns) } });
  for (const expander of gap.expanders) buttons.append(expanderButton(expander));
  const header = h("td", { className: "gap-header", attrs: { colspan: String(codeColumns) }, text: gap.header });
  if (gap.error) {
    header.append(h("span", { className: "gap-error", attrs: { role: "alert" }, text: `Could not expand: ${gap.error}` }));
  }
  const row = h("tr", { className: `gap gap-${gap.position}` }, [buttons, header]);
  if (gap.expanders.length > 1) row.classList.add("gap-split");
  return row;
}

/** Rows per table chunk: off-screen chunks skip layout (content-visibility), so huge files stay usable. The
 * first chunk is smaller: about a screenful, all that the first paint of a big file has to lay out. */
export const CHUNK_ROWS = 250;
const FIRST_CHUNK_ROWS = 60;

/**
 * Diff rows in tables of at most CHUNK_ROWS rows each, with the same fixed column widths, in one wrapper.
 */
export class ChunkedTable {
  /**
   * @param {string} layout
   * @param {number} maxNumber the largest line number shown, to size the number columns
   * @param {string[]} columns class names of the <col>s
   */
  constructor(layout, maxNumber, columns) {
    this.layout = layout;
    this.columns = columns;
    this.wrap = h("div", { className: "diff-wrap" });
    this.wrap.style.setProperty("--num-chars", String(Math.max(3, String(maxNumber).length)));
    /** @type {HTMLTableSectionElement|null} */
    this.body = null;
    this.count = 0;
  }

  /** @param {HTMLTableRowElement} row */
  add(row) {
    if (!this.body || this.count >= (this.wrap.childElementCount === 1 ? FIRST_CHUNK_ROWS : CHUNK_ROWS)) this.chunk();
    /** @type {HTMLTableSectionElement} */ (this.body).append(row);
    this.count += 1;
  }

  /** @returns {HTMLDivElement} */
  finish() {
    const last = /** @type {HTMLElement|null} */ (this.wrap.lastElementChild);
    if (last) last.style.containIntrinsicSize = `auto ${this.count * 20}px`;
    return this.wrap;
  }

  /** @private */
  chunk() {
    const table = h("table", { className: `diff diff-${this.layout}` });
    const colgroup = h("colgroup");
    for (const name of this.columns) colgroup.append(h("col", { className: name }));
    this.body = document.createElement("tbody");
    table.append(colgroup, this.body);
    const chunk = h("div", { className: "diff-chunk" }, [table]);
    chunk.style.containIntrinsicSize = `auto ${(this.wrap.childElementCount ? CHUNK_ROWS : FIRST_CHUNK_ROWS) * 20}px`;
    this.wrap.append(chunk);
    this.count = 0;
  }
}

/** @type {HTMLButtonElement|null} */
let commentTemplate = null;

/**
 * The "+" button that opens a comment form on one line of one side.
 * @param {"old"|"new"} side
 * @param {number} line
 * @returns {HTMLButtonElement}
 */
export function commentButton(side, line) {
  if (!commentTemplate) {
    commentTemplate = document.createElement("button");
    commentTemplate.type = "button";
    commentTemplate.className = "comment-button";
    commentTemplate.dataset.action = "comment";
    commentTemplate.textContent = "+";
  }
  const control = /** @type {HTMLButtonElement} */ (commentTemplate.cloneNode(true));
  control.setAttribute("aria-label", `Comment on ${side === "old" ? "old " : ""}line ${line}`);
  control.dataset.side = side;
  control.dataset.line = String(line);
  return control;
}
