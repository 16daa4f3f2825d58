// Which file sections are near the viewport: their diff rows are built when they come near and dropped again
// when they are far away (their measured height kept for the placeholder), so the DOM stays bounded however
// big the diff. Two IntersectionObservers with generous margins decide; the file list does the DOM work.

/**
 * @typedef {import("./body.js").Entry} Entry
 * @typedef {import("../store.js").Store} Store
 */

const NEAR_MARGIN = "1500px 0px";
const FAR_MARGIN = "6000px 0px";

export class Proximity {
  /**
   * @param {Store} store
   * @param {(entries: Entry[], mounted: boolean) => void} remount build (true) or drop (false) these entries' rows
   */
  constructor(store, remount) {
    this.store = store;
    this.remount = remount;
    /** @type {WeakMap<Element, Entry>} */
    this.bySection = new WeakMap();
    this.near = new IntersectionObserver((items) => this.onNear(items), { rootMargin: NEAR_MARGIN });
    this.far = new IntersectionObserver((items) => this.onFar(items), { rootMargin: FAR_MARGIN });
  }

  /** @param {Entry} entry */
  observe(entry) {
    this.bySection.set(entry.section, entry);
    this.near.observe(entry.section);
    this.far.observe(entry.section);
  }

  /** @param {Entry} entry */
  unobserve(entry) {
    this.near.unobserve(entry.section);
    this.far.unobserve(entry.section);
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
    if (due.length) this.remount(due, true);
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
    if (due.length) this.remount(due, false);
  }
}
