// The list of file sections. Sections (header + a placeholder sized to the diff) exist for every file; the
// diff rows of a file are built only while it is near the viewport and dropped again when it is far away,
// so first paint is fast and the DOM stays bounded. Per-file state comes from the store on every render.
import { h, afterPaint, SLICE_MS } from "./dom.js";
import { newEntry, renderSection, HEADER_HEIGHT } from "./section.js";
import { estimateRows } from "../rows.js";
import { captureAnchor, restoreAnchor, moves, sectionAt } from "./anchor.js";
import { delegateActions } from "./actions.js";
import { renderBody, placeThreads, LINE_HEIGHT } from "./body.js";
import { Proximity } from "./proximity.js";

/**
 * @typedef {import("../store.js").Store} Store
 * @typedef {import("../store.js").Change} Change
 * @typedef {import("./body.js").Entry} Entry
 * @typedef {import("./body.js").BodyContext} BodyContext
 */

/** Most sections built before the first paint (fewer when they fill two screens). */
const FIRST_BATCH = 60;

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
    /** @type {Set<HTMLElement>|null} the sections changed by the running mutate() */
    this.changed = null;
    this.batching = false;
    this.status = h("p", { className: "files-status", text: "Loading diff\u2026", attrs: { role: "status" } });
    root.append(this.status);
    this.proximity = new Proximity(store, (entries, mounted) =>
      this.mutate(() => {
        for (const entry of entries) {
          entry.mounted = mounted;
          this.fill(entry);
        }
      }),
    );
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
        } else if (change.type === "viewed") {
          for (const path of change.paths) this.renderFile(path);
        } else if (change.type === "comments") {
          for (const path of change.paths) {
            const entry = path === null ? undefined : this.entries.get(path);
            if (entry) this.placeThreads(entry);
          }
        } else if (change.type === "layout") {
          for (const entry of this.entries.values()) if (entry.mounted) this.fill(entry);
        }
      }
      this.updateStatus();
    });
  }

  /**
   * Threads arrived (extras.js): from now on in every render, and now in the files that have threads.
   * @param {import("./threads.js").Threads} threads
   */
  attachThreads(threads) {
    this.context.threads = threads;
    const paths = new Set();
    for (const comment of this.store.comments.byId.values()) if (comment.path) paths.add(comment.path);
    this.mutate(() => {
      for (const path of paths) {
        const entry = this.entries.get(path);
        if (entry) this.placeThreads(entry);
      }
    });
  }

  /**
   * @private
   * @param {Entry} entry
   */
  placeThreads(entry) {
    this.changed?.add(entry.section);
    placeThreads(this.store, this.context, entry);
  }

  /**
   * Scroll a file's section to the top of the view.
   * @param {string} path
   */
  reveal(path) {
    const entry = this.entries.get(path);
    if (!entry) return;
    entry.section.scrollIntoView({ block: "start" });
    if (!entry.mounted) this.mutate(() => {
      entry.mounted = true;
      this.fill(entry);
    });
    entry.section.querySelector("h2")?.focus({ preventScroll: true });
  }

  /**
   * The path of the file at the top of the view.
   * @returns {string|null}
   */
  currentPath() {
    return sectionAt(this.root, this.context.stickyOffset() + 8)?.dataset.path ?? null;
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
    const outer = this.changed;
    /** @type {Set<HTMLElement>} */
    const changed = new Set();
    this.changed = changed;
    try {
      change();
    } finally {
      this.changed = outer;
    }
    for (const section of changed) outer?.add(section);
    // (a change below what is in view moves nothing: no need to lay the page out now to find out)
    if (anchor && moves(anchor, changed)) restoreAnchor(anchor, (path) => this.sectionFor(path));
  }

  /** @private */
  updateStatus() {
    const { loaded, order } = this.store;
    this.status.hidden = loaded && order.length > 0;
    this.status.textContent = loaded ? "No changes in this view." : "Loading diff\u2026";
  }

  /**
   * Put sections in store order, creating missing ones and re-rendering `changed` ones. A big first snapshot
   * is built in slices: the sections of the first screens now, the rest after the first paint, a few
   * milliseconds of work per task, so the page paints early and stays responsive.
   * @private
   * @param {Set<string>} changed
   * @param {boolean} [slice] stop after SLICE_MS (or, before the first paint, two screens) and go on later
   */
  reconcile(changed, slice = this.entries.size === 0 || this.batching) {
    const first = this.entries.size === 0;
    let budget = first ? window.innerHeight * 2 : 0;
    const start = performance.now();
    /** @type {Element} */
    let previous = this.status;
    let created = 0;
    let more = false;
    const enough = () =>
      first ? created >= FIRST_BATCH || (budget <= 0 && created > 0) : performance.now() - start > SLICE_MS;
    for (const path of this.store.order) {
      let entry = this.entries.get(path);
      if (!entry) {
        if (slice && enough()) {
          more = true;
          break;
        }
        created += 1;
        entry = newEntry(path);
        this.entries.set(path, entry);
        const file = this.store.files.get(path);
        if (budget > 0 && file) {
          entry.mounted = true;
          budget -= HEADER_HEIGHT + (estimateRows(file) + 2) * LINE_HEIGHT;
        }
        // A file that enters the diff next to one near the viewport is about as near: build its rows now, not
        // a frame or two later when the proximity observer says so.
        if (!slice && this.nearNeighbour(path)) entry.mounted = true;
        this.renderFile(path);
        this.proximity.observe(entry);
      } else if (changed.has(path)) {
        this.renderFile(path);
      }
      if (previous.nextElementSibling !== entry.section) {
        previous.after(entry.section);
        this.changed?.add(entry.section);
      }
      previous = entry.section;
    }
    if (more && !this.batching) {
      this.batching = true;
      const next = () => {
        this.batching = false;
        this.mutate(() => this.reconcile(new Set(), true));
        this.updateStatus();
      };
      if (first) afterPaint(next);
      else setTimeout(next, 0);
    }
  }

  /**
   * Whether the section before or after `path` in the store's order is near the viewport (as the proximity
   * observer last said: sections made in this same pass do not count, or one would pull in the next).
   * @private
   * @param {string} path
   * @returns {boolean}
   */
  nearNeighbour(path) {
    const { order } = this.store;
    const at = order.indexOf(path);
    return [order[at - 1], order[at + 1]].some((other) => other !== undefined && this.entries.get(other)?.near);
  }

  /**
   * @private
   * @param {string} path
   */
  remove(path) {
    const entry = this.entries.get(path);
    if (!entry) return;
    this.changed?.add(entry.section);
    this.proximity.unobserve(entry);
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
    if (!entry || !this.store.files.has(path)) return;
    if (renderSection(entry, this.store)) this.changed?.add(entry.section);
    this.fill(entry);
  }

  /**
   * (Re)build a file's body; rows only when the file is near the viewport.
   * @private
   * @param {Entry} entry
   */
  fill(entry) {
    this.changed?.add(entry.section);
    entry.mounted = renderBody(entry, this.store, this.context);
    if (this.entries.get(entry.path) === entry) this.proximity.track(entry);
  }
}
