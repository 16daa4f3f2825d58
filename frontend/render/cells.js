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
 * What a line's cells show, its numbers aside (see patch.js).
 * @param {Line} line
 * @param {boolean} expanded
 * @returns {string}
 */
export function lineSig(line, expanded) {
  return `${line.kind}${expanded ? "+" : ""}${line.no_eol ? "$" : ""}${line.text.endsWith("\r") ? "r" : ""}:${line.html}`;
}

/**
 * A line's numbers, for patch.js.
 * @param {Line|null|undefined} line
 * @returns {string}
 */
export function lineNumbers(line) {
  return line ? `${line.old ?? ""},${line.new ?? ""}` : "";
}

/**
 * Give a row its key attributes again after its line numbers changed.
 * @param {HTMLTableRowElement} tr
 * @param {string|null} key
 * @param {string|null} keyOld
 * @param {number|null|undefined} old
 */
export function setRowKeys(tr, key, keyOld, old) {
  for (const [name, value] of /** @type {const} */ ([["key", key], ["keyOld", keyOld], ["old", old == null ? null : String(old)]])) {
    if (value === null) delete tr.dataset[name];
    else tr.dataset[name] = value;
  }
}

/**
 * Give a built row's cell a new line number, and the "+" in its code cell (if any) that number too.
 * @param {HTMLTableCellElement} numberCell
 * @param {HTMLTableCellElement|null} codeCell the code cell whose "+" comments on this number
 * @param {"old"|"new"} side
 * @param {number|null|undefined} number
 */
export function renumberCell(numberCell, codeCell, side, number) {
  numberCell.textContent = number == null ? "" : String(number);
  const control = codeCell?.querySelector(":scope > .comment-button");
  if (control && number != null) control.replaceWith(commentButton(side, number));
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
 * The kind of expander / hunk header row (see table.js): the rest of it (header, ranges, error) counts as its
 * numbers, so that a row which only moved is renumbered in place like a line.
 * @param {GapRow} gap
 * @returns {{sig: string, numbers: string}}
 */
export function gapIds(gap) {
  return {
    sig: `gap ${gap.position} ${gap.expanders.map((expander) => expander.direction).join(" ")}`,
    numbers: JSON.stringify([gap.header, gap.expanders, gap.error ?? null]),
  };
}

/**
 * Make a built expander / hunk header row show `gap`.
 * @param {HTMLTableRowElement} tr
 * @param {GapRow} gap
 * @param {number} numberColumns
 * @param {number} codeColumns
 */
export function refillGap(tr, gap, numberColumns, codeColumns) {
  const fresh = gapRow(gap, numberColumns, codeColumns);
  tr.className = fresh.className;
  tr.replaceChildren(...fresh.childNodes);
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
