// The list of file sections. Sections (header + a placeholder sized to the diff) exist for every file; the
// diff rows of a file are built only while it is near the viewport and dropped again when it is far away,
// so first paint is fast and the DOM stays bounded. Per-file state comes from the store on every render.
import { h, fileId } from "./dom.js";
import { renderFileHeader } from "./file.js";
import { estimateRows } from "../rows.js";
import { captureAnchor, restoreAnchor } from "./anchor.js";
import { delegateActions } from "./actions.js";
import { renderBody, placeThreads, LINE_HEIGHT } from "./body.js";

/**
 * @typedef {import("../store.js").Store} Store
 * @typedef {import("../store.js").Change} Change
 * @typedef {import("./body.js").Entry} Entry
 * @typedef {import("./body.js").BodyContext} BodyContext
 */

/** Height in px of a file header (roughly, for size estimates). */
const HEADER_HEIGHT = 46;
const NEAR_MARGIN = "1500px 0px";
/** Sections built at once for a first snapshot, then per task. */
const FIRST_BATCH = 60;
const LATER_BATCH = 300;
const FAR_MARGIN = "6000px 0px";

export class FileList {
  /**
   * @param {HTMLElement} root
   * @param {Store} store
   * @param {BodyContext & {stickyOffset: () => number}} context
   */
  constructor(root, store, context) {
    this.root = root;
    this.store = store;
    this.context = context;
    /** @type {Map<string, Entry>} */
    this.entries = new Map();
    /** @type {WeakMap<Element, Entry>} */
    this.bySection = new WeakMap();
    this.batching = false;
    this.status = h("p", { className: "files-status", text: "Loading diff\u2026", attrs: { role: "status" } });
    root.append(this.status);
    this.near = new IntersectionObserver((items) => this.onNear(items), { rootMargin: NEAR_MARGIN });
    this.far = new IntersectionObserver((items) => this.onFar(items), { rootMargin: FAR_MARGIN });
    delegateActions(root);
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
        } else if (change.type === "comments") {
          for (const path of change.paths) {
            const entry = path === null ? undefined : this.entries.get(path);
            if (entry) placeThreads(this.store, this.context, entry);
          }
        } else if (change.type === "layout") {
          for (const entry of this.entries.values()) if (entry.mounted) this.fill(entry);
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
   * Put sections in store order, creating missing ones and re-rendering `changed` ones. A big first snapshot
   * is built in batches: the first screens now, the rest in later tasks, so the page paints early.
   * @private
   * @param {Set<string>} changed
   * @param {number} [limit] create at most this many sections in this call
   */
  reconcile(changed, limit = this.entries.size === 0 ? FIRST_BATCH : Infinity) {
    let budget = this.entries.size === 0 ? window.innerHeight * 2 : 0;
    /** @type {Element} */
    let previous = this.status;
    let created = 0;
    let more = false;
    for (const path of this.store.order) {
      let entry = this.entries.get(path);
      if (!entry) {
        if (created >= limit) {
          more = true;
          break;
        }
        created += 1;
        entry = this.create(path);
        const file = this.store.files.get(path);
        if (budget > 0 && file) {
          entry.mounted = true;
          budget -= (estimateRows(file) + 2) * LINE_HEIGHT;
        }
        this.renderFile(path);
        this.near.observe(entry.section);
        this.far.observe(entry.section);
      } else if (changed.has(path)) {
        this.renderFile(path);
      }
      if (previous.nextElementSibling !== entry.section) previous.after(entry.section);
      previous = entry.section;
    }
    if (more && !this.batching) {
      this.batching = true;
      setTimeout(() => {
        this.batching = false;
        this.mutate(() => this.reconcile(new Set(), LATER_BATCH));
        this.updateStatus();
      }, 0);
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
    const editable = Boolean(this.store.review?.view.live) && !file.binary && file.status !== "deleted";
    const header = renderFileHeader(file, this.store.ui.get(path), editable);
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
    this.fill(entry);
  }

  /**
   * (Re)build a file's body; rows only when the file is near the viewport.
   * @private
   * @param {Entry} entry
   */
  fill(entry) {
    entry.mounted = renderBody(entry, this.store, this.context);
  }

  /**
   * @private
   * @param {Entry} entry
   */
  mount(entry) {
    entry.mounted = true;
    this.fill(entry);
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
        this.fill(entry);
      }
    });
  }
}
