// Selecting a range of lines on one side of a file, as on GitHub: drag across the line-number gutter (or from
// a line's "+" button), or shift-click a second line. The selected rows are highlighted, also after their file
// is re-rendered (paint() runs after each render). A finished drag or shift-click on a line number dispatches
// `backloop:select-lines` {range, row} on the file list, which opens a comment form for the range.

/**
 * @typedef {{path: string, side: "old"|"new", start: number, end: number}} Range
 * @typedef {{path: string, side: "old"|"new", from: number, to: number, moved: boolean, gutter: boolean,
 *   body: Element}} Drag
 */

/**
 * The line number of a diff row on one side, or null when the row has no line there.
 * @param {Element} row
 * @param {"old"|"new"} side
 * @returns {number|null}
 */
export function lineOf(row, side) {
  if (!(row instanceof HTMLElement)) return null;
  if (side === "old") return row.dataset.old ? Number(row.dataset.old) : null;
  const key = row.dataset.key ?? "";
  return key.startsWith("n") ? Number(key.slice(1)) : null;
}

/**
 * Which side a press on a line-number cell selects: in the split layout the column's side; in the unified
 * layout the side the row's "+" button comments on (new, unless the line was deleted).
 * @param {HTMLTableCellElement} cell
 * @param {HTMLElement} row
 * @returns {"old"|"new"|null}
 */
function gutterSide(cell, row) {
  /** @type {"old"|"new"} */
  const side = row.closest("table")?.classList.contains("diff-split")
    ? cell.classList.contains("num-old")
      ? "old"
      : "new"
    : lineOf(row, "new") !== null
      ? "new"
      : "old";
  return lineOf(row, side) === null ? null : side;
}

/** @param {Range} a @param {Range|null} b */
const same = (a, b) => b !== null && a.path === b.path && a.side === b.side && a.start === b.start && a.end === b.end;

export class LineSelection {
  /** @param {HTMLElement} root the file list */
  constructor(root) {
    this.root = root;
    /** @type {Range|null} */
    this.current = null;
    /** @type {number|null} the line the current selection started from (shift-click extends from it) */
    this.anchor = null;
    /** @type {Drag|null} */
    this.drag = null;
    root.addEventListener("mousedown", (event) => this.onDown(event));
    root.addEventListener("mouseover", (event) => this.onOver(event));
    document.addEventListener("mouseup", () => this.onUp());
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && this.drag) {
        this.drag = null;
        this.clear();
      }
    });
  }

  /**
   * Select a range (the first line becomes the anchor) and highlight it.
   * @param {Range} range
   */
  set(range) {
    const previous = this.current;
    this.current = { ...range, start: Math.min(range.start, range.end), end: Math.max(range.start, range.end) };
    this.anchor = range.start;
    if (previous && previous.path !== range.path) this.repaint(previous.path);
    this.repaint(range.path);
  }

  /**
   * Shift-click on `line`: the range from the anchor to it, selected; null when there is no anchor on that side.
   * @param {string} path
   * @param {"old"|"new"} side
   * @param {number} line
   * @returns {Range|null}
   */
  extend(path, side, line) {
    const anchor = this.anchor;
    if (!this.current || anchor === null || this.current.path !== path || this.current.side !== side) return null;
    if (anchor === line) return null;
    this.current = { path, side, start: Math.min(anchor, line), end: Math.max(anchor, line) };
    this.repaint(path);
    return this.current;
  }

  /**
   * Forget the selection (or only when it is `range`) and remove its highlight.
   * @param {Range} [range]
   */
  clear(range) {
    if (!this.current || (range && !same(range, this.current))) return;
    const path = this.current.path;
    this.current = null;
    this.anchor = null;
    this.repaint(path);
  }

  /**
   * The row of a range's last line, in the file body that holds `near`.
   * @param {Element} near
   * @param {Range} range
   * @returns {HTMLTableRowElement|null}
   */
  rowFor(near, range) {
    const body = near.closest(".file-body");
    if (!body) return null;
    for (const row of /** @type {NodeListOf<HTMLTableRowElement>} */ (body.querySelectorAll("tr[data-key]"))) {
      if (lineOf(row, range.side) === range.end) return row;
    }
    return null;
  }

  /**
   * Highlight the selected rows of one file's body (after it was rendered).
   * @param {string} path
   * @param {Element} body
   */
  paint(path, body) {
    for (const row of body.querySelectorAll("tr.selected")) {
      row.classList.remove("selected", "selected-first", "selected-last");
      row.removeAttribute("data-selected");
    }
    const range = this.current;
    if (!range || range.path !== path) return;
    /** @type {HTMLElement[]} */
    const rows = [];
    for (const row of /** @type {NodeListOf<HTMLTableRowElement>} */ (body.querySelectorAll("tr[data-key]"))) {
      const line = lineOf(row, range.side);
      if (line !== null && line >= range.start && line <= range.end) rows.push(row);
    }
    for (const row of rows) {
      row.classList.add("selected");
      row.dataset.selected = range.side;
    }
    rows[0]?.classList.add("selected-first");
    rows[rows.length - 1]?.classList.add("selected-last");
  }

  /**
   * @private
   * @param {string} path
   */
  repaint(path) {
    const section = [...this.root.querySelectorAll("section.file")].find((s) => /** @type {HTMLElement} */ (s).dataset.path === path);
    const body = section?.querySelector(".file-body");
    if (body) this.paint(path, body);
  }

  /**
   * @private
   * @param {MouseEvent} event
   */
  onDown(event) {
    if (event.button !== 0 || event.ctrlKey || event.metaKey || event.altKey) return;
    const target = /** @type {Element} */ (event.target);
    const row = /** @type {HTMLTableRowElement|null} */ (target.closest("tr[data-key]"));
    const section = /** @type {HTMLElement|null} */ (target.closest("section.file"));
    const body = target.closest(".file-body");
    if (!row || !section || !body) return;
    const path = section.dataset.path ?? "";
    const cell = target.closest("td.num");
    const plus = /** @type {HTMLElement|null} */ (target.closest("button.comment-button"));
    /** @type {"old"|"new"|null} */
    let side = null;
    if (cell instanceof HTMLTableCellElement) side = gutterSide(cell, row);
    else if (plus) side = plus.dataset.side === "old" ? "old" : "new";
    const line = side === null ? null : lineOf(row, side);
    if (side === null || line === null) return;
    if (cell) event.preventDefault(); // no text selection while dragging over the gutter
    if (cell && event.shiftKey) {
      const range = this.extend(path, side, line);
      if (range) this.finish(range, body);
      else this.set({ path, side, start: line, end: line });
      return;
    }
    if (event.shiftKey) return; // a shift-click on "+": the click handler extends the selection
    this.drag = { path, side, from: line, to: line, moved: false, gutter: Boolean(cell), body };
    if (cell) this.set({ path, side, start: line, end: line });
  }

  /**
   * @private
   * @param {MouseEvent} event
   */
  onOver(event) {
    const drag = this.drag;
    if (!drag) return;
    if ((event.buttons & 1) === 0) {
      this.onUp();
      return;
    }
    const row = /** @type {Element} */ (event.target).closest("tr[data-key]");
    if (!row || !drag.body.contains(row)) return;
    const line = lineOf(row, drag.side);
    if (line === null || line === drag.to) return;
    drag.to = line;
    drag.moved = true;
    this.set({ path: drag.path, side: drag.side, start: drag.from, end: line });
    this.anchor = drag.from;
    window.getSelection()?.removeAllRanges();
  }

  /** @private */
  onUp() {
    const drag = this.drag;
    this.drag = null;
    if (!drag || !drag.moved || !this.current) return;
    this.finish(this.current, drag.body);
  }

  /**
   * @private
   * @param {Range} range
   * @param {Element} body
   */
  finish(range, body) {
    const row = this.rowFor(body, range);
    if (!row) return;
    this.root.dispatchEvent(new CustomEvent("backloop:select-lines", { detail: { range, row }, bubbles: true }));
  }
}
