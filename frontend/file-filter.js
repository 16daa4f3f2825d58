// What the file filter above the tree matches. Terms are separated by spaces; a term with `*`, `?`, `[` or `{`
// is a glob, any other term a substring of the path; a leading `!` makes a term exclude. A file is shown when it
// matches any including term (or there is none) and no excluding one. Case does not matter. Globs follow
// .gitignore: one with a slash is matched against the whole path (`src/**/*.py`, `/docs/*`), one without
// against each part of it (`*.lock` matches `web/yarn.lock`, `vendor*` everything under `vendor/`). No DOM here.

/** @typedef {(path: string) => boolean} Test */

const GLOB = /[*?[{]/;

/**
 * A regular expression for a glob, without anchors. `**` spans directories, `*` and `?` stay within one,
 * `[...]` is a class (`[!...]` negated), `{a,b}` alternatives; an unbalanced bracket or brace is literal.
 * @param {string} glob
 * @returns {string}
 */
export function globSource(glob) {
  let out = "";
  let depth = 0;
  for (let i = 0; i < glob.length; i += 1) {
    const char = glob[i];
    if (char === "*") {
      if (glob[i + 1] === "*") {
        const before = i === 0 || glob[i - 1] === "/";
        i += 1;
        while (glob[i + 1] === "*") i += 1;
        if (before && glob[i + 1] === "/") {
          out += "(?:[^/]*/)*"; // `**/`: any number of directories, none included
          i += 1;
        } else out += ".*";
      } else out += "[^/]*";
    } else if (char === "?") {
      out += "[^/]";
    } else if (char === "[" && glob.indexOf("]", i + 2) > 0) {
      const end = glob.indexOf("]", i + 2);
      let body = glob.slice(i + 1, end);
      const negated = body[0] === "!" || body[0] === "^";
      if (negated) body = body.slice(1);
      out += `[${negated ? "^/" : ""}${body.replace(/[\\\]^]/g, "\\$&")}]`;
      i = end;
    } else if (char === "{" && closes(glob, i)) {
      depth += 1;
      out += "(?:";
    } else if (char === "," && depth > 0) {
      out += "|";
    } else if (char === "}" && depth > 0) {
      depth -= 1;
      out += ")";
    } else {
      out += char.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
    }
  }
  return out;
}

/**
 * Whether the brace at `at` has its closing brace.
 * @param {string} glob
 * @param {number} at
 * @returns {boolean}
 */
function closes(glob, at) {
  let depth = 0;
  for (let i = at; i < glob.length; i += 1) {
    if (glob[i] === "{") depth += 1;
    else if (glob[i] === "}" && --depth === 0) return true;
  }
  return false;
}

/**
 * @param {string} term one term, without its `!`
 * @returns {Test}
 */
function compile(term) {
  if (!GLOB.test(term)) {
    const needle = term.toLowerCase();
    return (path) => path.toLowerCase().includes(needle);
  }
  let glob = term.replace(/^\.?\//, "");
  const anchored = glob.replace(/\/+$/, "").includes("/") || term.startsWith("/");
  const directory = glob.endsWith("/"); // `src/*/`: what lies under such directories
  glob = glob.replace(/\/+$/, "");
  const source = globSource(glob);
  const pattern = anchored
    ? new RegExp(`^${source}${directory ? "/" : "(?:/|$)"}`, "i")
    : new RegExp(`(?:^|/)${source}${directory ? "/" : "(?:/|$)"}`, "i");
  return (path) => pattern.test(path);
}

export class FileFilter {
  /** @param {string} query what was typed */
  constructor(query) {
    this.query = query;
    /** @type {Test[]} */
    this.include = [];
    /** @type {Test[]} */
    this.exclude = [];
    for (const term of query.split(/\s+/)) {
      if (!term || term === "!") continue;
      if (term.startsWith("!")) this.exclude.push(compile(term.slice(1)));
      else this.include.push(compile(term));
    }
  }

  /** @returns {boolean} whether it leaves anything out at all */
  get active() {
    return this.include.length > 0 || this.exclude.length > 0;
  }

  /**
   * @param {string} path
   * @returns {boolean}
   */
  matches(path) {
    if (this.include.length && !this.include.some((test) => test(path))) return false;
    return !this.exclude.some((test) => test(path));
  }
}
