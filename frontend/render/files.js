// The list of file sections. Sections (header + a placeholder sized to the diff) exist for every file; the
// diff rows of a file are built only while it is near the viewport and dropped again when it is far away,
// so first paint is fast and the DOM stays bounded. Per-file state comes from the store on every render.
import { h, fileId } from "./dom.js";
import { renderFileHeader, renderFileParts } from "./file.js";
import { renderUnified } from "./unified.js";
import { renderSplit } from "./split.js";
import { buildRows, estimateRows, maxLineNumber } from "../rows.js";
import { captureAnchor, restoreAnchor } from "./anchor.js";
import { keepElements, restoreKept } from "./keep.js";

/**
 * @typedef {import("../store.js").Store} Store
 * @typedef {import("../store.js").Change} Change
 * @typedef {import("./file.js").FileContext} FileContext
 * @typedef {{path: string, section: HTMLElement, body: HTMLDivElement, mounted: boolean, near: boolean,
 *   measured: {digest: string, layout: string, height: number}|null}} Entry
 */

/** Row height in px (keep in sync with --line-height in style.css). */
const LINE_HEIGHT = 20;
/** Height in px of a file header (roughly, for size estimates). */
const HEADER_HEIGHT = 46;
const NEAR_MARGIN = "1500px 0px";
const FAR_MARGIN = "6000px 0px";

export class FileList {
  /**
   * @param {HTMLElement} root
   * @param {Store} store
   * @param {FileContext & {stickyOffset: () => number}} context
   */
  constructor(root, store, context) {
    this.root = root;
    this.store = store;
    this.context = context;
    /** @type {Map<string, Entry>} */
    this.entries = new Map();
    /** @type {WeakMap<Element, Entry>} */
    this.bySection = new WeakMap();
    this.status = h("p", { className: "files-status", text: "Loading diff\u2026", attrs: { role: "status" } });
    root.append(this.status);
    this.near = new IntersectionObserver((items) => this.onNear(items), { rootMargin: NEAR_MARGIN });
    this.far = new IntersectionObserver((items) => this.onFar(items), { rootMargin: FAR_MARGIN });
    root.addEventListener("click", (event) => this.onClick(event));
  }

  /** @param {Change[]} changes */
  update(changes) {
    this.mutate(() => {
      for (const change of changes) {
        if (change.type === "files") {
          for (const path of change.removed) this.remove(path);
          this.reconcile(new Set(change.changed));
        } else if (change.type === "file") {
          if (change.added) this.reconcile(new Set([change.path]));
          else this.renderFile(change.path);
        } else if (change.type === "removed") {
          this.remove(change.path);
        } else if (change.type === "lines" || change.type === "ui") {
          this.renderFile(change.path);
        } else if (change.type === "layout") {
          for (const entry of this.entries.values()) if (entry.mounted) this.renderBody(entry);
        }
      }
      this.updateStatus();
    });
  }

  /**
   * Scroll a file's section to the top of the view.
   * @param {string} path
   */
  reveal(path) {
    const entry = this.entries.get(path);
    if (!entry) return;
    entry.section.scrollIntoView({ block: "start" });
    if (!entry.mounted) this.mutate(() => this.mount(entry));
    entry.section.querySelector("h2")?.focus({ preventScroll: true });
  }

  /**
   * The path of the file at the top of the view.
   * @returns {string|null}
   */
  currentPath() {
    const box = this.root.getBoundingClientRect();
    const hit = document.elementFromPoint(box.left + 8, this.context.stickyOffset() + 8);
    const section = /** @type {HTMLElement|null} */ (hit?.closest("section.file") ?? null);
    return section && this.root.contains(section) ? (section.dataset.path ?? null) : null;
  }

  /**
   * @param {string} path
   * @returns {HTMLElement|undefined}
   */
  sectionFor(path) {
    return this.entries.get(path)?.section;
  }

  /**
   * Run a DOM change while keeping the visible content in place.
   * @param {() => void} change
   */
  mutate(change) {
    const anchor = captureAnchor(this.root, this.context.stickyOffset);
    change();
    restoreAnchor(anchor, (path) => this.sectionFor(path));
  }

  /** @private */
  updateStatus() {
    const { loaded, order } = this.store;
    this.status.hidden = loaded && order.length > 0;
    this.status.textContent = loaded ? "No changes in this view." : "Loading diff\u2026";
  }

  /**
   * Put sections in store order, creating missing ones and re-rendering `changed` ones.
   * @private
   * @param {Set<string>} changed
   */
  reconcile(changed) {
    const initial = this.entries.size === 0;
    /** @type {Element|null} */
    let previous = this.status;
    let budget = initial ? window.innerHeight * 2 : 0;
    const fragment = document.createDocumentFragment();
    for (const path of this.store.order) {
      let entry = this.entries.get(path);
      if (!entry) {
        entry = this.create(path);
        const file = this.store.files.get(path);
        if (budget > 0 && file) {
          entry.mounted = true;
          budget -= (estimateRows(file) + 2) * LINE_HEIGHT;
        }
        this.renderFile(path);
      } else if (changed.has(path)) {
        this.renderFile(path);
      }
      if (initial) fragment.append(entry.section);
      else if (previous.nextElementSibling !== entry.section) previous.after(entry.section);
      previous = entry.section;
    }
    if (initial) this.root.append(fragment);
    for (const entry of this.entries.values()) {
      this.near.observe(entry.section);
      this.far.observe(entry.section);
    }
  }

  /**
   * @private
   * @param {string} path
   * @returns {Entry}
   */
  create(path) {
    const id = fileId(path);
    const section = h("section", { className: "file", attrs: { id, "aria-labelledby": `${id}-title` } });
    section.dataset.path = path;
    const body = h("div", { className: "file-body", attrs: { id: `${id}-body` } });
    /** @type {Entry} */
    const entry = { path, section, body, mounted: false, near: false, measured: null };
    this.entries.set(path, entry);
    this.bySection.set(section, entry);
    return entry;
  }

  /**
   * @private
   * @param {string} path
   */
  remove(path) {
    const entry = this.entries.get(path);
    if (!entry) return;
    this.near.unobserve(entry.section);
    this.far.unobserve(entry.section);
    entry.section.remove();
    this.entries.delete(path);
  }

  /**
   * Rebuild one file's header and body from the store.
   * @private
   * @param {string} path
   */
  renderFile(path) {
    const entry = this.entries.get(path);
    const file = this.store.files.get(path);
    if (!entry || !file) return;
    const header = renderFileHeader(file, this.store.ui.get(path));
    const heading = header.querySelector("h2");
    if (heading) heading.tabIndex = -1;
    if (entry.section.firstElementChild !== entry.body) entry.section.firstElementChild?.remove();
    if (!entry.body.isConnected) entry.section.append(entry.body);
    entry.section.prepend(header);
    const collapsed = Boolean(this.store.ui.get(path)?.collapsed);
    entry.section.classList.toggle("file-collapsed", collapsed);
    // Off-screen sections skip layout (content-visibility: auto) and take this size until first rendered.
    const guess = HEADER_HEIGHT + (collapsed ? 0 : Math.max(3, estimateRows(file)) * LINE_HEIGHT);
    entry.section.style.containIntrinsicSize = `auto ${guess}px`;
    this.renderBody(entry);
  }

  /**
   * @private
   * @param {Entry} entry
   */
  renderBody(entry) {
    const file = this.store.files.get(entry.path);
    if (!file) return;
    const ui = this.store.ui.get(entry.path);
    const collapsed = Boolean(ui?.collapsed);
    entry.body.hidden = collapsed;
    const kept = keepElements(entry.body);
    const { parts, table } = renderFileParts(file, ui, this.context);
    const wanted = table && !collapsed;
    entry.mounted = wanted && (entry.mounted || entry.near);
    if (wanted) {
      if (entry.mounted) {
        const rows = buildRows(file, ui);
        let max = maxLineNumber(file);
        if (ui) for (const n of ui.expanded.keys()) max = Math.max(max, n);
        const render = this.store.view.layout === "split" ? renderSplit : renderUnified;
        parts.push(h("div", { className: "diff-wrap" }, [render(rows, max)]));
      } else {
        parts.push(this.placeholder(entry, file));
      }
    }
    entry.body.replaceChildren(...parts);
    restoreKept(entry.body, kept);
  }

  /**
   * @private
   * @param {Entry} entry
   * @param {import("../protocol.js").FileDiff} file
   * @returns {HTMLDivElement}
   */
  placeholder(entry, file) {
    const box = h("div", { className: "diff-placeholder", attrs: { "aria-hidden": "true" } });
    const measured = entry.measured;
    const fits = measured && measured.digest === (file.digest ?? "") && measured.layout === this.store.view.layout;
    const height = fits && measured ? measured.height : estimateRows(file) * LINE_HEIGHT;
    box.style.height = `${height}px`;
    return box;
  }

  /**
   * @private
   * @param {Entry} entry
   */
  mount(entry) {
    entry.mounted = true;
    this.renderBody(entry);
  }

  /**
   * @private
   * @param {IntersectionObserverEntry[]} items
   */
  onNear(items) {
    const due = [];
    for (const item of items) {
      const entry = this.bySection.get(item.target);
      if (!entry) continue;
      entry.near = item.isIntersecting;
      if (entry.near && !entry.mounted) due.push(entry);
    }
    if (due.length) this.mutate(() => due.forEach((entry) => this.mount(entry)));
  }

  /**
   * @private
   * @param {IntersectionObserverEntry[]} items
   */
  onFar(items) {
    const due = [];
    for (const item of items) {
      const entry = this.bySection.get(item.target);
      if (!entry || item.isIntersecting || !entry.mounted || entry.body.querySelector("[data-keep]")) continue;
      entry.near = false;
      const wrap = entry.body.querySelector(".diff-wrap");
      const file = this.store.files.get(entry.path);
      if (wrap && file) {
        const height = wrap.getBoundingClientRect().height;
        entry.measured = { digest: file.digest ?? "", layout: this.store.view.layout, height };
      }
      due.push(entry);
    }
    if (!due.length) return;
    this.mutate(() => {
      for (const entry of due) {
        entry.mounted = false;
        this.renderBody(entry);
      }
    });
  }

  /**
   * Turn clicks on action buttons into `backloop:*` events for the app to handle.
   * @private
   * @param {MouseEvent} event
   */
  onClick(event) {
    const target = /** @type {Element} */ (event.target);
    const control = /** @type {HTMLButtonElement|null} */ (target.closest("button[data-action]"));
    const section = /** @type {HTMLElement|null} */ (control?.closest("section.file"));
    if (!control || !section || !this.root.contains(section)) return;
    const path = section.dataset.path ?? "";
    const { action, start, end } = control.dataset;
    if (action === "toggle") {
      const collapsed = !this.store.ui.get(path)?.collapsed;
      this.emit("toggle-collapse", { path, collapsed });
    } else if (action === "expand") {
      this.emit("expand", { path, start: Number(start), end: Number(end) });
    } else if (action === "load") {
      this.emit("load-file", { path });
    }
  }

  /**
   * @private
   * @param {string} name
   * @param {object} detail
   */
  emit(name, detail) {
    this.root.dispatchEvent(new CustomEvent(`backloop:${name}`, { detail, bubbles: true }));
  }
}
