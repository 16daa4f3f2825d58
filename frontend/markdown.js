// Markdown for comment bodies, replies and review summaries, rendered to DOM nodes (createElement and text
// nodes; nothing is parsed as HTML, so raw HTML shows as text). Blocks: paragraphs (a line break is a <br>, as
// in GitHub comments), fenced code (``` or ~~~, with an optional language), indented code, bullet and numbered
// lists (nested by indentation), block quotes, headings and rules. Inline syntax: see markdown-inline.js.
import { renderInline } from "./markdown-inline.js";

export { safeHref } from "./markdown-inline.js";

/** Block quotes and lists nested deeper than this are rendered flat (bounds recursion on hostile input). */
const MAX_NESTING = 12;

const FENCE = /^ {0,3}(`{3,}|~{3,})[ \t]*([^\s`]*)[^`]*$/;
const HEADING = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/;
const RULE = /^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/;
const QUOTE = /^ {0,3}> ?/;
const ITEM = /^( {0,3})([-*+]|\d{1,9}[.)])(?:[ \t]+|$)/;
const BLANK = /^[ \t]*$/;

/**
 * @param {string} line
 * @returns {{indent: number, marker: string, ordered: boolean, start: number, content: number}|null}
 */
function listItem(line) {
  const match = ITEM.exec(line);
  if (!match) return null;
  const ordered = /\d/.test(match[2]);
  const rest = line.slice(match[0].length);
  const extra = match[0].length - match[1].length - match[2].length;
  // A marker followed by 5+ spaces starts indented code in the item: the content begins one space in.
  const content = extra > 4 && rest ? match[1].length + match[2].length + 1 : match[0].length;
  return {
    indent: match[1].length,
    marker: ordered ? match[2].slice(-1) : match[2],
    ordered,
    start: ordered ? Number.parseInt(match[2], 10) : 1,
    content: rest || extra > 0 ? content : match[0].length + 1,
  };
}

/**
 * How many columns of leading white space (tabs to multiples of 4).
 * @param {string} line
 * @returns {number}
 */
function indentOf(line) {
  let width = 0;
  for (const c of line) {
    if (c === " ") width += 1;
    else if (c === "\t") width += 4 - (width % 4);
    else break;
  }
  return width;
}

/**
 * `line` without its first `count` columns of indentation.
 * @param {string} line
 * @param {number} count
 * @returns {string}
 */
function dedent(line, count) {
  let width = 0;
  let i = 0;
  while (i < line.length && width < count && (line[i] === " " || line[i] === "\t")) {
    width += line[i] === "\t" ? 4 - (width % 4) : 1;
    i += 1;
  }
  return " ".repeat(Math.max(0, width - count)) + line.slice(i);
}

/**
 * Whether a line starts a block that ends a paragraph.
 * @param {string} line
 * @returns {boolean}
 */
function interrupts(line) {
  if (FENCE.test(line) || HEADING.test(line) || RULE.test(line) || QUOTE.test(line)) return true;
  const item = listItem(line);
  return item !== null && (!item.ordered || item.start === 1) && !BLANK.test(line.slice(item.content));
}

/**
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {string} [className]
 * @returns {HTMLElementTagNameMap[K]}
 */
function element(tag, className) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  return node;
}

/**
 * Parse lines into block elements appended to `parent`.
 * @param {Node} parent
 * @param {string[]} lines
 * @param {number} depth
 */
function blocks(parent, lines, depth) {
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (BLANK.test(line)) {
      i += 1;
      continue;
    }
    const fence = FENCE.exec(line);
    if (fence) {
      const indent = indentOf(line);
      const close = new RegExp(`^ {0,3}${fence[1][0] === "`" ? "`" : "~"}{${fence[1].length},}[ \\t]*$`);
      /** @type {string[]} */
      const body = [];
      i += 1;
      while (i < lines.length && !close.test(lines[i])) body.push(dedent(lines[i++], indent));
      i += 1;
      const pre = element("pre", "md-code");
      const code = element("code");
      const language = fence[2].replace(/[^\w+#.-]/g, "").slice(0, 32);
      if (language) {
        code.className = `language-${language}`;
        pre.dataset.lang = language;
      }
      code.textContent = body.join("\n");
      pre.append(code);
      parent.appendChild(pre);
      continue;
    }
    if (indentOf(line) >= 4) {
      /** @type {string[]} */
      const body = [];
      while (i < lines.length && (indentOf(lines[i]) >= 4 || BLANK.test(lines[i]))) body.push(dedent(lines[i++], 4));
      while (body.length && BLANK.test(body[body.length - 1])) body.pop();
      const pre = element("pre", "md-code");
      const code = element("code");
      code.textContent = body.join("\n");
      pre.append(code);
      parent.appendChild(pre);
      continue;
    }
    const heading = HEADING.exec(line);
    if (heading) {
      // Not an <h1>-<h6>: a comment's headings are no part of the page's outline.
      const node = element("p", `md-heading md-h${heading[1].length}`);
      renderInline(node, heading[2] ?? "");
      parent.appendChild(node);
      i += 1;
      continue;
    }
    if (RULE.test(line)) {
      parent.appendChild(element("hr"));
      i += 1;
      continue;
    }
    if (QUOTE.test(line)) {
      /** @type {string[]} */
      const inner = [];
      while (i < lines.length && QUOTE.test(lines[i])) inner.push(lines[i++].replace(QUOTE, ""));
      const quote = element("blockquote");
      if (depth < MAX_NESTING) blocks(quote, inner, depth + 1);
      else paragraph(quote, inner);
      parent.appendChild(quote);
      continue;
    }
    const item = listItem(line);
    if (item) {
      i = list(parent, lines, i, item, depth);
      continue;
    }
    /** @type {string[]} */
    const text = [line];
    i += 1;
    while (i < lines.length && !BLANK.test(lines[i]) && !interrupts(lines[i])) text.push(lines[i++]);
    paragraph(parent, text);
  }
}

/**
 * @param {Node} parent
 * @param {string[]} lines
 */
function paragraph(parent, lines) {
  const p = element("p");
  renderInline(p, lines.map((line) => line.replace(/^[ \t]+/, "")).join("\n").replace(/[ \t]+$/, ""));
  parent.appendChild(p);
}

/**
 * A list starting at lines[start]; returns the index of the first line after it.
 * @param {Node} parent
 * @param {string[]} lines
 * @param {number} start
 * @param {NonNullable<ReturnType<typeof listItem>>} first
 * @param {number} depth
 * @returns {number}
 */
function list(parent, lines, start, first, depth) {
  const node = element(first.ordered ? "ol" : "ul");
  if (first.ordered && first.start !== 1) node.setAttribute("start", String(first.start));
  let i = start;
  let item = first;
  let loose = false;
  while (true) {
    /** @type {string[]} */
    const body = [lines[i].slice(item.content)];
    i += 1;
    let blank = false;
    while (i < lines.length) {
      const line = lines[i];
      if (BLANK.test(line)) {
        blank = true;
        body.push("");
        i += 1;
        continue;
      }
      if (indentOf(line) >= item.content) {
        body.push(dedent(line, item.content));
        if (blank) loose = true;
        blank = false;
        i += 1;
        continue;
      }
      if (blank || listItem(line) || interrupts(line)) break;
      body.push(line); // a lazy continuation of the item's paragraph
      i += 1;
    }
    while (body.length && BLANK.test(body[body.length - 1])) body.pop();
    const li = element("li");
    if (depth < MAX_NESTING) blocks(li, body, depth + 1);
    else paragraph(li, body);
    node.appendChild(li);
    const next = i < lines.length ? listItem(lines[i]) : null;
    if (!next || next.ordered !== first.ordered || next.marker !== first.marker || next.indent > first.indent + 3) break;
    if (blank) loose = true;
    item = next;
  }
  if (!loose) node.classList.add("md-tight");
  parent.appendChild(node);
  return i;
}

/**
 * Render Markdown text as DOM nodes.
 * @param {string} source
 * @returns {DocumentFragment}
 */
export function renderMarkdown(source) {
  const fragment = document.createDocumentFragment();
  blocks(fragment, source.replace(/\r\n?/g, "\n").replace(/\u0000/g, "\ufffd").split("\n"), 0);
  return fragment;
}
