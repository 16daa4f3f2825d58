// The files of the diff as the server sent them, in git's path order, and each file's presentation state
// (collapsed, expanded context, a full diff asked for), kept across the versions of a file. No DOM here.
//
// A `file` message is applied as it is: the server sends one only when that file's diff changed for this page.
// A snapshot (the first message of each connection) is applied too, keeping what the person did where the diff is
// the same.
import { contentKey } from "./expansions.js";

/**
 * @typedef {import("./protocol.js").FileDiff} FileDiff
 * @typedef {import("./store.js").FileUI} FileUI
 */

/**
 * Insert `path` into the sorted list `order` (by code unit order, as git sorts paths).
 * @param {string[]} order
 * @param {string} path
 */
function insertSorted(order, path) {
  let lo = 0;
  let hi = order.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (order[mid] < path) lo = mid + 1;
    else hi = mid;
  }
  order.splice(lo, 0, path);
}

/**
 * A file sent without its lines, which follow in a `file` message (a streamed snapshot): no version of its hunks.
 * @param {FileDiff} file
 * @returns {boolean}
 */
function streamed(file) {
  return Boolean(file.loading) && file.hunks.length === 0;
}

export class DiffFiles {
  constructor() {
    /** @type {Map<string, FileDiff>} */
    this.files = new Map();
    /** @type {string[]} */
    this.order = [];
    /** @type {Map<string, FileUI>} */
    this.ui = new Map();
  }

  /**
   * A file's presentation state, made when first needed.
   * @param {string} path
   * @returns {FileUI}
   */
  fileUI(path) {
    let ui = this.ui.get(path);
    if (!ui) {
      const file = this.files.get(path);
      ui = {
        collapsed: false,
        expanded: new Map(),
        eofAt: null,
        contentKey: file ? contentKey(file) : "",
        loadRequested: false,
        loadError: null,
        expandError: null,
      };
      this.ui.set(path, ui);
    }
    return ui;
  }

  /**
   * Store a file from a `file` message.
   * @param {FileDiff} file
   * @returns {boolean} whether the file is new to the page
   */
  set(file) {
    const added = !this.files.has(file.path);
    this.files.set(file.path, file);
    if (added) insertSorted(this.order, file.path);
    else this.follow(file);
    return added;
  }

  /**
   * @param {string} path
   * @returns {boolean} whether the page had the file
   */
  remove(path) {
    if (!this.files.delete(path)) return false;
    this.ui.delete(path);
    this.order = this.order.filter((other) => other !== path);
    return true;
  }

  /**
   * Take the files of a snapshot. A file streamed after it, of the version whose lines the page holds (its
   * digest), keeps those lines meanwhile: the page does not trade what the person is reading for a placeholder.
   * @param {FileDiff[]} files
   * @returns {{changed: string[], removed: string[]}}
   */
  replace(files) {
    const incoming = new Set(files.map((file) => file.path));
    const removed = this.order.filter((path) => !incoming.has(path));
    for (const path of removed) {
      this.files.delete(path);
      this.ui.delete(path);
    }
    /** @type {string[]} */
    const changed = [];
    for (const file of files) {
      const held = this.files.get(file.path);
      if (held && streamed(file) && held.hunks.length > 0 && held.digest === file.digest) continue;
      this.files.set(file.path, file);
      if (held) this.follow(file);
      changed.push(file.path);
    }
    this.order = files.map((file) => file.path);
    return { changed, removed };
  }

  /**
   * Expanded context belongs to one version of a file's hunks (its content key): another version drops it.
   * @private
   * @param {FileDiff} file
   */
  follow(file) {
    const ui = this.ui.get(file.path);
    if (!ui || streamed(file)) return;
    const key = contentKey(file);
    if (key === ui.contentKey) return;
    ui.expanded = new Map();
    ui.eofAt = null;
    ui.contentKey = key;
    ui.expandError = null;
  }
}
