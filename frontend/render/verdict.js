// The review's verdict controls: approve, or request changes with a summary. Both reach the agent. While the
// person has a review started (pending comments), the verdict is given with it ("Submit review"): these hide.
import { h, button } from "./dom.js";
import { formState } from "./comment-form.js";

/**
 * @typedef {import("../store.js").Store} Store
 * @typedef {import("../store.js").Change} Change
 */

export class Verdict {
  /**
   * @param {HTMLElement} root where the buttons go (in the header's toolbar)
   * @param {Store} store
   */
  constructor(root, store) {
    this.store = store;
    this.approve = button("Approve", { className: "btn btn-primary", title: "Approve: the agent is done" });
    this.requestChanges = button("Request changes", { className: "btn" });
    this.requestChanges.setAttribute("aria-expanded", "false");
    this.summary = h("textarea", {
      className: "input",
      attrs: { rows: "3", "aria-label": "Summary of the changes to make", placeholder: "What should change?" },
    });
    this.form = h("form", { className: "verdict-form", hidden: true }, [
      this.summary,
      h("p", { className: "form-error", attrs: { role: "alert" }, hidden: true }),
      h("div", { className: "form-actions" }, [
        button("Cancel", { className: "btn", data: { action: "cancel" } }),
        h("button", { className: "btn btn-danger", text: "Send request", attrs: { type: "submit" } }),
      ]),
    ]);
    this.form.dataset.keep = "";
    root.append(h("div", { className: "verdict" }, [this.requestChanges, this.approve, this.form]));

    this.approve.addEventListener("click", () => this.emit("approve", {}));
    this.requestChanges.addEventListener("click", () => this.toggleForm(this.form.hidden));
    this.form.querySelector("[data-action=cancel]")?.addEventListener("click", () => this.toggleForm(false));
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      const body = this.summary.value.trim();
      if (!body) {
        formState(this.form, false, "Say what should change.");
        return;
      }
      formState(this.form, true);
      this.emit("request-changes", { body, form: this.form });
    });
    this.render();
  }

  /** @param {Change[]} changes */
  update(changes) {
    if (changes.some((change) => change.type === "review" || change.type === "comments")) this.render();
  }

  /** The request went through: clear and close the form. */
  requested() {
    formState(this.form, false);
    this.summary.value = "";
    this.toggleForm(false);
  }

  /** @private */
  render() {
    const state = this.store.review?.state ?? "open";
    this.approve.disabled = state === "approved";
    this.approve.textContent = state === "approved" ? "Approved" : "Approve";
    const reviewing = this.store.comments.pendingCount() > 0;
    this.approve.hidden = reviewing;
    this.requestChanges.hidden = reviewing;
    if (reviewing && !this.form.hidden) this.toggleForm(false);
  }

  /**
   * @private
   * @param {boolean} open
   */
  toggleForm(open) {
    this.form.hidden = !open;
    this.requestChanges.setAttribute("aria-expanded", String(open));
    if (open) this.summary.focus();
  }

  /**
   * @private
   * @param {string} name
   * @param {object} detail
   */
  emit(name, detail) {
    this.approve.dispatchEvent(new CustomEvent(`backloop:${name}`, { detail, bubbles: true }));
  }
}
