// Context lines revealed with `expand`, as data: the requests in flight by id, and what their answers (`lines`)
// or failures (`error` with the request_id) change in a file's presentation state. No DOM here.
import { CLIENT } from "./protocol.js";

/**
 * @typedef {import("./protocol.js").FileDiff} FileDiff
 * @typedef {import("./protocol.js").ContextLine} ContextLine
 * @typedef {import("./protocol.js").ClientMessage} ClientMessage
 * @typedef {import("./store.js").FileUI} FileUI
 * @typedef {{path: string, key: string, start: number, end: number}} Request
 */

/**
 * The hunk ids of a file: expanded lines belong to one version of its hunks.
 * @param {FileDiff} file
 * @returns {string}
 */
export function contentKey(file) {
  return file.hunks.map((hunk) => hunk.id).join(",");
}

export class Expansions {
  constructor() {
    /** @type {Map<string, Request>} */
    this.pending = new Map();
    this.next = 1;
  }

  /**
   * Register a request for lines start..end of a file; returns the message to send.
   * @param {FileDiff} file
   * @param {number} start
   * @param {number} end
   * @returns {ClientMessage}
   */
  request(file, start, end) {
    const requestId = `x${this.next++}`;
    this.pending.set(requestId, { path: file.path, key: contentKey(file), start, end });
    return { type: CLIENT.EXPAND, request_id: requestId, path: file.path, start, end };
  }

  /**
   * The request a reply answers (forgotten from now on), if it is still pending.
   * @param {string} requestId
   * @returns {Request|undefined}
   */
  settle(requestId) {
    const request = this.pending.get(requestId);
    this.pending.delete(requestId);
    return request;
  }

  /**
   * Put the lines of a `lines` reply into the file's state; false when they no longer fit (the file changed).
   * @param {{request_id: string, path: string, start: number, lines: ContextLine[], eof: boolean}} message
   * @param {FileDiff|undefined} file
   * @param {(path: string) => FileUI} uiFor
   * @returns {boolean}
   */
  answer(message, file, uiFor) {
    const request = this.settle(message.request_id);
    if (!request || !file || request.path !== message.path || request.key !== contentKey(file)) return false;
    const ui = uiFor(message.path);
    ui.expandError = null;
    message.lines.forEach((line, index) => ui.expanded.set(message.start + index, line));
    if (message.eof) {
      const last = message.start + message.lines.length - 1;
      ui.eofAt = ui.eofAt === null ? last : Math.min(ui.eofAt, last);
    }
    return true;
  }

  /** After a disconnect nothing pending will be answered. */
  clear() {
    this.pending.clear();
  }
}
