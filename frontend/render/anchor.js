// Keep what the person is looking at in place while the DOM above or around it changes: remember a visible
// element (a diff row, else a file section) and its position, mutate, then scroll by how far it moved.

/**
 * @typedef {object} Anchor
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

/** How far from the row in view to look for a row with an old-side line number. */
const SEARCH_ROWS = 200;

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
 * @param {HTMLElement} section
 * @param {HTMLElement|null} row
 * @returns {Anchor}
 */
function anchorAt(section, row) {
  const next = /** @type {HTMLElement|null} */ (section.nextElementSibling);
  return {
    path: section.dataset.path ?? "",
    sectionTop: topOf(section),
    old: row?.dataset.old ?? null,
    rowTop: topOf(row),
    next: next?.dataset.path ?? null,
    nextTop: topOf(next),
  };
}

/**
 * Remember the first diff row (or file section) below the sticky chrome.
 * @param {HTMLElement} root the container of file sections
 * @param {() => number} stickyOffset px from the top of the viewport covered by sticky headers
 * @returns {Anchor|null}
 */
export function captureAnchor(root, stickyOffset) {
  if (!scrolled) return null;
  const offset = stickyOffset();
  const box = root.getBoundingClientRect();
  if (box.height === 0) return null;
  const x = Math.min(window.innerWidth - 1, Math.max(0, box.left + Math.min(120, box.width / 2)));
  /** @type {HTMLElement|null} */
  let section = null;
  for (const dy of [4, 48, 96, 160, 320]) {
    const y = offset + dy;
    if (y >= window.innerHeight) break;
    const hit = document.elementFromPoint(x, y);
    if (!hit || !root.contains(hit)) continue;
    const found = /** @type {HTMLElement|null} */ (hit.closest("section.file"));
    const hitRow = /** @type {HTMLElement|null} */ (hit.closest("tr"));
    const row = hitRow ? rowWithOld(hitRow) : null;
    if (found && row) return anchorAt(found, row);
    section = section ?? found;
  }
  return section ? anchorAt(section, null) : null;
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
