// Suggested changes as text, no DOM: finding the ```suggestion block of a comment exactly as the server does
// (backloop/review/suggest.py; a test runs both over the same bodies), and writing one for the comment form.

const OPENING = /^(`{3,}|~{3,})suggestion[ \t]*\r?$/;
const BLANKS = /^[ \t]*$/;
/** The line boundaries of Python's str.splitlines(). */
const LINE_BREAK = /\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/;

/**
 * Python's `text.splitlines()`: no empty last line for a trailing line break, nothing for "".
 * @param {string} text
 * @returns {string[]}
 */
function splitLines(text) {
  if (!text) return [];
  const lines = text.split(LINE_BREAK);
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

/**
 * The replacement lines of the first suggestion block in a comment's body (an empty block deletes the lines), or
 * null when it has none. A block opens at the start of a line with ``` (or more backticks, or ~~~) and the info
 * string `suggestion`, and closes at the first line that is the same fence exactly (trailing blanks allowed).
 * @param {string} body
 * @returns {string[]|null}
 */
export function suggestedLines(body) {
  // (Python's re.M anchors only at "\n": split on it alone, and mirror what the pattern allows at each end.)
  const lines = body.split("\n");
  for (let open = 0; open < lines.length - 1; open += 1) {
    const match = OPENING.exec(lines[open]);
    if (!match) continue;
    const fence = match[1];
    for (let close = open + 1; close < lines.length; close += 1) {
      const line = lines[close];
      if (line.startsWith(fence) && BLANKS.test(line.slice(fence.length))) {
        const inner = lines.slice(open + 1, close);
        return splitLines(inner.length ? `${inner.join("\n")}\n`.replace(/\r\n/g, "\n") : "");
      }
    }
  }
  return null;
}

/**
 * A suggestion block proposing `lines`, fenced with more backticks than any run of them in the lines (so none of
 * them can close it early).
 * @param {string[]} lines
 * @returns {string}
 */
export function suggestionBlock(lines) {
  const longest = Math.max(0, ...lines.flatMap((line) => (line.match(/`+/g) ?? []).map((run) => run.length)));
  const fence = "`".repeat(Math.max(3, longest + 1));
  return `${fence}suggestion\n${lines.map((line) => `${line}\n`).join("")}${fence}\n`;
}

/**
 * The text of new-side lines `start`..`end` as the page has them (the file's hunks, and context lines revealed by
 * expanding), or null when any of them is not there.
 * @param {import("./protocol.js").FileDiff|undefined} file
 * @param {Map<number, {text: string}>} expanded
 * @param {number} start
 * @param {number} end
 * @returns {string[]|null}
 */
export function currentLines(file, expanded, start, end) {
  if (!file) return null;
  /** @type {Map<number, string>} */
  const known = new Map();
  for (const hunk of file.hunks) {
    for (const line of hunk.lines) if (line.kind !== "del" && line.new != null) known.set(line.new, line.text);
  }
  /** @type {string[]} */
  const lines = [];
  for (let n = start; n <= end; n += 1) {
    const text = known.get(n) ?? expanded.get(n)?.text;
    if (text === undefined) return null;
    lines.push(text);
  }
  return lines;
}
