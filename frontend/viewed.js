// Which files the person marked viewed, and which changed since they did: as the server says (`viewed`
// messages) and as this page asked meanwhile. No DOM here.
//
// After a snapshot the server sends every mark in a `viewed` message right away, or none when there is no mark:
// so the first message after a snapshot says whether the page's marks still hold.

/**
 * @typedef {import("./protocol.js").ViewedFile} ViewedFile
 * @typedef {{viewed: boolean, changed: boolean}} Mark
 * @typedef {{paths: string[], folded: string[], unfolded: string[]}} Marked what changed: every path whose mark
 *   did; those that became viewed (to fold) and those that no longer are (to unfold)
 */

/** @type {Mark} */
const NONE = Object.freeze({ viewed: false, changed: false });

export class ViewedMarks {
  constructor() {
    /** @type {Map<string, Mark>} */
    this.marks = new Map();
    /** A snapshot came: the next message is every mark there is (`viewed`), or says there is none. */
    this.resync = false;
  }

  /**
   * @param {string} path
   * @returns {Mark}
   */
  get(path) {
    return this.marks.get(path) ?? NONE;
  }

  /**
   * Take marks from the server; with `all`, they are every mark there is (others are dropped).
   * @param {ViewedFile[]} files
   * @param {boolean} all
   * @returns {Marked}
   */
  take(files, all) {
    /** @type {Map<string, Mark>} */
    const next = new Map(files.map((file) => [file.path, { viewed: file.viewed, changed: file.changed }]));
    if (all) for (const path of this.marks.keys()) if (!next.has(path)) next.set(path, NONE);
    /** @type {Marked} */
    const marked = { paths: [], folded: [], unfolded: [] };
    for (const [path, mark] of next) {
      const before = this.get(path);
      this.put(path, mark);
      if (before.viewed === mark.viewed && before.changed === mark.changed) continue;
      marked.paths.push(path);
      if (mark.viewed && !before.viewed) marked.folded.push(path);
      if (!mark.viewed && before.viewed) marked.unfolded.push(path);
    }
    return marked;
  }

  /**
   * Put a mark (the person's click, before the server confirms it, or back as it was when it refused).
   * @param {string} path
   * @param {Mark} mark
   */
  put(path, mark) {
    if (mark.viewed || mark.changed) this.marks.set(path, { viewed: mark.viewed, changed: mark.changed });
    else this.marks.delete(path);
  }

  /**
   * How many of `paths` are viewed.
   * @param {Iterable<string>} paths
   * @returns {number}
   */
  count(paths) {
    let viewed = 0;
    for (const path of paths) if (this.marks.get(path)?.viewed) viewed += 1;
    return viewed;
  }
}
