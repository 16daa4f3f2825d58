// The split layout: old side on the left, new side on the right; deletions face the additions after them.
import { fillCode, fillNumber, gapRow, lineKey, ChunkedTable, commentButton } from "./cells.js";
import { pairRows } from "../rows.js";

/**
 * @typedef {import("../rows.js").Row} Row
 * @typedef {import("../rows.js").LineRow} LineRow
 */

/** @type {HTMLTableRowElement|null} */
let template = null;

/** @returns {HTMLTableRowElement} */
function rowTemplate() {
  if (!template) {
    template = document.createElement("tr");
    template.className = "line";
    for (const name of ["num num-old", "code code-old", "num num-new", "code code-new"]) {
      const cell = document.createElement("td");
      cell.className = name;
      template.append(cell);
    }
  }
  return template;
}

/**
 * @param {HTMLTableCellElement} numberCell
 * @param {HTMLTableCellElement} codeCell
 * @param {LineRow|null} row
 * @param {"old"|"new"} side
 */
function fillSide(numberCell, codeCell, row, side) {
  if (!row) {
    numberCell.classList.add("empty");
    codeCell.classList.add("empty");
    return;
  }
  const kind = row.line.kind === "context" ? (row.expanded ? "ctx expanded" : "ctx") : row.line.kind;
  for (const name of kind.split(" ")) {
    numberCell.classList.add(name);
    codeCell.classList.add(name);
  }
  const number = side === "old" ? row.line.old : row.line.new;
  fillNumber(numberCell, number);
  if (number != null && (side === "new" || row.line.kind === "del")) codeCell.append(commentButton(side, number));
  fillCode(codeCell, row.line);
}

/**
 * Render rows as a split diff table.
 * @param {Row[]} rows
 * @param {number} maxNumber
 * @returns {HTMLDivElement}
 */
export function renderSplit(rows, maxNumber) {
  const table = new ChunkedTable("split", maxNumber, ["col-num", "col-code", "col-num", "col-code"]);
  const proto = rowTemplate();
  for (const item of pairRows(rows)) {
    if (item.type === "gap") {
      table.add(gapRow(item.gap, 1, 3));
      continue;
    }
    const tr = /** @type {HTMLTableRowElement} */ (proto.cloneNode(true));
    const primary = item.right ?? item.left;
    if (primary) tr.dataset.key = lineKey(primary.line);
    if (item.left && item.right && item.left !== item.right) tr.dataset.keyOld = lineKey(item.left.line);
    if (item.left && item.left.line.old != null) tr.dataset.old = String(item.left.line.old);
    const cells = tr.cells;
    fillSide(cells[0], cells[1], item.left, "old");
    fillSide(cells[2], cells[3], item.right, "new");
    table.add(tr);
  }
  return table.finish();
}
