// Review threads in the page: a thread element per comment (kept across re-renders, so a half-typed reply
// survives live updates), placed under the last line of its range; comments on the whole file, and those whose
// line is not shown, in a box on top of the file; outdated threads (their lines are gone) folded in a block
// above that, with the code they were about; in a view of the changes since a round, beside the line they were
// about on its old side (the code as it was then) when it is there. Resolved threads fold too. Bodies are
// Markdown (markdown.js). A pending comment (of a review not submitted yet) is edited or deleted instead of answered
// (pending.js).
import { h, button } from "./dom.js";
import { renderMarkdown } from "../markdown.js";
import { rangeText } from "./comment-form.js";
import { pendingActions, pendingBadge, pendingEditForm } from "./pending.js";

/**
 * @typedef {import("../protocol.js").Comment} Comment
 * @typedef {(body: HTMLElement, thread: Comment, entry: {id: string, body: string}) => void} Decorate
 * @typedef {{element: HTMLElement, content: HTMLElement, actions: HTMLElement, shown: Comment|null,
 *   fold: HTMLDetailsElement|null, summary: HTMLElement|null, summarized: Comment|null,
 *   editing: HTMLFormElement|null}} ThreadView editing: the form editing a pending comment, while open
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
 * One message of a thread: author, time, body (Markdown).
 * @param {{author?: string, body: string, created_at: number}} entry
 * @param {Node[]} extra badges after the time
 * @param {(body: HTMLElement) => void} decorate
 * @returns {HTMLElement}
 */
function message(entry, extra, decorate) {
  const author = entry.author === "agent" ? "Agent" : "You";
  const time = h("time", { text: ago(entry.created_at), attrs: { datetime: new Date(entry.created_at * 1000).toISOString() } });
  const body = h("div", { className: "comment-body markdown" });
  body.append(renderMarkdown(entry.body));
  decorate(body);
  return h("div", { className: `comment comment-${entry.author ?? "person"}` }, [
    h("div", { className: "comment-head" }, [h("strong", { className: "comment-author", text: author }), time, ...extra]),
    body,
  ]);
}

/**
 * Where a comment is, as a label: "Lines 5–7", "Old line 3", "File".
 * @param {Comment} comment
 * @returns {string}
 */
export function lineLabel(comment) {
  if (comment.line == null) return "Comment on the file";
  const text = rangeText(comment.side, comment.line, comment.end_line);
  return text[0].toUpperCase() + text.slice(1);
}

/**
 * @param {Comment} comment
 * @returns {boolean}
 */
const isRange = (comment) => comment.line != null && comment.end_line != null && comment.end_line !== comment.line;

export class Threads {
  /** @param {{decorate?: Decorate}} [hooks] decorate: called with each rendered message (suggested changes) */
  constructor(hooks = {}) {
    this.decorate = hooks.decorate ?? (() => undefined);
    /** @type {Map<string, ThreadView>} */
    this.views = new Map();
  }

  /**
   * The element of a thread, created or brought up to date; its reply box is the same node every time.
   * @param {Comment} comment
   * @returns {HTMLElement}
   */
  element(comment) {
    return this.view(comment).element;
  }

  /**
   * What to place for a thread: its element, or for a resolved or outdated one a fold (<details>) around it.
   * @param {Comment} comment
   * @param {boolean} [atLine] an outdated thread placed at the line it was about (on the old side): not folded
   * @returns {HTMLElement}
   */
  placed(comment, atLine = false) {
    const view = this.view(comment);
    const folded = (Boolean(comment.outdated) && !atLine) || (comment.state ?? "open") === "resolved";
    if (!folded) return view.element;
    if (!view.fold || !view.summary) {
      view.summary = h("summary", { className: "thread-summary" });
      view.fold = h("details", { className: "thread-fold" }, [view.summary]);
    }
    if (view.summarized !== comment) {
      view.summarized = comment;
      this.summarize(view.summary, comment);
    }
    view.fold.dataset.fold = comment.outdated ? "outdated" : "resolved";
    if (view.element.parentElement !== view.fold) view.fold.append(view.element);
    return view.fold;
  }

  /**
   * The one-line summary of a folded thread: why it is folded, where it was, who said what.
   * @private
   * @param {HTMLElement} summary
   * @param {Comment} comment
   */
  summarize(summary, comment) {
    const badge = comment.outdated
      ? h("span", { className: "badge badge-outdated", text: "Outdated" })
      : h("span", { className: "badge badge-renamed", text: "Resolved" });
    const first = (renderMarkdown(comment.body).firstChild?.textContent ?? "").replace(/\s+/g, " ").trim();
    const replies = comment.replies?.length ?? 0;
    summary.replaceChildren(badge);
    if (comment.applied?.length) summary.append(h("span", { className: "badge badge-applied", text: "Suggestion applied" }));
    summary.append(
      h("span", { className: "thread-summary-where", text: lineLabel(comment) }),
      h("strong", { text: comment.author === "agent" ? "Agent" : "You" }),
      h("span", { className: "thread-summary-text", text: first.length > 120 ? `${first.slice(0, 120)}\u2026` : first }),
    );
    if (replies) summary.append(h("span", { className: "thread-summary-count", text: `${replies} ${replies === 1 ? "reply" : "replies"}` }));
  }

  /**
   * @private
   * @param {Comment} comment
   * @returns {ThreadView}
   */
  view(comment) {
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
      view = { element, content, actions, shown: null, fold: null, summary: null, summarized: null, editing: null };
      this.views.set(comment.id, view);
    }
    if (view.shown !== comment) this.fill(view, comment);
    return view;
  }

  /**
   * @private
   * @param {ThreadView} view
   * @param {Comment} comment
   */
  fill(view, comment) {
    view.shown = comment;
    const state = comment.state ?? "open";
    view.element.dataset.state = state;
    view.element.classList.toggle("thread-outdated", Boolean(comment.outdated));
    /** @type {Node[]} */
    const badges = [];
    const pending = Boolean(comment.pending);
    view.element.classList.toggle("thread-pending", pending);
    if (!pending) view.editing = null;
    if (pending) badges.push(pendingBadge());
    if (comment.kind === "request_changes") badges.push(h("span", { className: "badge badge-deleted", text: "Changes requested" }));
    if (comment.outdated) badges.push(h("span", { className: "badge badge-outdated", text: "Outdated" }));
    if (state === "resolved") badges.push(h("span", { className: "badge badge-renamed", text: "Resolved" }));
    /** @type {Node[]} */
    const parts = [];
    // (an outdated thread's place is in the summary of its fold)
    if (comment.path && !comment.outdated && (comment.line == null || isRange(comment))) {
      parts.push(h("div", { className: "thread-where", text: lineLabel(comment) }));
    }
    if (comment.quoted?.length && (comment.outdated || comment.kind === "request_changes")) {
      parts.push(h("pre", { className: "thread-quote", text: comment.quoted.join("\n") }));
    }
    parts.push(view.editing ?? message(comment, badges, (body) => this.decorate(body, comment, comment)));
    for (const reply of comment.replies ?? []) {
      const item = message(reply, [], (body) => this.decorate(body, comment, reply));
      item.dataset.replyId = reply.id;
      parts.push(item);
    }
    view.content.replaceChildren(...parts);
    const resolve = view.actions.querySelector("button[data-action=resolve]");
    if (state === "open" && !pending && !resolve) {
      const control = button("Resolve", { className: "btn", label: "Resolve conversation", data: { action: "resolve" } });
      view.actions.append(control);
    } else if (state !== "open" || pending) resolve?.remove();
    const reply = /** @type {HTMLElement|null} */ (view.actions.querySelector(".reply-form"));
    if (reply) reply.hidden = pending;
    const edits = view.actions.querySelector(".pending-actions");
    if (pending && !edits) view.actions.append(pendingActions());
    else if (!pending) edits?.remove();
    const shown = view.actions.querySelector(".pending-actions");
    if (shown instanceof HTMLElement) shown.hidden = Boolean(view.editing);
  }

  /**
   * Edit a pending comment in place (its text goes in a form, kept across updates until saved or cancelled).
   * @param {string} id
   */
  startEdit(id) {
    const view = this.views.get(id);
    if (!view?.shown?.pending) return;
    view.editing ??= pendingEditForm(view.shown);
    this.fill(view, view.shown);
    view.editing.querySelector("textarea")?.focus();
  }

  /**
   * Close the edit form of a comment, showing `body` (just saved) until the server's version arrives.
   * @param {string} id
   * @param {string} [body]
   */
  stopEdit(id, body) {
    const view = this.views.get(id);
    if (!view?.shown || !view.editing) return;
    // (the focus was in the form, or was lost when its controls were disabled while it saved)
    const active = document.activeElement;
    const hadFocus = !active || active === document.body || view.editing.contains(active);
    view.editing = null;
    this.fill(view, body === undefined ? view.shown : { ...view.shown, body });
    if (hadFocus) /** @type {HTMLElement|null} */ (view.actions.querySelector("[data-action=edit-pending]"))?.focus();
  }

  /**
   * The edit form of a pending comment, if open.
   * @param {string} id
   * @returns {HTMLFormElement|null}
   */
  editForm(id) {
    return this.views.get(id)?.editing ?? null;
  }


  /**
   * Put a file's threads in its body: under their lines when the table shows them, else in a box on top;
   * outdated ones in a block above that.
   * @param {HTMLElement} body the file body
   * @param {Comment[]} comments the file's threads
   * @param {number} columns columns of the diff table
   * @param {boolean} [since] the table shows the changes since a round: its old side is the code as it was then
   */
  place(body, comments, columns, since = false) {
    for (const old of body.querySelectorAll(":scope .thread-row, :scope > .file-threads")) old.remove();
    for (const cell of body.querySelectorAll("tr[data-keep] > td.thread-cell")) cell.setAttribute("colspan", String(columns));
    /** @type {HTMLElement[]} */
    const outdated = [];
    /** @type {HTMLElement[]} */
    const loose = [];
    /** @type {Map<Element, HTMLElement[]>} */
    const byRow = new Map();
    for (const comment of comments) {
      const row = comment.line == null ? null : this.rowFor(body, comment, since);
      const element = this.placed(comment, row !== null);
      if (comment.outdated && !row) {
        outdated.push(element);
        continue;
      }
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
    const boxes = [];
    if (outdated.length) {
      const label = `${outdated.length} outdated ${outdated.length === 1 ? "comment" : "comments"}`;
      boxes.push(h("div", { className: "file-threads file-threads-outdated", attrs: { role: "group", "aria-label": label } }, outdated));
    }
    if (loose.length) boxes.push(h("div", { className: "file-threads" }, loose));
    if (!boxes.length) return;
    const table = body.querySelector(":scope > .diff-wrap, :scope > .diff-placeholder, :scope > .file-message, :scope > .image-diff");
    if (table) table.before(...boxes);
    else body.append(...boxes);
  }

  /**
   * The table row a comment sits under (the last line of its range).
   * @private
   * @param {HTMLElement} body
   * @param {Comment} comment
   * @param {boolean} since the table shows the changes since a round
   * @returns {Element|null}
   */
  rowFor(body, comment, since) {
    const line = comment.end_line ?? comment.line;
    if (line == null) return null;
    if (comment.outdated) {
      // Its lines are gone from the file, but a view of the changes since a round shows them as they were then,
      // on the old side: there, when that row still reads as the thread quoted it.
      if (!since || comment.side === "old") return null;
      const row = body.querySelector(`tr[data-old="${line}"]`);
      const quoted = (comment.quoted ?? []).at(-1)?.trim();
      return row && (!quoted || (row.textContent ?? "").includes(quoted)) ? row : null;
    }
    return comment.side === "old" ? body.querySelector(`tr[data-old="${line}"]`) : body.querySelector(`tr[data-key="n${line}"]`);
  }
}
