// The page state and the reducer that applies server messages to it. No DOM here: the renderers read the
// state, and per-file presentation state (collapsed, expanded context) lives here so a re-render keeps it.
import { SERVER, CLIENT } from "./protocol.js";
import { CommentIndex } from "./comments.js";
import { ViewedMarks } from "./viewed.js";
import { Expansions } from "./expansions.js";
import { DiffFiles } from "./diff-files.js";

/**
 * @typedef {import("./protocol.js").FileDiff} FileDiff
 * @typedef {import("./protocol.js").ReviewInfo} ReviewInfo
 * @typedef {import("./protocol.js").ContextLine} ContextLine
 * @typedef {import("./protocol.js").ServerMessage} ServerMessage
 * @typedef {import("./protocol.js").ClientMessage} ClientMessage
 * @typedef {import("./url.js").ViewOptions} ViewOptions
 * @typedef {"closed"|"open"|"reconnecting"} ConnectionState
 *
 * @typedef {object} FileUI
 * @property {boolean} collapsed
 * @property {Map<number, ContextLine>} expanded context lines by new-side line number
 * @property {number|null} eofAt the last new-side line number, once an `expand` reply said so
 * @property {string} contentKey the hunk ids the expansions were made against
 * @property {boolean} loadRequested the person asked for the full diff of a too_large file
 * @property {{message: string, digest: string|null}|null} loadError why the full diff of a too_large file cannot be
 *   shown (too big for a page), for the version of the file (digest) it was asked for
 * @property {{start: number, end: number, message: string}|null} expandError why the last `expand` failed
 *
 * @typedef {{type: "review"} | {type: "files", changed: string[], removed: string[]}
 *   | {type: "file", path: string, added: boolean} | {type: "removed", path: string}
 *   | {type: "lines", path: string} | {type: "notice"} | {type: "error"} | {type: "connection"}
 *   | {type: "layout"} | {type: "ui", path: string} | {type: "comments", paths: Array<string|null>}
 *   | {type: "viewed", paths: string[]}} Change
 */

export class Store extends EventTarget {
  /** @param {ViewOptions} view */
  constructor(view) {
    super();
    /** @type {ReviewInfo|null} */
    this.review = null;
    this.protocol = 0;
    /** @type {ConnectionState} */
    this.connection = "closed";
    this.diff = new DiffFiles();
    /** @type {boolean} a snapshot has arrived at least once */
    this.loaded = false;
    this.view = { ...view };
    /** @type {{level: "warning"|"error", message: string}|null} */
    this.notice = null;
    /** @type {{code: string, message: string}|null} */
    this.error = null;
    this.expansions = new Expansions();
    this.comments = new CommentIndex();
    this.viewed = new ViewedMarks();
  }

  /** @returns {{files: number, additions: number, deletions: number}} */
  get totals() {
    let additions = 0;
    let deletions = 0;
    for (const file of this.files.values()) {
      additions += file.additions;
      deletions += file.deletions;
    }
    return { files: this.files.size, additions, deletions };
  }

  /** @returns {Map<string, FileDiff>} the files of the diff by path */
  get files() {
    return this.diff.files;
  }

  /** @returns {string[]} their paths in git's order */
  get order() {
    return this.diff.order;
  }

  /** @returns {Map<string, FileUI>} their presentation state */
  get ui() {
    return this.diff.ui;
  }

  /**
   * @param {string} path
   * @returns {FileUI}
   */
  fileUI(path) {
    return this.diff.fileUI(path);
  }

  /**
   * Apply one server message; returns what changed and dispatches `backloop:change` with it.
   * @param {ServerMessage} message
   * @returns {Change[]}
   */
  apply(message) {
    const changes = this.reduce(message);
    if (changes.length) this.emit(changes);
    return changes;
  }

  /**
   * @private
   * @param {ServerMessage} message
   * @returns {Change[]}
   */
  reduce(message) {
    if (!this.viewed.resync || message.type === SERVER.SNAPSHOT) return this.reduceMessage(message);
    this.viewed.resync = false;
    if (message.type === SERVER.VIEWED) return this.marked(this.viewed.take(message.files, true));
    return [...this.marked(this.viewed.take([], true)), ...this.reduceMessage(message)];
  }

  /**
   * @private
   * @param {ServerMessage} message
   * @returns {Change[]}
   */
  reduceMessage(message) {
    switch (message.type) {
      case SERVER.HELLO:
        this.protocol = message.protocol;
        this.review = message.review;
        return [{ type: "review" }];
      case SERVER.SNAPSHOT:
        this.loaded = true;
        this.viewed.resync = true;
        return [
          { type: "files", ...this.diff.replace(message.files) },
          { type: "comments", paths: this.comments.replace((message.comments ?? []).filter((c) => this.shows(c))) },
        ];
      case SERVER.COMMENT:
        return this.shows(message.comment) ? [{ type: "comments", paths: this.comments.set(message.comment) }] : [];
      case SERVER.COMMENT_REMOVED:
        return [{ type: "comments", paths: this.comments.remove(message.id) }];
      case SERVER.VIEWED:
        return this.marked(this.viewed.take(message.files, false));
      case SERVER.ROUND:
        if (!this.review) return [];
        this.review = {
          ...this.review,
          round: message.current,
          rounds: message.rounds,
          last_review: message.last_review ?? null,
          changed_since_review: message.changed_since_review ?? null,
        };
        return [{ type: "review" }];
      case SERVER.FILE:
        return [{ type: "file", path: message.file.path, added: this.diff.set(message.file) }];
      case SERVER.FILE_REMOVED:
        return this.diff.remove(message.path) ? [{ type: "removed", path: message.path }] : [];
      case SERVER.LINES:
        return this.expansions.answer(message, this.files.get(message.path), (path) => this.fileUI(path))
          ? [{ type: "lines", path: message.path }]
          : [];
      case SERVER.REVIEW:
        if (!this.review) return [];
        this.review = { ...this.review, state: message.state, agent: message.agent };
        return [{ type: "review" }];
      case SERVER.NOTICE:
        this.notice = message.level === "ok" ? null : { level: message.level, message: message.message };
        return [{ type: "notice" }];
      case SERVER.ERROR: {
        if (message.request_id) {
          // An `expand` failed: say so at the expander, not in the page banner. (Errors for other requests are
          // shown where those were made; one whose request is gone, say after a reconnect, has nowhere to go.)
          const request = this.expansions.settle(message.request_id);
          if (!request || !this.files.has(request.path)) return [];
          this.fileUI(request.path).expandError = { start: request.start, end: request.end, message: message.message };
          return [{ type: "lines", path: request.path }];
        }
        if (message.code === "too_large_to_load" && message.path && this.files.has(message.path)) {
          // A `load_file` the server will not answer in full: say so in that file, instead of its button.
          const ui = this.fileUI(message.path);
          ui.loadRequested = false;
          ui.loadError = { message: message.message, digest: this.files.get(message.path)?.digest ?? null };
          return [{ type: "ui", path: message.path }];
        }
        this.error = { code: message.code, message: message.message };
        return [{ type: "error" }];
      }
      default:
        return [];
    }
  }

  /**
   * Whether the page shows a thread: a view of the changes since round N shows the threads of round N and later
   * (what those changes answer), every other view all of them.
   * @param {import("./protocol.js").Comment} comment
   * @returns {boolean}
   */
  shows(comment) {
    return !this.view.round || (comment.round ?? 1) >= this.view.round;
  }

  /**
   * Register an `expand` request and return the message to send.
   * @param {string} path
   * @param {number} start
   * @param {number} end
   * @returns {ClientMessage|null}
   */
  requestExpand(path, start, end) {
    const file = this.files.get(path);
    if (!file || start < 1 || end < start) return null;
    return this.expansions.request(file, start, end);
  }

  /**
   * @param {string} path
   * @returns {ClientMessage|null}
   */
  requestLoad(path) {
    if (!this.files.has(path)) return null;
    this.fileUI(path).loadRequested = true;
    this.emit([{ type: "ui", path }]);
    return { type: CLIENT.LOAD_FILE, path };
  }

  /**
   * @param {string} path
   * @param {boolean} collapsed
   */
  setCollapsed(path, collapsed) {
    if (!this.files.has(path)) return;
    this.fileUI(path).collapsed = collapsed;
    this.emit([{ type: "ui", path }]);
  }

  /**
   * The person marks a file viewed (or not), before the server confirms it: a viewed file folds, one no longer
   * viewed unfolds. Returns the mark it had, to put back if the server refuses.
   * @param {string} path
   * @param {boolean} viewed
   * @returns {import("./viewed.js").Mark}
   */
  setViewed(path, viewed) {
    const before = this.viewed.get(path);
    this.viewed.put(path, { viewed, changed: false });
    this.emit(this.marked({ paths: [path], folded: viewed ? [path] : [], unfolded: viewed ? [] : [path] }));
    return before;
  }

  /**
   * Put a mark back as it was (the server refused the change).
   * @param {string} path
   * @param {import("./viewed.js").Mark} mark
   */
  restoreViewed(path, mark) {
    const now = this.viewed.get(path);
    this.viewed.put(path, mark);
    const folded = mark.viewed && !now.viewed ? [path] : [];
    this.emit(this.marked({ paths: [path], folded, unfolded: !mark.viewed && now.viewed ? [path] : [] }));
  }

  /**
   * Fold files that became viewed and unfold those that no longer are.
   * @private
   * @param {import("./viewed.js").Marked} marked
   * @returns {Change[]}
   */
  marked({ paths, folded, unfolded }) {
    /** @type {Change[]} */
    const changes = paths.length ? [{ type: "viewed", paths }] : [];
    for (const [list, collapsed] of /** @type {const} */ ([[folded, true], [unfolded, false]])) {
      for (const path of list) {
        if (!this.files.has(path)) continue;
        this.fileUI(path).collapsed = collapsed;
        changes.push({ type: "ui", path });
      }
    }
    return changes;
  }

  /** @param {"unified"|"split"} layout */
  setLayout(layout) {
    if (this.view.layout === layout) return;
    this.view.layout = layout;
    this.emit([{ type: "layout" }]);
  }

  /**
   * Show the changes since the end of round `round` (null: all the changes): the files go, the next snapshot
   * brings those of that view.
   * @param {number|null} round
   */
  setRound(round) {
    if (this.view.round === round) return;
    this.view.round = round;
    // Another set of changes: the page starts again from its snapshot, as on a first load (the first screens
    // first), rather than reconciling every file with a diff that is all different.
    const removed = this.order;
    this.diff = new DiffFiles();
    this.loaded = false;
    this.emit([{ type: "review" }, { type: "files", changed: [], removed }]);
  }

  /** @param {ConnectionState} state */
  setConnection(state) {
    if (this.connection === state) return;
    this.connection = state;
    if (state !== "open") this.expansions.clear();
    this.emit([{ type: "connection" }]);
  }

  clearError() {
    this.error = null;
    this.emit([{ type: "error" }]);
  }

  /**
   * @private
   * @param {Change[]} changes
   */
  emit(changes) {
    this.dispatchEvent(new CustomEvent("backloop:change", { detail: { changes } }));
  }
}
