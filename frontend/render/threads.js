// Review threads in the page: a thread element per comment (kept across re-renders, so a half-typed reply
// survives live updates), placed under the line it is on, or in the file's box when its line is not shown.
import { h, button } from "./dom.js";

/**
 * @typedef {import("../protocol.js").Comment} Comment
 * @typedef {import("../protocol.js").Reply} Reply
 * @typedef {{element: HTMLElement, content: HTMLElement, actions: HTMLElement}} ThreadView
 */

/**
 * @param {number} seconds Unix time
 * @returns {string}
 */
function ago(seconds) {
  const delta = Math.max(0, Date.now() / 1000 - seconds);
  if (delta < 60) return "just now";
  if (delta < 3600) return `${Math.floor(delta / 60)} min ago`;
  if (delta < 86400) return `${Math.floor(delta / 3600)} h ago`;
  return new Date(seconds * 1000).toLocaleDateString();
}

/**
 * One message of a thread: author, time, body (plain text).
 * @param {{author?: string, body: string, created_at: number}} entry
 * @param {Node[]} [extra] badges after the time
 * @returns {HTMLElement}
 */
function message(entry, extra = []) {
  const author = entry.author === "agent" ? "Agent" : "You";
  const time = h("time", { text: ago(entry.created_at), attrs: { datetime: new Date(entry.created_at * 1000).toISOString() } });
  return h("div", { className: `comment comment-${entry.author ?? "person"}` }, [
    h("div", { className: "comment-head" }, [h("strong", { className: "comment-author", text: author }), time, ...extra]),
    h("div", { className: "comment-body", text: entry.body }),
  ]);
}

/**
 * Where a comment's line is, as a label ("line 12", "old lines 3–5").
 * @param {Comment} comment
 * @returns {string}
 */
export function lineLabel(comment) {
  if (comment.line == null) return "file";
  const side = comment.side === "old" ? "old " : "";
  return comment.end_line != null && comment.end_line !== comment.line
    ? `${side}lines ${comment.line}\u2013${comment.end_line}`
    : `${side}line ${comment.line}`;
}

export class Threads {
  constructor() {
    /** @type {Map<string, ThreadView>} */
    this.views = new Map();
  }

  /**
   * The element of a thread, created or brought up to date; its reply box is the same node every time.
   * @param {Comment} comment
   * @returns {HTMLElement}
   */
  element(comment) {
    let view = this.views.get(comment.id);
    if (!view) {
      const reply = h("textarea", {
        className: "input reply-input",
        attrs: { rows: "1", placeholder: "Reply\u2026", "aria-label": "Reply" },
      });
      const form = h("form", { className: "reply-form" }, [reply, h("button", { className: "btn", text: "Reply", attrs: { type: "submit" } })]);
      const actions = h("div", { className: "thread-actions" }, [form]);
      const content = h("div", { className: "thread-content" });
      const element = h("div", { className: "thread" }, [content, actions]);
      element.dataset.commentId = comment.id;
      view = { element, content, actions };
      this.views.set(comment.id, view);
    }
    const state = comment.state ?? "open";
    view.element.dataset.state = state;
    view.element.classList.toggle("thread-outdated", Boolean(comment.outdated));
    /** @type {Node[]} */
    const badges = [];
    if (comment.kind === "request_changes") badges.push(h("span", { className: "badge badge-deleted", text: "Changes requested" }));
    if (comment.outdated) badges.push(h("span", { className: "badge", text: "Outdated" }));
    if (state === "resolved") badges.push(h("span", { className: "badge badge-renamed", text: "Resolved" }));
    /** @type {Node[]} */
    const parts = [];
    if (comment.path && (comment.outdated || comment.line == null)) {
      parts.push(h("div", { className: "thread-where", text: lineLabel(comment) }));
    }
    if (comment.quoted?.length && (comment.outdated || comment.kind === "request_changes")) {
      parts.push(h("pre", { className: "thread-quote", text: comment.quoted.join("\n") }));
    }
    parts.push(message(comment, badges));
    for (const reply of comment.replies ?? []) {
      const item = message(reply);
      item.dataset.replyId = reply.id;
      parts.push(item);
    }
    view.content.replaceChildren(...parts);
    const resolve = view.actions.querySelector("button[data-action=resolve]");
    if (state === "open" && !resolve) {
      const control = button("Resolve", { className: "btn", label: "Resolve conversation", data: { action: "resolve" } });
      view.actions.append(control);
    } else if (state !== "open") resolve?.remove();
    return view.element;
  }

  /**
   * Put a file's threads in its body: under their lines when the table shows them, else in a box on top.
   * @param {HTMLElement} body the file body
   * @param {Comment[]} comments the file's threads
   * @param {number} columns columns of the diff table
   */
  place(body, comments, columns) {
    for (const old of body.querySelectorAll(":scope .thread-row, :scope > .file-threads")) old.remove();
    for (const cell of body.querySelectorAll("tr[data-keep] > td.thread-cell")) cell.setAttribute("colspan", String(columns));
    /** @type {HTMLElement[]} */
    const loose = [];
    /** @type {Map<Element, HTMLElement[]>} */
    const byRow = new Map();
    for (const comment of comments) {
      const element = this.element(comment);
      const row = comment.outdated || comment.line == null ? null : this.rowFor(body, comment);
      if (!row) {
        loose.push(element);
        continue;
      }
      const list = byRow.get(row) ?? [];
      list.push(element);
      byRow.set(row, list);
    }
    for (const [row, elements] of byRow) {
      const cell = h("td", { className: "thread-cell", attrs: { colspan: String(columns) } }, elements);
      row.after(h("tr", { className: "thread-row" }, [cell]));
    }
    if (loose.length) {
      const box = h("div", { className: "file-threads" }, loose);
      const table = body.querySelector(".diff-wrap, .diff-placeholder, .file-message, .image-diff");
      if (table) table.before(box);
      else body.append(box);
    }
  }

  /**
   * The table row a comment sits under (the last line of its range).
   * @private
   * @param {HTMLElement} body
   * @param {Comment} comment
   * @returns {Element|null}
   */
  rowFor(body, comment) {
    const line = comment.end_line ?? comment.line;
    if (line == null) return null;
    return comment.side === "old" ? body.querySelector(`tr[data-old="${line}"]`) : body.querySelector(`tr[data-key="n${line}"]`);
  }
}

/**
 * A new-comment form as a table row under a diff line; marked data-keep so it survives re-renders.
 * @param {{path: string, side: "old"|"new", line: number, key: string, columns: number}} where
 * @returns {HTMLTableRowElement}
 */
export function commentFormRow(where) {
  const text = h("textarea", {
    className: "input comment-input",
    attrs: { rows: "3", placeholder: "Leave a comment", "aria-label": "Comment" },
  });
  const error = h("p", { className: "form-error", attrs: { role: "alert" }, hidden: true });
  const form = h("form", { className: "comment-form" }, [
    h("div", { className: "thread-where", text: `Comment on ${where.side === "old" ? "old " : ""}line ${where.line}` }),
    text,
    error,
    h("div", { className: "form-actions" }, [
      button("Cancel", { className: "btn", data: { action: "cancel-comment" } }),
      h("button", { className: "btn btn-primary", text: "Add comment", attrs: { type: "submit" } }),
    ]),
  ]);
  Object.assign(form.dataset, { path: where.path, side: where.side, line: String(where.line) });
  const row = h("tr", { className: "comment-form-row" }, [
    h("td", { className: "thread-cell", attrs: { colspan: String(where.columns) } }, [form]),
  ]);
  row.dataset.keep = "";
  row.dataset.keepAnchor = where.key;
  return row;
}

/**
 * Show a form as waiting for the server, or not; and an error in it.
 * @param {HTMLFormElement} form
 * @param {boolean} busy
 * @param {string} [error]
 */
export function formState(form, busy, error = "") {
  for (const control of form.querySelectorAll("button, textarea")) {
    /** @type {HTMLButtonElement|HTMLTextAreaElement} */ (control).disabled = busy;
  }
  const box = form.querySelector(".form-error");
  if (box) {
    box.textContent = error;
    /** @type {HTMLElement} */ (box).hidden = !error;
  }
}
