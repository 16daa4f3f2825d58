// Keep what the person is looking at in place while the DOM above or around it changes: remember a visible
// element (a diff row, else a file section) and its position, mutate, then scroll by how far it moved.
// Finding it reads the boxes of a few elements (binary searches over the sections, a table's chunks and a
// chunk's rows): a hit test (elementFromPoint) costs milliseconds on a page of a thousand files.

/**
 * @typedef {object} Anchor
 * @property {HTMLElement} section
 * @property {string} path the file section
 * @property {number} sectionTop
 * @property {string|null} old the old-side line number of a row in it (the old side does not change while the
 *   work tree does, so it identifies the same line across live updates)
 * @property {number} rowTop
 * @property {string|null} next the following section, in case this one goes away
 * @property {number} nextTop
 */

/** Whether the page is scrolled at all; tracked from scroll events so checking it never forces a layout. */
let scrolled = false;
window.addEventListener(
  "scroll",
  () => {
    scrolled = window.scrollY > 0;
  },
  { passive: true },
);

/**
 * @param {Element|null|undefined} element
 * @returns {number}
 */
function topOf(element) {
  return element ? element.getBoundingClientRect().top : 0;
}

/** How far below the sticky page header to look: past a file's sticky header, at the first line one reads. */
const LOOK_BELOW = 48;
/** How far from the row in view to look for a row with an old-side line number. */
const SEARCH_ROWS = 200;

/**
 * The first of `items` (in document order, so in vertical order) whose box reaches below `y`, if any.
 * @param {ArrayLike<Element>} items
 * @param {number} y px from the top of the viewport
 * @returns {Element|null}
 */
function firstBelow(items, y) {
  let low = 0;
  let high = items.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (items[middle].getBoundingClientRect().bottom > y) high = middle;
    else low = middle + 1;
  }
  return low < items.length ? items[low] : null;
}

/**
 * The file section at `y` px from the top of the viewport (or the first one below it).
 * @param {HTMLElement} root the container of file sections (and nothing taller before them)
 * @param {number} y
 * @returns {HTMLElement|null}
 */
export function sectionAt(root, y) {
  const found = firstBelow(root.children, y);
  return found instanceof HTMLElement && found.matches("section.file") ? found : null;
}

/**
 * The diff row of `section` at `y`, if its table is built there. Chunks far from the viewport skip layout
 * (content-visibility), so the search reads rows of the chunk at `y` only.
 * @param {HTMLElement} section
 * @param {number} y
 * @returns {HTMLElement|null}
 */
function rowAt(section, y) {
  const wrap = section.querySelector(":scope > .file-body > .diff-wrap");
  const chunk = wrap ? firstBelow(wrap.children, y) : null;
  const body = chunk?.querySelector("tbody");
  const row = body ? firstBelow(body.rows, y) : null;
  return row instanceof HTMLElement && row.getBoundingClientRect().top <= y ? row : null;
}

/**
 * The nearest row with an old-side line number: the row itself, then below it, then above it.
 * @param {HTMLElement} row
 * @returns {HTMLElement|null}
 */
function rowWithOld(row) {
  if (row.dataset.old) return row;
  for (const step of ["nextElementSibling", "previousElementSibling"]) {
    let current = /** @type {Element|null} */ (row[/** @type {"nextElementSibling"} */ (step)]);
    for (let i = 0; current && i < SEARCH_ROWS; i += 1) {
      if (current instanceof HTMLElement && current.dataset.old) return current;
      current = current[/** @type {"nextElementSibling"} */ (step)];
    }
  }
  return null;
}

/**
 * Remember the diff row (or file section) just below the sticky chrome.
 * @param {HTMLElement} root the container of file sections
 * @param {() => number} stickyOffset px from the top of the viewport covered by sticky headers
 * @returns {Anchor|null}
 */
export function captureAnchor(root, stickyOffset) {
  if (!scrolled) return null;
  const y = Math.min(window.innerHeight - 1, stickyOffset() + LOOK_BELOW);
  const section = sectionAt(root, y);
  if (!section) return null;
  const hit = rowAt(section, y);
  const row = hit ? rowWithOld(hit) : null;
  const next = /** @type {HTMLElement|null} */ (section.nextElementSibling);
  return {
    section,
    path: section.dataset.path ?? "",
    sectionTop: topOf(section),
    old: row?.dataset.old ?? null,
    rowTop: topOf(row),
    next: next?.dataset.path ?? null,
    nextTop: topOf(next),
  };
}

/**
 * Whether changing these sections can move the anchor: a section before it, or its own, changed or went away.
 * @param {Anchor} anchor
 * @param {Iterable<HTMLElement>} changed
 * @returns {boolean}
 */
export function moves(anchor, changed) {
  for (const section of changed) {
    if (section === anchor.section || !section.isConnected) return true;
    if (section.compareDocumentPosition(anchor.section) & Node.DOCUMENT_POSITION_FOLLOWING) return true;
  }
  return false;
}

/**
 * Scroll so the remembered element is where it was.
 * @param {Anchor|null} anchor
 * @param {(path: string) => HTMLElement|undefined} sectionFor
 */
export function restoreAnchor(anchor, sectionFor) {
  if (!anchor) return;
  const section = sectionFor(anchor.path);
  let delta = 0;
  if (section && section.isConnected) {
    const row = anchor.old ? section.querySelector(`tr[data-old="${anchor.old}"]`) : null;
    delta = row ? topOf(row) - anchor.rowTop : topOf(section) - anchor.sectionTop;
  } else if (anchor.next) {
    const next = sectionFor(anchor.next);
    if (next && next.isConnected) delta = topOf(next) - anchor.nextTop;
  }
  if (Math.abs(delta) >= 1) window.scrollBy(0, delta);
}
