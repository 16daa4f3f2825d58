// The rows of one file's diff, as data: hunk lines, context lines revealed by `expand`, and the expander
// rows of the gaps between them. Both layouts (unified, split) render from this; no DOM here.

/**
 * @typedef {import("./protocol.js").FileDiff} FileDiff
 * @typedef {import("./protocol.js").Hunk} Hunk
 * @typedef {import("./protocol.js").Line} Line
 * @typedef {import("./store.js").FileUI} FileUI
 *
 * @typedef {{start: number, end: number}} Range 1-based inclusive new-side line numbers
 * @typedef {{label: string, direction: "up"|"down"|"all", range: Range}} Expander
 * @typedef {{type: "gap", header: string, position: "top"|"between"|"bottom", expanders: Expander[],
 *   error?: string}} GapRow
 * @typedef {{type: "line", line: Line, expanded: boolean}} LineRow
 * @typedef {GapRow|LineRow} Row
 */

/** How many lines one "expand up/down" reveals. */
export const EXPAND_STEP = 20;

/**
 * First line and line count of one side of a hunk (a side with 0 lines starts after `start`).
 * @param {number} start
 * @param {number} count
 * @returns {number}
 */
function firstLine(start, count) {
  return count === 0 ? start + 1 : start;
}

/**
 * Whether context can be expanded around this file's hunks at all.
 * @param {FileDiff} file
 * @returns {boolean}
 */
export function canExpand(file) {
  return !file.binary && file.hunks.length > 0 && file.status !== "added" && file.status !== "deleted";
}

/**
 * @param {Range} hidden
 * @param {"top"|"between"|"bottom"} position
 * @returns {Expander[]}
 */
function expandersFor(hidden, position) {
  const size = hidden.end - hidden.start + 1;
  if (size <= EXPAND_STEP) {
    return [{ label: "Expand all", direction: "all", range: hidden }];
  }
  const down = { start: hidden.start, end: hidden.start + EXPAND_STEP - 1 };
  const up = { start: hidden.end - EXPAND_STEP + 1, end: hidden.end };
  /** @type {Expander[]} */
  const result = [];
  if (position !== "top") result.push({ label: "Expand down", direction: "down", range: down });
  if (position !== "bottom") result.push({ label: "Expand up", direction: "up", range: up });
  return result;
}

/**
 * The rows of a gap of unchanged lines from `start` to `end` (end may be Infinity: the end of the file is
 * not known yet), given the lines revealed so far. Old line numbers are new ones minus `offset`.
 * @param {Row[]} rows
 * @param {{start: number, end: number, offset: number, header: string, position: "top"|"between"|"bottom",
 *   alwaysHeader: boolean}} gap
 * @param {FileUI|undefined} ui
 * @param {boolean} expandable
 */
function pushGap(rows, gap, ui, expandable) {
  const expanded = ui ? ui.expanded : new Map();
  const end = ui && ui.eofAt !== null ? Math.min(gap.end, ui.eofAt) : gap.end;
  let top = gap.start;
  while (top <= end && expanded.has(top)) top += 1;
  let bottom = end;
  if (Number.isFinite(end)) {
    while (bottom >= top && expanded.has(bottom)) bottom -= 1;
  }
  /** @param {number} from @param {number} to */
  const pushLines = (from, to) => {
    for (let n = from; n <= to; n += 1) {
      const line = /** @type {{text: string, html: string}} */ (expanded.get(n));
      rows.push({
        type: "line",
        expanded: true,
        line: { kind: "context", old: n - gap.offset, new: n, text: line.text, html: line.html },
      });
    }
  };
  pushLines(gap.start, top - 1);
  const hidden = top <= bottom;
  if (hidden || gap.alwaysHeader) {
    const expanders = hidden && expandable ? expandersFor({ start: top, end: bottom }, gap.position) : [];
    /** @type {GapRow} */
    const row = { type: "gap", header: gap.header, position: gap.position, expanders };
    const failed = ui?.expandError;
    if (failed && hidden && failed.start <= bottom && failed.end >= top) row.error = failed.message;
    if (hidden || gap.header) rows.push(row);
  }
  if (Number.isFinite(end)) pushLines(bottom + 1, end);
}

/**
 * Whether the new side of the file is known to end with the last hunk.
 * @param {Hunk} hunk
 * @returns {boolean}
 */
function endsFile(hunk) {
  for (let i = hunk.lines.length - 1; i >= 0; i -= 1) {
    const line = hunk.lines[i];
    if (line.kind !== "del") return Boolean(line.no_eol);
  }
  return false;
}

/**
 * All rows of a file, in order.
 * @param {FileDiff} file
 * @param {FileUI|undefined} ui
 * @returns {Row[]}
 */
export function buildRows(file, ui) {
  /** @type {Row[]} */
  const rows = [];
  const expandable = canExpand(file);
  let nextNew = 1;
  let nextOld = 1;
  file.hunks.forEach((hunk, index) => {
    const newFirst = firstLine(hunk.new_start, hunk.new_lines);
    const oldFirst = firstLine(hunk.old_start, hunk.old_lines);
    pushGap(
      rows,
      {
        start: nextNew,
        end: newFirst - 1,
        offset: newFirst - oldFirst,
        header: hunk.header,
        position: index === 0 ? "top" : "between",
        alwaysHeader: index === 0,
      },
      ui,
      expandable,
    );
    for (const line of hunk.lines) rows.push({ type: "line", line, expanded: false });
    nextNew = newFirst + hunk.new_lines;
    nextOld = oldFirst + hunk.old_lines;
  });
  const last = file.hunks[file.hunks.length - 1];
  if (expandable && last && !endsFile(last)) {
    pushGap(
      rows,
      { start: nextNew, end: Infinity, offset: nextNew - nextOld, header: "", position: "bottom", alwaysHeader: false },
      ui,
      expandable,
    );
  }
  return rows;
}

/**
 * Pair the rows for the split layout: runs of deletions face the additions that follow them.
 * @param {Row[]} rows
 * @returns {Array<{type: "gap", gap: GapRow} | {type: "pair", left: LineRow|null, right: LineRow|null}>}
 */
export function pairRows(rows) {
  /** @type {Array<{type: "gap", gap: GapRow} | {type: "pair", left: LineRow|null, right: LineRow|null}>} */
  const result = [];
  let i = 0;
  while (i < rows.length) {
    const row = rows[i];
    if (row.type === "gap") {
      result.push({ type: "gap", gap: row });
      i += 1;
    } else if (row.line.kind === "context") {
      result.push({ type: "pair", left: row, right: row });
      i += 1;
    } else {
      /** @type {LineRow[]} */
      const dels = [];
      /** @type {LineRow[]} */
      const adds = [];
      while (i < rows.length) {
        const r = rows[i];
        if (r.type !== "line" || r.line.kind !== "del") break;
        dels.push(r);
        i += 1;
      }
      while (i < rows.length) {
        const r = rows[i];
        if (r.type !== "line" || r.line.kind !== "add") break;
        adds.push(r);
        i += 1;
      }
      const count = Math.max(dels.length, adds.length);
      for (let k = 0; k < count; k += 1) result.push({ type: "pair", left: dels[k] ?? null, right: adds[k] ?? null });
    }
  }
  return result;
}

/**
 * The largest line number shown, to size the line-number columns.
 * @param {FileDiff} file
 * @returns {number}
 */
export function maxLineNumber(file) {
  let max = 0;
  for (const hunk of file.hunks) {
    max = Math.max(max, hunk.old_start + hunk.old_lines, hunk.new_start + hunk.new_lines);
  }
  return max;
}

/**
 * A rough row count, to size the placeholder of a file not rendered yet.
 * @param {FileDiff} file
 * @returns {number}
 */
export function estimateRows(file) {
  // A file still loading (a streamed snapshot) has its counts but no hunks yet: about a row per changed line.
  if (file.loading && !file.hunks.length) return file.additions + file.deletions + 2;
  let count = 0;
  for (const hunk of file.hunks) count += hunk.lines.length + 1;
  return count;
}
