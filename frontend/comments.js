// Review threads as data: every comment of the review by id, with look-ups by file. No DOM here.

/** @typedef {import("./protocol.js").Comment} Comment */

/** @param {Comment} a @param {Comment} b */
const byTime = (a, b) => a.created_at - b.created_at || (a.id < b.id ? -1 : 1);

export class CommentIndex {
  constructor() {
    /** @type {Map<string, Comment>} */
    this.byId = new Map();
  }

  /**
   * Replace every thread (a snapshot); returns the paths whose threads may have changed (null: review level).
   * @param {Comment[]} comments
   * @returns {Array<string|null>}
   */
  replace(comments) {
    /** @type {Set<string|null>} */
    const paths = new Set();
    for (const comment of this.byId.values()) paths.add(comment.path ?? null);
    this.byId = new Map(comments.map((comment) => [comment.id, comment]));
    for (const comment of comments) paths.add(comment.path ?? null);
    return [...paths];
  }

  /**
   * Add or replace one thread; returns the paths it was and is on.
   * @param {Comment} comment
   * @returns {Array<string|null>}
   */
  set(comment) {
    const previous = this.byId.get(comment.id);
    this.byId.set(comment.id, comment);
    const paths = new Set([comment.path ?? null]);
    if (previous) paths.add(previous.path ?? null);
    return [...paths];
  }

  /**
   * Drop a thread (a pending comment deleted); returns the path it was on.
   * @param {string} id
   * @returns {Array<string|null>}
   */
  remove(id) {
    const previous = this.byId.get(id);
    if (!previous) return [];
    this.byId.delete(id);
    return [previous.path ?? null];
  }

  /** @returns {number} how many comments of a review not submitted yet there are */
  pendingCount() {
    let count = 0;
    for (const comment of this.byId.values()) if (comment.pending) count += 1;
    return count;
  }

  /**
   * The threads on one file (or, with null, on the review as a whole), oldest first.
   * @param {string|null} path
   * @returns {Comment[]}
   */
  on(path) {
    return [...this.byId.values()].filter((comment) => (comment.path ?? null) === path).sort(byTime);
  }

  /**
   * How many open threads each file has.
   * @returns {Map<string, number>}
   */
  openCounts() {
    /** @type {Map<string, number>} */
    const counts = new Map();
    for (const comment of this.byId.values()) {
      if (comment.path && (comment.state ?? "open") === "open") counts.set(comment.path, (counts.get(comment.path) ?? 0) + 1);
    }
    return counts;
  }
}
