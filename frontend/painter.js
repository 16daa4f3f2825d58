// When the DOM follows the store. The store takes every message at once; the parts of the page render once per
// frame, so a burst of updates (say, the highlighted versions of a thousand files) costs one layout per frame,
// not one per message. The first snapshot is shown at once, not a frame later (a big diff's file messages are
// right behind it).
import { on } from "./events.js";

/**
 * @typedef {import("./store.js").Store} Store
 * @typedef {import("./store.js").Change} Change
 * @typedef {{update: (changes: Change[]) => void}} Part
 */

/**
 * Drop repeated per-file changes from a batch (the DOM is rebuilt from the store, so once is enough).
 * @param {Change[]} changes
 * @returns {Change[]}
 */
export function coalesce(changes) {
  const seen = new Set();
  return changes.filter((change) => {
    if (!("path" in change)) return true;
    if (change.type === "removed") {
      for (const type of ["file", "ui"]) seen.delete(`${type}\0${change.path}`);
      return true;
    }
    const key = `${change.type === "lines" ? "ui" : change.type}\0${change.path}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export class Painter {
  /**
   * @param {Store} store
   * @param {Part[]} parts rendered in this order
   */
  constructor(store, parts) {
    this.parts = parts;
    /** @type {Change[]} */
    this.due = [];
    this.shown = false;
    on(store, "backloop:change", ({ changes }) => {
      const pending = this.due.length > 0;
      this.due.push(...changes);
      if (!this.shown && store.loaded) {
        this.shown = true;
        this.render();
      } else if (!pending) requestAnimationFrame(() => this.render());
    });
  }

  /** @private */
  render() {
    const changes = coalesce(this.due.splice(0));
    for (const part of this.parts) part.update(changes);
  }
}
