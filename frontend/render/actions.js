// Clicks and submits inside the file list become `backloop:*` events for the app: one delegated listener for
// every file, row and thread, so re-rendering never needs to re-attach handlers.

/**
 * @param {HTMLElement} root
 * @param {string} name
 * @param {object} detail
 */
function emit(root, name, detail) {
  root.dispatchEvent(new CustomEvent(`backloop:${name}`, { detail, bubbles: true }));
}

/**
 * @param {HTMLElement} root the file list
 */
export function delegateActions(root) {
  root.addEventListener("click", (event) => {
    const control = /** @type {Element} */ (event.target).closest("button[data-action]");
    if (!(control instanceof HTMLButtonElement) || !root.contains(control)) return;
    const section = /** @type {HTMLElement|null} */ (control.closest("section.file"));
    const path = section?.dataset.path ?? "";
    const data = control.dataset;
    switch (data.action) {
      case "toggle":
        emit(root, "toggle-collapse", { path });
        break;
      case "expand":
        emit(root, "expand", { path, start: Number(data.start), end: Number(data.end) });
        break;
      case "load":
        emit(root, "load-file", { path });
        break;
      case "edit":
        emit(root, "edit-file", { path });
        break;
      case "comment":
        emit(root, "open-comment", {
          path,
          side: data.side === "old" ? "old" : "new",
          line: Number(data.line),
          row: control.closest("tr"),
          shift: event.shiftKey,
        });
        break;
      case "cancel-comment":
        emit(root, "cancel-comment", { form: control.closest("form") });
        break;
      case "resolve":
      case "edit-pending":
      case "delete-pending":
      case "cancel-edit-pending": {
        const thread = /** @type {HTMLElement|null} */ (control.closest("[data-comment-id]"));
        if (thread) emit(root, data.action, { commentId: thread.dataset.commentId });
        break;
      }
      default:
        break;
    }
  });
  root.addEventListener("submit", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    const text = form.querySelector("textarea");
    if (form.matches(".comment-form")) {
      event.preventDefault();
      // which button sent it: "single" or "review" (none from the keyboard: the form's default)
      const mode = event.submitter instanceof HTMLButtonElement ? event.submitter.value : "";
      emit(root, "submit-comment", { form, mode });
    } else if (form.matches(".pending-edit-form")) {
      event.preventDefault();
      const thread = /** @type {HTMLElement|null} */ (form.closest("[data-comment-id]"));
      emit(root, "save-pending", { form, commentId: thread?.dataset.commentId, body: text?.value ?? "" });
    } else if (form.matches(".reply-form")) {
      event.preventDefault();
      const thread = /** @type {HTMLElement|null} */ (form.closest("[data-comment-id]"));
      emit(root, "submit-reply", { form, commentId: thread?.dataset.commentId, body: text?.value ?? "" });
    }
  });
  root.addEventListener("change", (event) => {
    const box = event.target;
    if (!(box instanceof HTMLInputElement) || box.dataset.action !== "viewed") return;
    const section = /** @type {HTMLElement|null} */ (box.closest("section.file"));
    if (section) emit(root, "set-viewed", { path: section.dataset.path ?? "", viewed: box.checked });
  });
  // Ctrl/Cmd+Enter sends a comment or reply, as on GitHub; Escape leaves the edit of a pending comment.
  root.addEventListener("keydown", (event) => {
    const target = event.target;
    if (event.key === "Escape" && target instanceof HTMLTextAreaElement && target.form?.matches(".pending-edit-form")) {
      const thread = /** @type {HTMLElement|null} */ (target.closest("[data-comment-id]"));
      if (thread) emit(root, "cancel-edit-pending", { commentId: thread.dataset.commentId });
      return;
    }
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && target instanceof HTMLTextAreaElement) {
      const form = target.form;
      if (form?.matches(".comment-form, .reply-form, .pending-edit-form")) {
        event.preventDefault();
        form.requestSubmit();
      }
    }
  });
}
