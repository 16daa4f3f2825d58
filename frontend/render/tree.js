// The sidebar list of changed files: status, rename similarity, mode and binary marks, +/- counts, a filter
// (substrings and globs, see file-filter.js) with the count of what it shows. Clicking an entry asks the app
// (backloop:reveal) to scroll to that file; a change of the filter is told as backloop:filter-files (the URL keeps
// it).
import { h, fileId, afterPaint, SLICE_MS } from "./dom.js";
import { modeChange } from "./file.js";
import { FileFilter } from "../file-filter.js";

/**
 * @typedef {import("../store.js").Store} Store
 * @typedef {import("../store.js").Change} Change
 * @typedef {import("../protocol.js").FileDiff} FileDiff
 */

/** Entries built before the first paint: about a screenful. */
const FIRST_ITEMS = 40;

const STATUS_LETTERS = /** @type {const} */ ({ added: "A", modified: "M", deleted: "D", renamed: "R", copied: "C" });

export class FileTree {
  /**
   * @param {HTMLElement} root the <nav> element
   * @param {Store} store
   * @param {string} [query] the filter to start with (from the URL)
   */
  constructor(root, store, query = "") {
    this.root = root;
    this.store = store;
    /** @type {Map<string, HTMLLIElement>} */
    this.items = new Map();
    this.batching = false;
    this.count = h("span", { className: "counter", text: "0" });
    this.filter = h("input", {
      className: "tree-filter",
      attrs: {
        type: "search",
        placeholder: "Filter files\u2026",
        "aria-label": "Filter changed files",
        title: "Words match parts of paths; globs match paths (src/**/*.py, *.lock); a leading ! excludes",
        spellcheck: "false",
        autocomplete: "off",
      },
    });
    this.filter.value = query;
    this.matcher = new FileFilter(query);
    this.shown = h("p", { className: "tree-filter-count", attrs: { role: "status" }, hidden: true });
    this.list = h("ul", { className: "tree" });
    root.append(
      h("div", { className: "sidebar-head" }, [h("h2", { text: "Files" }), this.count]),
      this.filter,
      this.shown,
      this.list,
    );
    this.filter.addEventListener("input", () => {
      this.matcher = new FileFilter(this.filter.value);
      this.applyFilter();
      root.dispatchEvent(new CustomEvent("backloop:filter-files", { detail: { query: this.filter.value }, bubbles: true }));
    });
    this.list.addEventListener("click", (event) => {
      const link = /** @type {Element} */ (event.target).closest("a[data-file]");
      if (!(link instanceof HTMLAnchorElement) || event.button !== 0 || event.metaKey || event.ctrlKey) return;
      event.preventDefault();
      this.select(link.dataset.file ?? "");
      root.dispatchEvent(new CustomEvent("backloop:reveal", { detail: { path: link.dataset.file }, bubbles: true }));
    });
  }

  /** @param {Change[]} changes */
  update(changes) {
    let reorder = false;
    for (const change of changes) {
      if (change.type === "files") {
        for (const path of change.removed) this.drop(path);
        for (const path of change.changed) if (this.items.has(path)) this.renderItem(path);
        reorder = true;
      } else if (change.type === "file") {
        if (change.added || this.items.has(change.path)) this.renderItem(change.path);
        reorder = reorder || change.added;
      } else if (change.type === "removed") {
        this.drop(change.path);
      } else if (change.type === "viewed") {
        for (const path of change.paths) if (this.items.has(path)) this.renderItem(path);
      }
    }
    if (reorder) this.reorder();
    else if (changes.some((change) => change.type === "removed")) this.applyFilter();
    const count = String(this.store.order.length);
    if (this.count.textContent !== count) this.count.textContent = count;
  }

  /**
   * Whether the filter shows a file.
   * @param {string} path
   * @returns {boolean}
   */
  shows(path) {
    return this.matcher.matches(path);
  }

  /**
   * Keep the entry of the file in view marked as the page scrolls (once per frame).
   * @param {() => string|null} currentPath the path of the file at the top of the view
   */
  follow(currentPath) {
    let queued = false;
    window.addEventListener(
      "scroll",
      () => {
        if (queued) return;
        queued = true;
        requestAnimationFrame(() => {
          queued = false;
          const path = currentPath();
          if (path) this.select(path);
        });
      },
      { passive: true },
    );
  }

  /**
   * Mark the entry of the file in view.
   * @param {string} path
   */
  select(path) {
    for (const current of this.list.querySelectorAll("a[aria-current]")) current.removeAttribute("aria-current");
    this.items.get(path)?.querySelector("a")?.setAttribute("aria-current", "true");
  }

  /**
   * @private
   * @param {string} path
   */
  drop(path) {
    this.items.get(path)?.remove();
    this.items.delete(path);
  }

  /**
   * Put entries in store order. A long first list is built in slices: the entries that fit on screen now, the
   * rest after the first paint, a few milliseconds of work per task.
   * @private
   * @param {boolean} [slice]
   */
  reorder(slice = this.items.size === 0 || this.batching) {
    const first = this.items.size === 0;
    const start = performance.now();
    /** @type {Element|null} */
    let previous = null;
    let created = 0;
    for (const path of this.store.order) {
      let item = this.items.get(path);
      if (!item) {
        if (slice && (first ? created >= FIRST_ITEMS : performance.now() - start > SLICE_MS)) {
          if (!this.batching) {
            this.batching = true;
            const next = () => {
              this.batching = false;
              this.reorder(true);
            };
            if (first) afterPaint(next);
            else setTimeout(next, 0);
          }
          break;
        }
        created += 1;
        item = this.renderItem(path);
      }
      if (!item) continue;
      /** @type {Element|null} */
      const expected = previous ? previous.nextElementSibling : this.list.firstElementChild;
      if (expected !== item) {
        if (previous) previous.after(item);
        else this.list.prepend(item);
      }
      previous = item;
    }
    this.applyFilter();
  }

  /**
   * @private
   * @param {string} path
   * @returns {HTMLLIElement|undefined}
   */
  renderItem(path) {
    const file = this.store.files.get(path);
    if (!file) return undefined;
    const mark = this.store.viewed.get(path);
    const key = JSON.stringify([file.old_path, file.status, file.similarity, file.old_mode, file.new_mode, file.binary,
      file.untracked, file.additions, file.deletions, mark.viewed, mark.changed]);
    const old = this.items.get(path);
    if (old && old.dataset.sig === key) return old;
    const item = h("li", { className: mark.viewed ? "tree-viewed" : "" }, [this.link(file, mark)]);
    item.dataset.sig = key;
    item.dataset.file = path;
    if (old) {
      if (old.querySelector("a[aria-current]")) item.firstElementChild?.setAttribute("aria-current", "true");
      item.hidden = old.hidden;
      old.replaceWith(item);
    }
    this.items.set(path, item);
    return item;
  }

  /**
   * @private
   * @param {FileDiff} file
   * @param {{viewed: boolean, changed: boolean}} mark
   * @returns {HTMLAnchorElement}
   */
  link(file, mark) {
    const slash = file.path.lastIndexOf("/");
    const dir = slash >= 0 ? file.path.slice(0, slash + 1) : "";
    const base = file.path.slice(slash + 1);
    const letter = STATUS_LETTERS[file.status] ?? "?";
    const similarity = file.similarity != null ? ` ${file.similarity}%` : "";
    /** @type {string[]} */
    const notes = [];
    const mode = modeChange(file);
    if (mode) notes.push(`mode ${mode}`);
    if (file.binary) notes.push("binary");
    if (file.untracked) notes.push("untracked");
    if (mark.viewed) notes.push("viewed");
    if (mark.changed) notes.push("changed since you viewed it");
    const title = [file.old_path && file.old_path !== file.path ? `${file.old_path} \u2192 ${file.path}` : file.path]
      .concat(`${file.status}${similarity}`, notes)
      .join(" \u00b7 ");
    const link = h("a", { className: `tree-item status-${file.status}`, attrs: { href: `#${fileId(file.path)}`, title } }, [
      h("span", {
        className: `status-icon status-${file.status}`,
        text: letter,
        attrs: { "aria-label": `${file.status}${similarity}` },
      }),
      h("span", { className: "tree-name" }, [
        h("span", { className: "tree-base", text: base }),
        dir ? h("span", { className: "tree-dir", text: `\u200e${dir}\u200e` }) : null,
      ]),
      similarity || mode || file.binary || mark.viewed || mark.changed
        ? h("span", { className: "tree-marks" }, [
            mark.viewed ? h("span", { className: "mark mark-viewed", text: "\u2713", attrs: { "aria-label": "viewed" } }) : null,
            mark.changed
              ? h("span", { className: "mark mark-changed", text: "changed", attrs: { title: "Changed since you viewed it" } })
              : null,
            similarity ? h("span", { className: "mark", text: similarity.trim() }) : null,
            mode ? h("span", { className: "mark", text: "mode", attrs: { title: mode } }) : null,
            file.binary ? h("span", { className: "mark", text: "bin" }) : null,
          ])
        : null,
      h("span", { className: "tree-counts" }, [
        file.additions ? h("span", { className: "count-add", text: `+${file.additions}` }) : null,
        file.deletions ? h("span", { className: "count-del", text: `\u2212${file.deletions}` }) : null,
      ]),
    ]);
    link.dataset.file = file.path;
    return link;
  }

  /**
   * Show the entries the filter matches (every file counts, also those whose entries are not built yet) and say
   * how many. An entry's `hidden` is written only when it changes: a keystroke touches the entries it shows or
   * hides, nothing else.
   * @private
   */
  applyFilter() {
    const matcher = this.matcher;
    let shown = 0;
    for (const path of this.store.order) {
      const match = matcher.matches(path);
      if (match) shown += 1;
      const item = this.items.get(path);
      if (item && item.hidden === match) item.hidden = !match;
    }
    const total = this.store.order.length;
    const text = matcher.active ? `${shown} of ${total}` : "";
    if (this.shown.textContent !== text) this.shown.textContent = text;
    this.shown.hidden = !matcher.active;
  }
}
