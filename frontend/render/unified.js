// The unified layout: old and new line numbers, then the code, one row per diff line.
import { fillCode, fillNumber, gapRow, gapIds, refillGap, lineKey, lineSig, lineNumbers, setRowKeys, renumberCell, commentButton } from "./cells.js";

/**
 * @typedef {import("../rows.js").Row} Row
 * @typedef {{sig: string, numbers: string, row: Row}} UnifiedItem
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

/** @type {import("./table.js").Layout<UnifiedItem>} */
export const unified = {
  name: "unified",
  columns: ["col-num", "col-num", "col-code"],
  items: (rows) =>
    rows.map((row) =>
      row.type === "gap"
        ? { ...gapIds(row), row }
        : { sig: lineSig(row.line, row.expanded), numbers: lineNumbers(row.line), row },
    ),
  build({ row }) {
    if (row.type === "gap") return gapRow(row, 2, 1);
    const { line } = row;
    const tr = /** @type {HTMLTableRowElement} */ (rowTemplate().cloneNode(true));
    tr.className = `line line-${line.kind}${row.expanded ? " line-expanded" : ""}`;
    tr.dataset.key = lineKey(line);
    if (line.old != null) tr.dataset.old = String(line.old);
    const cells = tr.cells;
    fillNumber(cells[0], line.old);
    fillNumber(cells[1], line.new);
    if (line.new != null) cells[2].append(commentButton("new", line.new));
    else if (line.old != null) cells[2].append(commentButton("old", line.old));
    fillCode(cells[2], line);
    return tr;
  },
  renumber(tr, { row }) {
    if (row.type === "gap") {
      refillGap(tr, row, 2, 1);
      return;
    }
    const { line } = row;
    setRowKeys(tr, lineKey(line), null, line.old);
    const cells = tr.cells;
    renumberCell(cells[0], line.new == null ? cells[2] : null, "old", line.old);
    renumberCell(cells[1], line.new != null ? cells[2] : null, "new", line.new);
  },
};
