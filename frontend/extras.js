// The parts of the review page its first paint does not need: comment threads (with Markdown and suggested
// changes), comment forms, the editor, "Copy comments" and the verdict buttons. extras-loader.js imports this right
// after the first files are painted: every module is one more request to the local server before the page can
// show a file.
import { Threads } from "./render/threads.js";
import { CommentForms, formState } from "./render/comment-form.js";
import { Editors } from "./render/editor.js";
import { Verdict } from "./render/verdict.js";
import { SubmitReview } from "./render/submit-review.js";
import { CLIENT } from "./protocol.js";
import { Suggestions } from "./render/suggestion.js";
import { CopyComments } from "./render/copy-comments.js";
import { currentLines } from "./suggestions.js";

/**
 * @typedef {import("./store.js").Store} Store
 * @typedef {import("./store.js").Change} Change
 * @typedef {import("./protocol.js").ServerMessage} ServerMessage
 * @typedef {import("./outbox.js").Outbox} Outbox
 * @typedef {import("./transport.js").Transport} Transport
 * @typedef {import("./render/files.js").FileList} FileList
 * @typedef {import("./render/selection.js").LineSelection} LineSelection
 *
 * @typedef {object} Page what app.js built already (handed over by extras-loader.js)
 * @property {Store} store
 * @property {FileList} files
 * @property {Transport} transport
 * @property {Outbox} outbox
 * @property {HTMLElement} actions the header's toolbar, for the verdict buttons, the batch of suggestions and
 *   "Copy comments"
 * @property {string} commentsUrl the review's open threads as Markdown
 * @property {HTMLElement} conversation review-level threads
 * @property {LineSelection} selection (loaded with the page: a drag over line numbers works from the start)
 * @property {(error: {code: string, message: string}) => void} showError
 */

/**
 * @param {string} name
 * @param {(detail: any) => void} handler
 */
function on(name, handler) {
  document.addEventListener(name, (event) => handler(/** @type {CustomEvent} */ (event).detail));
}

export class Extras {
  /** @param {Page} page */
  constructor(page) {
    const { store, files, outbox, showError } = page;
    this.page = page;
    /** @type {import("./render/comment-form.js").Submit} */
    const submit = (message, handlers) => outbox.submit(message, handlers);
    this.suggestions = new Suggestions({ store, submit, actions: page.actions });
    this.threads = new Threads({ decorate: (body, thread, entry) => this.suggestions.decorate(body, thread, entry) });
    this.forms = new CommentForms(page.selection, submit, () => store.comments.pendingCount() > 0, ({ path, start, end }) =>
      currentLines(store.files.get(path), store.ui.get(path)?.expanded ?? new Map(), start, end),
    );
    this.editors = new Editors({
      bodyFor: (path) => files.sectionFor(path)?.querySelector(".file-body") ?? null,
      send: (message) => page.transport.send(message),
      submit: (message, handlers) => outbox.submit(message, handlers),
    });
    this.copy = new CopyComments(page.actions, page.commentsUrl);
    this.verdict = new Verdict(page.actions, store);
    this.submitReview = new SubmitReview(page.actions, store, submit);
    files.attachThreads(this.threads);
    this.renderConversation();

    on("backloop:submit-comment", ({ form, mode }) => this.forms.send(form, mode));
    on("backloop:cancel-comment", ({ form }) => form && this.forms.close(form));
    on("backloop:submit-reply", ({ form, commentId, body }) => {
      if (!body.trim()) return;
      formState(form, true);
      outbox.submit(
        { type: "reply", comment_id: commentId, body },
        {
          onAck: () => {
            formState(form, false);
            form.reset();
          },
          onError: (error) => {
            formState(form, false);
            showError(error);
          },
        },
      );
    });
    on("backloop:resolve", ({ commentId }) => outbox.submit({ type: "resolve", comment_id: commentId }, { onError: showError }));
    on("backloop:edit-pending", ({ commentId }) => this.threads.startEdit(commentId));
    on("backloop:cancel-edit-pending", ({ commentId }) => this.threads.stopEdit(commentId));
    on("backloop:save-pending", ({ form, commentId, body }) => {
      if (!body.trim()) {
        formState(form, false, "Write something, or delete the comment.");
        return;
      }
      formState(form, true);
      outbox.submit(
        { type: CLIENT.EDIT_COMMENT, comment_id: commentId, body },
        { onAck: () => this.threads.stopEdit(commentId, body), onError: (error) => formState(form, false, error.message) },
      );
    });
    on("backloop:delete-pending", ({ commentId }) =>
      outbox.submit({ type: CLIENT.DELETE_COMMENT, comment_id: commentId }, { onError: showError }),
    );
    on("backloop:approve", () => outbox.submit({ type: "approve", body: "" }, { onError: showError }));
    on("backloop:request-changes", ({ body, form }) =>
      outbox.submit(
        { type: "request_changes", body },
        { onAck: () => this.verdict.requested(), onError: (error) => formState(form, false, error.message) },
      ),
    );
  }

  /** @param {Change[]} changes */
  update(changes) {
    this.verdict.update(changes);
    this.submitReview.update(changes);
    if (changes.some((change) => change.type === "comments")) this.forms.relabel();
    this.suggestions.update(changes);
    if (changes.some((change) => change.type === "comments" && change.paths.includes(null))) this.renderConversation();
  }

  /**
   * A server message for the editor (`file_content`, or an `error` answering its `open_file`).
   * @param {ServerMessage} message
   * @returns {boolean} whether it was one
   */
  handle(message) {
    if (message.type === "file_content") {
      this.editors.onContent(message);
      return true;
    }
    return message.type === "error" && this.editors.onError(message);
  }

  /** The review-level threads (a request for changes, a note with the approval). */
  renderConversation() {
    const comments = this.page.store.comments.on(null);
    this.page.conversation.replaceChildren(...comments.map((comment) => this.threads.element(comment)));
    this.page.conversation.hidden = comments.length === 0;
  }
}
