// Inline Markdown (the text of a paragraph, list item, heading): code spans, emphasis, links, line breaks.
// Builds DOM nodes with createElement and text nodes only: nothing is ever parsed as HTML, so raw HTML in a
// comment shows as the text it is. Links are made only for http(s) and mailto URLs.

/** Schemes a link may point to; anything else (javascript:, data:, relative paths) stays plain text. */
const SAFE_PROTOCOLS = new Set(["http:", "https:", "mailto:"]);
/** Nested emphasis and links deeper than this stay plain text (bounds recursion on hostile input). */
const MAX_DEPTH = 16;
const PUNCTUATION = /[!-/:-@[-`{-~]/;
const WORD = /[\p{L}\p{N}]/u;
const BARE_URL = /(?:https?:\/\/|mailto:)[^\s<>]*[^\s<>.,:;"'!?)\]*_~]/iy;
const AUTOLINK = /<([a-z][a-z0-9+.-]{1,31}:[^\s<>]+)>/iy;

/**
 * The URL to link to, or null when `raw` is not an absolute http(s)/mailto URL.
 * @param {string} raw
 * @returns {string|null}
 */
export function safeHref(raw) {
  const text = raw.trim();
  if (!text || /[\u0000-\u001f\s]/.test(text)) return null;
  let url;
  try {
    url = new URL(text);
  } catch {
    return null;
  }
  return SAFE_PROTOCOLS.has(url.protocol) ? url.href : null;
}

/**
 * @param {string} href a URL that passed safeHref
 * @returns {HTMLAnchorElement}
 */
function link(href) {
  const a = document.createElement("a");
  a.href = href;
  a.rel = "noopener noreferrer nofollow";
  a.target = "_blank";
  return a;
}

/**
 * Inline parser over one string. Failed searches for a closing delimiter are remembered: a search that found
 * nothing from position i finds nothing from any later position either, so hostile input stays linear-ish.
 */
class Inline {
  /** @param {string} source */
  constructor(source) {
    this.s = source;
    /** @type {Map<string, number>} delimiter and bound → the position from which it has no closer */
    this.noCloser = new Map();
    /** inside a link's text: no links in links */
    this.inLink = false;
    /** @type {Int32Array|null} see pairs() */
    this.matches = null;
  }

  /**
   * Parse s[from, to) into `parent`.
   * @param {Node} parent
   * @param {number} from
   * @param {number} to
   * @param {number} depth
   */
  parse(parent, from, to, depth) {
    const s = this.s;
    let text = "";
    const flush = () => {
      if (text) parent.appendChild(document.createTextNode(text));
      text = "";
    };
    let i = from;
    while (i < to) {
      const c = s[i];
      if (c === "\\" && i + 1 < to && PUNCTUATION.test(s[i + 1])) {
        text += s[i + 1];
        i += 2;
        continue;
      }
      if (c === "\\" && s[i + 1] === "\n") {
        flush();
        parent.appendChild(document.createElement("br"));
        i += 2;
        continue;
      }
      if (c === "\n") {
        text = text.replace(/ +$/, "");
        flush();
        parent.appendChild(document.createElement("br"));
        i += 1;
        while (s[i] === " ") i += 1;
        continue;
      }
      if (c === "`") {
        const end = this.codeSpan(parent, i, to, flush);
        if (end > i) {
          i = end;
          continue;
        }
        let run = i;
        while (s[run] === "`") run += 1;
        text += s.slice(i, run);
        i = run;
        continue;
      }
      if (depth < MAX_DEPTH) {
        let end = i;
        if (c === "*" || c === "_" || c === "~") end = this.emphasis(parent, i, to, depth, flush);
        else if (this.inLink) end = i;
        else if (c === "[" || (c === "!" && s[i + 1] === "[")) end = this.link(parent, i, to, depth, flush);
        else if (c === "<") end = this.autolink(parent, i, to, flush, AUTOLINK);
        else if (c === "h" || c === "H" || c === "m" || c === "M") end = this.autolink(parent, i, to, flush, BARE_URL);
        if (end > i) {
          i = end;
          continue;
        }
      }
      text += c;
      i += 1;
    }
    flush();
  }

  /**
   * For every "[" and "(" of the source, the index of its matching "]" or ")" (-1 when there is none; parentheses
   * do not match across lines); computed once, so link syntax costs linear time whatever the input.
   * @private
   * @returns {Int32Array}
   */
  pairs() {
    if (this.matches) return this.matches;
    const s = this.s;
    const matches = new Int32Array(s.length + 1).fill(-1);
    /** @type {number[]} */
    const brackets = [];
    /** @type {number[]} */
    let parens = [];
    for (let k = 0; k < s.length; k += 1) {
      const c = s[k];
      if (c === "\\") k += 1;
      else if (c === "[") brackets.push(k);
      else if (c === "]" && brackets.length) matches[/** @type {number} */ (brackets.pop())] = k;
      else if (c === "(") parens.push(k);
      else if (c === ")" && parens.length) matches[/** @type {number} */ (parens.pop())] = k;
      else if (c === "\n") parens = [];
    }
    this.matches = matches;
    return matches;
  }

  /**
   * A code span starting at the backtick run at `i`; returns the position after it, or `i`.
   * @private
   * @param {Node} parent @param {number} i @param {number} to @param {() => void} flush
   * @returns {number}
   */
  codeSpan(parent, i, to, flush) {
    const s = this.s;
    let open = i;
    while (s[open] === "`") open += 1;
    const fence = s.slice(i, open);
    const key = `${fence}:${to}`;
    if ((this.noCloser.get(key) ?? Infinity) <= open) return i;
    let close = s.indexOf(fence, open);
    while (close !== -1 && close < to && (s[close + fence.length] === "`" || s[close - 1] === "`")) {
      let after = close;
      while (s[after] === "`") after += 1;
      close = s.indexOf(fence, after);
    }
    if (close === -1 || close + fence.length > to) {
      this.noCloser.set(key, Math.min(this.noCloser.get(key) ?? Infinity, open));
      return i;
    }
    let content = s.slice(open, close).replace(/\n/g, " ");
    if (content.length > 2 && content.startsWith(" ") && content.endsWith(" ") && content.trim()) content = content.slice(1, -1);
    flush();
    const code = document.createElement("code");
    code.textContent = content;
    parent.appendChild(code);
    return close + fence.length;
  }

  /**
   * `[text](url "title")` or `![alt](url)`: a link when the URL is safe, else the source as text.
   * @private
   * @param {Node} parent @param {number} i @param {number} to @param {number} depth @param {() => void} flush
   * @returns {number}
   */
  link(parent, i, to, depth, flush) {
    const s = this.s;
    const image = s[i] === "!";
    const open = image ? i + 1 : i;
    const pairs = this.pairs();
    const close = pairs[open];
    if (close === -1 || close >= to || s[close + 1] !== "(") return i;
    const end = pairs[close + 1];
    if (end === -1 || end >= to) return i;
    let target = s.slice(close + 2, end).trim();
    const titled = /^(\S+)\s+(?:"[^"]*"|'[^']*')$/.exec(target);
    if (titled) target = titled[1];
    if (target.startsWith("<") && target.endsWith(">")) target = target.slice(1, -1);
    const href = safeHref(target);
    flush();
    if (href === null) {
      parent.appendChild(document.createTextNode(s.slice(i, end + 1)));
    } else {
      const a = link(href);
      if (image) a.textContent = s.slice(open + 1, close) || href;
      else {
        this.inLink = true;
        this.parse(a, open + 1, close, depth + 1);
        this.inLink = false;
      }
      if (!a.firstChild) a.textContent = href;
      parent.appendChild(a);
    }
    return end + 1;
  }

  /**
   * `<https://…>` (pattern AUTOLINK) or a bare http(s)/mailto URL at the start of a word (BARE_URL; GitHub
   * links those too); returns the position after it, or `i`.
   * @private
   * @param {Node} parent @param {number} i @param {number} to @param {() => void} flush
   * @param {RegExp} pattern a sticky regular expression
   * @returns {number}
   */
  autolink(parent, i, to, flush, pattern) {
    if (pattern === BARE_URL && i > 0 && WORD.test(this.s[i - 1])) return i;
    pattern.lastIndex = i;
    const match = pattern.exec(this.s);
    if (!match || i + match[0].length > to) return i;
    const shown = match[1] ?? match[0];
    const href = safeHref(shown);
    if (href === null) return i;
    flush();
    const a = link(href);
    a.textContent = shown;
    parent.appendChild(a);
    return i + match[0].length;
  }

  /**
   * `**strong**`, `__strong__`, `*em*`, `_em_`, `~~del~~`.
   * @private
   * @param {Node} parent @param {number} i @param {number} to @param {number} depth @param {() => void} flush
   * @returns {number}
   */
  emphasis(parent, i, to, depth, flush) {
    const s = this.s;
    const c = s[i];
    const double = s[i + 1] === c;
    if (c === "~" && !double) return i;
    const size = double ? 2 : 1;
    const delim = c.repeat(size);
    const inner = i + size;
    if (inner >= to || /\s/.test(s[inner]) || (s[inner] === c && !double)) return i;
    if (c === "_" && i > 0 && WORD.test(s[i - 1])) return i; // snake_case stays text
    const key = `${delim}:${to}`;
    if ((this.noCloser.get(key) ?? Infinity) <= inner) return i;
    for (let k = inner + 1; k < to; k += 1) {
      const ch = s[k];
      if (ch === "\\") {
        k += 1;
        continue;
      }
      if (ch === "`") {
        let run = k;
        while (s[run] === "`") run += 1;
        const fence = s.slice(k, run);
        const close = s.indexOf(fence, run);
        k = close !== -1 && close < to ? close + fence.length - 1 : run - 1;
        continue;
      }
      if (!s.startsWith(delim, k) || /\s/.test(s[k - 1])) continue;
      if (double) while (s[k + 2] === c && k + 2 < to) k += 1; // "***": the ** closes last, after an inner *
      if (!double && k + 1 < to && s[k + 1] === c) {
        k += 1; // a ** run inside *…*: skip it whole
        continue;
      }
      if (c === "_" && k + size < to && WORD.test(s[k + size])) continue;
      flush();
      const element = document.createElement(c === "~" ? "del" : double ? "strong" : "em");
      this.parse(element, inner, k, depth + 1);
      parent.appendChild(element);
      return k + size;
    }
    this.noCloser.set(key, Math.min(this.noCloser.get(key) ?? Infinity, inner));
    return i;
  }
}

/**
 * Render inline Markdown into `parent`.
 * @param {Node} parent
 * @param {string} text
 */
export function renderInline(parent, text) {
  new Inline(text).parse(parent, 0, text.length, 0);
}
