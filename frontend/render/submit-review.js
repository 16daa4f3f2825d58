// "Submit review": the header button (with the number of pending comments) and its dialog, a summary and a choice
// of comment / request changes / approve. Submitting hands every pending comment and the summary to the agent as
// one batch. The dialog is a modal <dialog>: focus stays in it, Escape closes it, focus goes back to the button.
import { h, button } from "./dom.js";
import { formState } from "./comment-form.js";

/**
 * @typedef {import("../store.js").Store} Store
 * @typedef {import("../store.js").Change} Change
 * @typedef {import("../protocol.js").Verdict} Verdict
 * @typedef {import("./comment-form.js").Submit} Submit
 */

/** @type {Array<[Verdict, string, string]>} */
const VERDICTS = [
  ["comment", "Comment", "Send your comments and summary without a verdict."],
  ["request_changes", "Request changes", "The agent should change things before this is done."],
  ["approve", "Approve", "The agent is done once it has read your comments."],
];

/**
 * @param {number} count
 * @returns {string}
 */
const pendingText = (count) => `${count} pending ${count === 1 ? "comment" : "comments"}`;

export class SubmitReview {
  /**
   * @param {HTMLElement} root where the button goes (the header's toolbar)
   * @param {Store} store
   * @param {Submit} submit sends a message with a client_id (the outbox)
   */
  constructor(root, store, submit) {
    this.store = store;
    this.submit = submit;
    this.count = h("span", { className: "pending-count", hidden: true });
    this.opener = button("Submit review", { className: "btn btn-primary submit-review" });
    this.opener.append(this.count);
    this.opener.setAttribute("aria-haspopup", "dialog");
    this.summary = h("textarea", {
      className: "input",
      attrs: { id: "submit-review-summary", rows: "4", placeholder: "Leave a summary (Markdown)" },
    });
    this.note = h("p", { className: "submit-review-note" });
    const choices = VERDICTS.map(([value, label, help]) => {
      const id = `verdict-${value}`;
      const input = h("input", { attrs: { type: "radio", name: "verdict", value, id, "aria-describedby": `${id}-help` } });
      input.defaultChecked = value === "comment";
      return h("div", { className: "verdict-choice" }, [
        input,
        h("label", { text: label, attrs: { for: id } }),
        h("p", { className: "verdict-help", text: help, attrs: { id: `${id}-help` } }),
      ]);
    });
    this.form = h("form", { className: "submit-review-form" }, [
      h("h2", { text: "Submit review", attrs: { id: "submit-review-title" } }),
      this.note,
      h("label", { className: "submit-review-label", text: "Summary", attrs: { for: "submit-review-summary" } }),
      this.summary,
      h("fieldset", { className: "verdict-choices" }, [h("legend", { text: "Verdict" }), ...choices]),
      h("p", { className: "form-error", attrs: { role: "alert" }, hidden: true }),
      h("div", { className: "form-actions" }, [
        button("Cancel", { className: "btn", data: { action: "cancel" } }),
        h("button", { className: "btn btn-primary", text: "Submit review", attrs: { type: "submit" } }),
      ]),
    ]);
    this.dialog = h("dialog", { className: "submit-review-dialog", attrs: { "aria-labelledby": "submit-review-title" } }, [
      this.form,
    ]);
    root.append(this.opener, this.dialog);

    this.opener.addEventListener("click", () => this.open());
    this.form.querySelector("[data-action=cancel]")?.addEventListener("click", () => this.dialog.close());
    this.dialog.addEventListener("close", () => this.opener.focus());
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.send();
    });
    this.render();
  }

  /** @param {Change[]} changes */
  update(changes) {
    if (changes.some((change) => change.type === "comments")) this.render();
  }

  /** @private */
  open() {
    formState(this.form, false);
    this.render();
    this.dialog.showModal();
    this.summary.focus();
  }

  /** @private */
  send() {
    const checked = this.form.querySelector("input[name=verdict]:checked");
    const verdict = checked instanceof HTMLInputElement ? checked.value : "comment";
    const body = this.summary.value.trim();
    if (!body && verdict !== "approve" && !this.store.comments.pendingCount()) {
      formState(this.form, false, "Write a summary, or add review comments first.");
      return;
    }
    formState(this.form, true);
    this.submit({ type: "submit_review", body, verdict }, {
      onAck: () => {
        formState(this.form, false);
        this.form.reset();
        this.dialog.close();
      },
      onError: (error) => formState(this.form, false, error.message),
    });
  }

  /** @private the number of pending comments, on the button and in the dialog */
  render() {
    const count = this.store.comments.pendingCount();
    this.count.hidden = count === 0;
    this.count.textContent = String(count);
    this.opener.setAttribute("aria-label", count ? `Submit review, ${pendingText(count)}` : "Submit review");
    this.note.textContent = count
      ? `${pendingText(count)} will be sent to the agent with your review.`
      : "No pending comments: the summary goes to the agent on its own.";
  }
}
