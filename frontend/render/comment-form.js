// New-comment forms under diff lines: one line, or a range of lines on one side (from a drag or a shift-click,
// see selection.js). A form row is marked data-keep, so it survives re-renders of its file. A comment goes to the
// agent at once ("Add single comment"), or is held in the person's review until they submit it ("Start a review",
// then "Add review comment"); from the keyboard (Ctrl+Enter), the second once a review is started.
import { h, button } from "./dom.js";
import { suggestionBlock } from "../suggestions.js";

/**
 * @typedef {import("./selection.js").LineSelection} LineSelection
 * @typedef {import("./selection.js").Range} Range
 * @typedef {{onAck?: (id: string) => void, onError?: (error: {code: string, message: string}) => void}} Handlers
 * @typedef {(message: Record<string, unknown> & {type: string}, handlers: Handlers) => void} Submit
 * @typedef {(range: Range) => string[]|null} LinesOf the text of a range's lines now, when the page has it all
 */

/**
 * "line 5", "lines 5–7", "old line 3".
 * @param {"old"|"new"|undefined} side
 * @param {number} line
 * @param {number|null|undefined} end
 * @returns {string}
 */
export function rangeText(side, line, end) {
  const prefix = side === "old" ? "old " : "";
  return end != null && end !== line ? `${prefix}lines ${line}\u2013${end}` : `${prefix}line ${line}`;
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

/**
 * The label of the button that holds a comment in the person's review.
 * @param {boolean} reviewing a review is started (it has pending comments)
 * @returns {string}
 */
export const reviewLabel = (reviewing) => (reviewing ? "Add review comment" : "Start a review");

/**
 * A new-comment form as a table row.
 * @param {Range & {key: string, columns: number}} where
 * @param {boolean} reviewing a review is started
 * @returns {HTMLTableRowElement}
 */
export function commentFormRow(where, reviewing) {
  const text = h("textarea", {
    className: "input comment-input",
    attrs: { rows: "3", placeholder: "Leave a comment (Markdown)", "aria-label": "Comment" },
  });
  const error = h("p", { className: "form-error", attrs: { role: "alert" }, hidden: true });
  const label = `Comment on ${rangeText(where.side, where.start, where.end)}`;
  const form = h("form", { className: "comment-form" }, [
    h("div", { className: "thread-where", text: label }),
    text,
    error,
    h("div", { className: "form-actions" }, [
      // (suggestions replace lines of the new side: the server takes them there only)
      where.side === "new"
        ? button("Suggest a change", { className: "btn form-suggest", title: "Propose new text for these lines", data: { action: "suggest-change" } })
        : null,
      button("Cancel", { className: "btn", data: { action: "cancel-comment" } }),
      h("button", { className: "btn", text: "Add single comment", attrs: { type: "submit", value: "single" } }),
      h("button", { className: "btn btn-primary", text: reviewLabel(reviewing), attrs: { type: "submit", value: "review" } }),
    ]),
  ]);
  Object.assign(form.dataset, { path: where.path, side: where.side, line: String(where.start) });
  if (where.end !== where.start) form.dataset.endLine = String(where.end);
  const row = h("tr", { className: "comment-form-row" }, [
    h("td", { className: "thread-cell", attrs: { colspan: String(where.columns) } }, [form]),
  ]);
  row.dataset.keep = "";
  row.dataset.keepAnchor = where.key;
  return row;
}

/**
 * The range a form is for.
 * @param {HTMLFormElement} form
 * @returns {Range}
 */
function formRange(form) {
  const start = Number(form.dataset.line);
  const side = form.dataset.side === "old" ? "old" : "new";
  return { path: form.dataset.path ?? "", side, start, end: form.dataset.endLine ? Number(form.dataset.endLine) : start };
}

export class CommentForms {
  /**
   * @param {LineSelection} selection
   * @param {Submit} submit sends a message with a client_id (the outbox)
   * @param {() => boolean} reviewing whether a review is started (has pending comments)
   * @param {LinesOf} [linesOf] for "Suggest a change"
   */
  constructor(selection, submit, reviewing, linesOf = () => null) {
    this.selection = selection;
    this.submit = submit;
    this.reviewing = reviewing;
    this.linesOf = linesOf;
  }

  /** A review was started or submitted: the open forms say what their button does now. */
  relabel() {
    const label = reviewLabel(this.reviewing());
    for (const control of document.querySelectorAll("form.comment-form button[value=review]")) {
      if (control.textContent !== label) control.textContent = label;
    }
  }

  /**
   * A line's "+" button was clicked; with shift, the range from the line selected before.
   * @param {{path: string, side: "old"|"new", line: number, row: HTMLTableRowElement, shift?: boolean}} click
   */
  click({ path, side, line, row, shift }) {
    const range = shift ? this.selection.extend(path, side, line) : null;
    if (range) this.open(range, this.selection.rowFor(row, range) ?? row);
    else {
      this.selection.set({ path, side, start: line, end: line });
      this.open({ path, side, start: line, end: line }, row);
    }
  }

  /**
   * Open (or focus) the form for a range, under the row of its last line. Empty forms inside the range (say,
   * the one-line form the shift-click extended) give way to it, and hand over any text typed in them.
   * @param {Range} range
   * @param {HTMLTableRowElement} row the row of the range's last line
   */
  open(range, row) {
    const body = row.closest(".file-body");
    if (!body) return;
    let carried = "";
    for (const form of /** @type {NodeListOf<HTMLFormElement>} */ (body.querySelectorAll("form.comment-form"))) {
      const other = formRange(form);
      if (other.side !== range.side || other.path !== range.path) continue;
      const text = form.querySelector("textarea");
      if (other.start === range.start && other.end === range.end) {
        text?.focus();
        return;
      }
      if (other.start >= range.start && other.end <= range.end && !form.querySelector("textarea:disabled")) {
        if (text && !carried) carried = text.value;
        form.closest("tr")?.remove();
      }
    }
    let anchor = row;
    while (anchor.nextElementSibling?.matches(".thread-row")) anchor = /** @type {HTMLTableRowElement} */ (anchor.nextElementSibling);
    const columns = row.closest("table")?.classList.contains("diff-split") ? 4 : 3;
    const form = commentFormRow({ ...range, key: row.dataset.key ?? "", columns }, this.reviewing());
    anchor.after(form);
    form.querySelector("[data-action=suggest-change]")?.addEventListener("click", (event) => {
      const control = /** @type {HTMLButtonElement} */ (event.currentTarget);
      if (control.form) this.suggest(control.form);
    });
    const text = form.querySelector("textarea");
    if (text) {
      text.value = carried;
      text.focus();
    }
  }

  /**
   * Insert a suggestion block at the cursor, prefilled with the lines' current text, which is left selected to be
   * rewritten.
   * @param {HTMLFormElement} form
   */
  suggest(form) {
    const text = form.querySelector("textarea");
    const lines = this.linesOf(formRange(form));
    if (!text) return;
    if (!lines) {
      formState(form, false, "The text of these lines is not all in the page: expand them first.");
      return;
    }
    const before = text.value.slice(0, text.selectionStart);
    const after = text.value.slice(text.selectionEnd);
    const lead = before && !before.endsWith("\n") ? "\n" : "";
    const block = suggestionBlock(lines);
    const opening = block.indexOf("\n") + 1;
    text.value = `${before}${lead}${block}${after}`;
    const start = before.length + lead.length + opening;
    text.rows = Math.max(text.rows, Math.min(text.value.split("\n").length + 1, 16));
    text.focus();
    text.setSelectionRange(start, start + lines.join("\n").length);
  }

  /**
   * Send a form's comment: at once ("single"), or held in the review ("review"; by default once it is started).
   * @param {HTMLFormElement} form
   * @param {string} [mode] the button it was sent with
   */
  send(form, mode = "") {
    const range = formRange(form);
    const body = form.querySelector("textarea")?.value ?? "";
    if (!body.trim()) {
      formState(form, false, "Write something first.");
      return;
    }
    formState(form, true);
    /** @type {Record<string, unknown> & {type: string}} */
    const message = { type: "comment", path: range.path, side: range.side, line: range.start, body };
    if (range.end !== range.start) message.end_line = range.end;
    if (mode === "review" || (!mode && this.reviewing())) message.pending = true;
    this.submit(message, {
      onAck: () => this.close(form),
      onError: (error) => formState(form, false, error.message),
    });
  }

  /**
   * Remove a form (cancelled, or sent) and the highlight of its lines.
   * @param {HTMLFormElement} form
   */
  close(form) {
    this.selection.clear(formRange(form));
    form.closest("tr")?.remove();
  }
}
