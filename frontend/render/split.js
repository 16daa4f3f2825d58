// The split layout: old side on the left, new side on the right; deletions face the additions after them.
import { fillCode, fillNumber, gapRow, gapIds, refillGap, lineKey, lineSig, lineNumbers, setRowKeys, renumberCell, commentButton } from "./cells.js";
import { pairRows } from "../rows.js";

/**
 * @typedef {import("../rows.js").Row} Row
 * @typedef {import("../rows.js").LineRow} LineRow
 * @typedef {{sig: string, numbers: string, pair: ReturnType<typeof pairRows>[number]}} SplitItem
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
 * @param {LineRow|null} row
 * @returns {string}
 */
const sideSig = (row) => (row ? lineSig(row.line, row.expanded) : "");

/** @type {import("./table.js").Layout<SplitItem>} */
export const split = {
  name: "split",
  columns: ["col-num", "col-code", "col-num", "col-code"],
  items: (rows) =>
    pairRows(rows).map((pair) =>
      pair.type === "gap"
        ? { ...gapIds(pair.gap), pair }
        : { sig: `${sideSig(pair.left)}\n${sideSig(pair.right)}`, numbers: `${lineNumbers(pair.left?.line)}|${lineNumbers(pair.right?.line)}`, pair },
    ),
  build({ pair }) {
    if (pair.type === "gap") return gapRow(pair.gap, 1, 3);
    const tr = /** @type {HTMLTableRowElement} */ (rowTemplate().cloneNode(true));
    setKeys(tr, pair.left, pair.right);
    const cells = tr.cells;
    fillSide(cells[0], cells[1], pair.left, "old");
    fillSide(cells[2], cells[3], pair.right, "new");
    return tr;
  },
  renumber(tr, { pair }) {
    if (pair.type === "gap") {
      refillGap(tr, pair.gap, 1, 3);
      return;
    }
    setKeys(tr, pair.left, pair.right);
    const cells = tr.cells;
    if (pair.left) renumberCell(cells[0], cells[1], "old", pair.left.line.old);
    if (pair.right) renumberCell(cells[2], cells[3], "new", pair.right.line.new);
  },
};

/**
 * @param {HTMLTableRowElement} tr
 * @param {LineRow|null} left
 * @param {LineRow|null} right
 */
function setKeys(tr, left, right) {
  const primary = right ?? left;
  setRowKeys(
    tr,
    primary ? lineKey(primary.line) : null,
    left && right && left !== right ? lineKey(left.line) : null,
    left ? left.line.old : null,
  );
}
