// The unified layout: old and new line numbers, then the code, one row per diff line.
import { fillCode, fillNumber, gapRow, lineKey, ChunkedTable, commentButton } from "./cells.js";

/**
 * @typedef {import("../rows.js").Row} Row
 */

/** @type {HTMLTableRowElement|null} */
let template = null;

/** @returns {HTMLTableRowElement} */
function rowTemplate() {
  if (!template) {
    template = document.createElement("tr");
    for (const name of ["num num-old", "num num-new", "code"]) {
      const cell = document.createElement("td");
      cell.className = name;
      template.append(cell);
    }
  }
  return template;
}

/**
 * Render rows as a unified diff table.
 * @param {Row[]} rows
 * @param {number} maxNumber
 * @returns {HTMLDivElement}
 */
export function renderUnified(rows, maxNumber) {
  const table = new ChunkedTable("unified", maxNumber, ["col-num", "col-num", "col-code"]);
  const proto = rowTemplate();
  for (const row of rows) {
    if (row.type === "gap") {
      table.add(gapRow(row, 2, 1));
      continue;
    }
    const { line } = row;
    const tr = /** @type {HTMLTableRowElement} */ (proto.cloneNode(true));
    tr.className = `line line-${line.kind}${row.expanded ? " line-expanded" : ""}`;
    tr.dataset.key = lineKey(line);
    if (line.old != null) tr.dataset.old = String(line.old);
    const cells = tr.cells;
    fillNumber(cells[0], line.old);
    fillNumber(cells[1], line.new);
    if (line.new != null) cells[2].append(commentButton("new", line.new));
    else if (line.old != null) cells[2].append(commentButton("old", line.old));
    fillCode(cells[2], line);
    table.add(tr);
  }
  return table.finish();
}
