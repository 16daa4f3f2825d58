// Elements marked `data-keep` (open forms, drafts) survive a re-render of their file: the same nodes are taken
// out before and put back after, next to the row they followed, with focus and selection restored.

/**
 * @typedef {{node: HTMLElement, key: string|null, focused: HTMLElement|null,
 *   selection: [number|null, number|null]|null}} Kept
 */

/**
 * Take the outermost `[data-keep]` elements out of `body`, remembering where they were.
 * @param {HTMLElement} body
 * @returns {Kept[]}
 */
export function keepElements(body) {
  /** @type {Kept[]} */
  const kept = [];
  for (const node of /** @type {NodeListOf<HTMLElement>} */ (body.querySelectorAll("[data-keep]"))) {
    if (node.parentElement?.closest("[data-keep]")) continue;
    let key = node.dataset.keepAnchor ?? null;
    if (!key) {
      let previous = node.previousElementSibling;
      while (previous && !(previous instanceof HTMLElement && previous.dataset.key)) previous = previous.previousElementSibling;
      key = previous instanceof HTMLElement ? (previous.dataset.key ?? null) : null;
    }
    const active = document.activeElement;
    const focused = active instanceof HTMLElement && node.contains(active) ? active : null;
    /** @type {[number|null, number|null]|null} */
    let selection = null;
    if (focused instanceof HTMLInputElement || focused instanceof HTMLTextAreaElement) {
      try {
        selection = [focused.selectionStart, focused.selectionEnd];
      } catch {
        selection = null;
      }
    }
    kept.push({ node, key, focused, selection });
  }
  for (const { node } of kept) node.remove();
  return kept;
}

/**
 * Put kept elements back after the row with the same key, or at the end of the body.
 * @param {HTMLElement} body
 * @param {Kept[]} kept
 */
export function restoreKept(body, kept) {
  for (const { node, key, focused, selection } of kept) {
    const row = key && key !== "top" ? body.querySelector(`tr[data-key="${CSS.escape(key)}"]`) : null;
    if (key === "top") body.prepend(node);
    else if (row && node instanceof HTMLTableRowElement) row.after(node);
    else if (node instanceof HTMLTableRowElement) {
      let tbody = body.querySelector("tbody");
      if (!tbody) {
        const table = document.createElement("table");
        table.className = "diff kept";
        tbody = document.createElement("tbody");
        table.append(tbody);
        body.append(table);
      }
      tbody.append(node);
    } else if (row) {
      const holder = row.closest(".diff-wrap");
      if (holder) holder.after(node);
      else body.append(node);
    } else body.append(node);
    if (focused && focused.isConnected) {
      focused.focus({ preventScroll: true });
      if (selection && (focused instanceof HTMLInputElement || focused instanceof HTMLTextAreaElement)) {
        try {
          focused.setSelectionRange(selection[0], selection[1]);
        } catch {
          /* not a text field */
        }
      }
    }
  }
}
