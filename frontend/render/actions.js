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
      case "resolve": {
        const thread = /** @type {HTMLElement|null} */ (control.closest("[data-comment-id]"));
        if (thread) emit(root, "resolve", { commentId: thread.dataset.commentId });
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
      emit(root, "submit-comment", { form });
    } else if (form.matches(".reply-form")) {
      event.preventDefault();
      const thread = /** @type {HTMLElement|null} */ (form.closest("[data-comment-id]"));
      emit(root, "submit-reply", { form, commentId: thread?.dataset.commentId, body: text?.value ?? "" });
    }
  });
  // Ctrl/Cmd+Enter sends a comment or reply, as on GitHub.
  root.addEventListener("keydown", (event) => {
    const target = event.target;
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && target instanceof HTMLTextAreaElement) {
      const form = target.form;
      if (form && (form.matches(".comment-form") || form.matches(".reply-form"))) {
        event.preventDefault();
        form.requestSubmit();
      }
    }
  });
}
