// Which file sections are near the viewport: their diff rows are built when they come near and dropped again
// when they are far away (their measured height kept for the placeholder), so the DOM stays bounded however
// big the diff. The file list does the DOM work.
//
// Near: sections are `content-visibility: auto`, so the browser already tracks which ones are within about
// 1.5 viewports (it renders those) and says so with `contentvisibilityautostatechange`; an IntersectionObserver
// with a like margin stands in where that event does not exist. Far: an IntersectionObserver with a wide
// margin, watching only the sections that have rows. (Each section an observer watches costs time in every
// frame: a thousand of them, several milliseconds.)

/**
 * @typedef {import("./body.js").Entry} Entry
 * @typedef {import("../store.js").Store} Store
 */

const NEAR_MARGIN = "150% 0px";
const FAR_MARGIN = "6000px 0px";
const STATE_EVENT = "contentvisibilityautostatechange";
const HAS_STATE_EVENT = `on${STATE_EVENT}` in HTMLElement.prototype;

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
    this.near = HAS_STATE_EVENT
      ? null
      : new IntersectionObserver((items) => this.onNear(items.map((item) => [item.target, item.isIntersecting])), {
          rootMargin: NEAR_MARGIN,
        });
    this.far = new IntersectionObserver((items) => this.onFar(items), { rootMargin: FAR_MARGIN });
    /** @type {Array<[Element, boolean]>} state changes not handled yet (they come one event each) */
    this.states = [];
    /** @param {Event} event */
    this.onState = (event) => {
      const section = event.currentTarget;
      if (event.target !== section || !(section instanceof Element)) return; // (not a chunk's, if it bubbles)
      if (!this.states.length) setTimeout(() => this.onNear(this.states.splice(0)), 0);
      this.states.push([section, !(/** @type {ContentVisibilityAutoStateChangeEvent} */ (event).skipped)]);
    };
  }

  /** @param {Entry} entry */
  observe(entry) {
    this.bySection.set(entry.section, entry);
    if (this.near) this.near.observe(entry.section);
    else entry.section.addEventListener(STATE_EVENT, this.onState);
    this.track(entry);
  }

  /**
   * Watch for an entry going far away while (and only while) its rows are built.
   * @param {Entry} entry
   */
  track(entry) {
    if (entry.mounted) this.far.observe(entry.section);
    else this.far.unobserve(entry.section);
  }

  /** @param {Entry} entry */
  unobserve(entry) {
    this.near?.unobserve(entry.section);
    entry.section.removeEventListener(STATE_EVENT, this.onState);
    this.far.unobserve(entry.section);
  }

  /**
   * @private
   * @param {Array<[Element, boolean]>} items sections and whether each is near now
   */
  onNear(items) {
    const due = [];
    for (const [section, near] of new Map(items)) {
      const entry = this.bySection.get(section);
      if (!entry || !entry.section.isConnected) continue;
      entry.near = near;
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
