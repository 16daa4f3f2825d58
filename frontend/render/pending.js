// A comment of the person's review that is not submitted yet: marked "Pending", with Edit and Delete instead of
// Reply and Resolve (the agent has not seen it), and edited in place. Its styles are in threads.css.
import { h, button } from "./dom.js";

/**
 * @typedef {import("../protocol.js").Comment} Comment
 */

/** @returns {HTMLElement} the "Pending" badge */
export const pendingBadge = () =>
  h("span", {
    className: "badge badge-pending",
    text: "Pending",
    attrs: { title: "Sent to the agent when you submit your review" },
  });

/** @returns {HTMLElement} the Edit and Delete buttons of a pending comment */
export function pendingActions() {
  return h("div", { className: "pending-actions" }, [
    button("Edit", { className: "btn btn-small", label: "Edit pending comment", data: { action: "edit-pending" } }),
    button("Delete", {
      className: "btn btn-small btn-danger",
      label: "Delete pending comment",
      data: { action: "delete-pending" },
    }),
  ]);
}

/**
 * The form that edits a pending comment's text in place.
 * @param {Comment} comment
 * @returns {HTMLFormElement}
 */
export function pendingEditForm(comment) {
  const text = h("textarea", {
    className: "input comment-input",
    attrs: { rows: "3", "aria-label": "Edit pending comment" },
  });
  text.value = comment.body;
  return h("form", { className: "pending-edit-form" }, [
    text,
    h("p", { className: "form-error", attrs: { role: "alert" }, hidden: true }),
    h("div", { className: "form-actions" }, [
      button("Cancel", { className: "btn", data: { action: "cancel-edit-pending" } }),
      h("button", { className: "btn btn-primary", text: "Save", attrs: { type: "submit" } }),
    ]),
  ]);
}
