// Suggested changes in threads: the ```suggestion block of a comment or reply (found as the server finds it,
// suggestions.js) shown as the change it proposes, the thread's quoted lines removed and the block's lines added.
// In live views each can be applied at once or added to a batch that the header's "Apply N suggestions" applies in
// one message (suggestion-batch.js). What was applied says "Applied" (the thread's `applied`); a refusal is said
// in words where it was asked for, and nothing else changes: the server checks every suggestion before it writes.
import { h, button } from "./dom.js";
import { rangeText } from "./comment-form.js";
import { SuggestionBatch, counted } from "./suggestion-batch.js";
import { suggestedLines } from "../suggestions.js";

/**
 * @typedef {import("../protocol.js").Comment} Comment
 * @typedef {import("../store.js").Store} Store
 * @typedef {import("../store.js").Change} Change
 * @typedef {{onAck?: (id: string) => void, onError?: (error: {code: string, message: string}) => void}} Handlers
 * @typedef {(message: Record<string, unknown> & {type: string}, handlers: Handlers) => void} Submit
 * @typedef {{thread: Comment, view: HTMLElement, controls: HTMLElement, status: HTMLElement}} Shown
 */

/**
 * Whether a thread's suggestions can be applied at all: the server takes them on lines of the new side only.
 * @param {Comment} thread
 * @returns {boolean}
 */
const onNewLines = (thread) => thread.path != null && thread.line != null && (thread.side ?? "new") === "new";

/**
 * A refusal in words.
 * @param {{code: string, message: string}} error
 * @returns {string}
 */
function refusal(error) {
  if (error.code === "edit_conflict") {
    return "Not applied: the file changed on disk while it was being written, and nothing was written. Try again.";
  }
  if (error.code === "not_live") return "Not applied: suggestions are applied in a live view of the work tree.";
  return `Not applied: ${error.message}`;
}

/**
 * The proposed change as a small diff (<del> and <ins> lines, which assistive technology can announce as such).
 * @param {string[]} removed
 * @param {string[]} added
 * @returns {HTMLElement}
 */
function diffOf(removed, added) {
  const lines = [
    ...removed.map((text) => h("del", { className: "suggestion-line suggestion-del", text })),
    ...added.map((text) => h("ins", { className: "suggestion-line suggestion-add", text })),
  ];
  if (!added.length) lines.push(h("div", { className: "suggestion-note", text: "(the suggestion deletes these lines)" }));
  return h("div", { className: "suggestion-diff" }, lines);
}

export class Suggestions {
  /**
   * @param {{store: Store, submit: Submit, actions: HTMLElement}} page the header's toolbar takes the batch control
   */
  constructor({ store, submit, actions }) {
    this.store = store;
    this.submit = submit;
    /** @type {Set<string>} ids of comments or replies in the batch, in the order they were added */
    this.batch = new Set();
    /** @type {Set<string>} ids on their way to the server */
    this.busy = new Set();
    /** @type {Set<string>} ids the server acknowledged as applied (before the thread itself says so) */
    this.done = new Set();
    /** @type {Map<string, string>} why an id was not applied */
    this.errors = new Map();
    /** @type {Map<string, Shown>} the suggestion shown for each id */
    this.shown = new Map();
    this.bar = new SuggestionBatch(actions, {
      apply: () => this.apply([...this.batch], true),
      clear: () => {
        const ids = [...this.batch];
        this.batch.clear();
        this.bar.say("");
        this.refresh(ids);
      },
    });
  }

  /**
   * The hook of threads.js, for each message rendered: a body holding a suggestion block on lines of the new side
   * shows it as a change (in place of its code block, when Markdown saw the same block).
   * @param {HTMLElement} body the message's rendered Markdown
   * @param {Comment} thread
   * @param {{id: string, body: string}} entry the thread's comment or one of its replies
   */
  decorate(body, thread, entry) {
    const lines = suggestedLines(entry.body);
    if (lines === null || !onNewLines(thread)) return;
    const controls = h("div", { className: "suggestion-controls" });
    const status = h("p", { className: "suggestion-status", attrs: { role: "alert" }, hidden: true });
    const where = rangeText("new", thread.line ?? 0, thread.end_line);
    const view = h("div", { className: "suggestion", attrs: { role: "group", "aria-label": `Suggested change of ${where}` } }, [
      h("div", { className: "suggestion-head" }, [h("span", { className: "suggestion-title", text: "Suggested change" }), controls]),
      diffOf(thread.quoted ?? [], lines),
      status,
    ]);
    view.dataset.suggestionId = entry.id;
    view.tabIndex = -1;
    const block = body.querySelector(':scope > pre[data-lang="suggestion"]');
    if (block && block.textContent === lines.join("\n")) block.replaceWith(view);
    else body.append(view);
    // (a thread is rendered again when it changes: the keyboard focus moves on to the new controls)
    const focused = this.focusedIn(this.shown.get(entry.id)?.view);
    this.shown.set(entry.id, { thread, view, controls, status });
    this.paint(entry.id);
    if (focused !== null) queueMicrotask(() => this.focus(entry.id, focused));
  }

  /** @param {Change[]} changes */
  update(changes) {
    if (!changes.some((change) => change.type === "comments")) return;
    // A suggestion applied meanwhile (here or in another tab) or gone with its thread leaves the batch.
    for (const id of [...this.batch]) {
      const thread = this.threadOf(id);
      if (!thread || this.applied(thread, id)) this.batch.delete(id);
    }
    this.paintBatch();
  }

  /**
   * Send one message applying `ids` (one suggestion, or the batch).
   * @private
   * @param {string[]} ids
   * @param {boolean} batch
   */
  apply(ids, batch) {
    if (!ids.length || ids.some((id) => this.busy.has(id))) return;
    for (const id of ids) {
      this.busy.add(id);
      this.errors.delete(id);
    }
    if (batch) this.bar.say(`Applying ${counted(ids.length)}\u2026`);
    this.refresh(ids);
    this.submit(
      { type: "apply_suggestions", ids },
      {
        onAck: () => {
          for (const id of ids) {
            this.busy.delete(id);
            this.done.add(id);
            this.batch.delete(id);
          }
          if (batch) this.bar.say(`${counted(ids.length)} applied.`);
          this.refresh(ids);
        },
        onError: (error) => {
          const words = refusal(error);
          for (const id of ids) {
            this.busy.delete(id);
            this.errors.set(id, batch && ids.length > 1 ? `${words} (with the batch of ${ids.length})` : words);
          }
          if (batch) this.bar.say(words);
          this.refresh(ids);
          // (an outdated or resolved thread is folded: unfold it, so that the refusal is seen where it belongs)
          for (const id of ids) {
            const fold = this.shown.get(id)?.status.closest("details");
            if (fold) fold.open = true;
          }
        },
      },
    );
  }

  /**
   * @private
   * @param {string[]} ids
   */
  refresh(ids) {
    for (const id of ids) this.paint(id);
    this.paintBatch();
  }

  /**
   * The controls and status of one shown suggestion, for its state now.
   * @private
   * @param {string} id
   */
  paint(id) {
    const shown = this.shown.get(id);
    if (!shown) return;
    const { thread, controls, status } = shown;
    const focused = this.focusedIn(controls);
    const error = this.errors.get(id) ?? "";
    status.textContent = error;
    status.hidden = !error;
    if (this.applied(thread, id)) {
      controls.replaceChildren(h("span", { className: "badge badge-applied", text: "Applied" }));
      if (focused !== null) this.focus(id, focused);
      return;
    }
    if (!this.store.review?.view.live) {
      controls.replaceChildren(h("span", { className: "suggestion-hint", text: "Can be applied in a live view" }));
      return;
    }
    const busy = this.busy.has(id);
    const batched = this.batch.has(id);
    /** @type {HTMLElement[]} */
    const parts = [];
    if (thread.outdated) {
      parts.push(h("span", { className: "suggestion-hint", text: "Its lines have changed since: it cannot be applied" }));
    } else {
      const apply = button(busy ? "Applying\u2026" : "Apply suggestion", {
        className: "btn btn-small btn-primary",
        data: { control: "apply" },
      });
      apply.disabled = busy;
      apply.addEventListener("click", () => this.apply([id], false));
      parts.push(apply);
    }
    if (batched || !thread.outdated) {
      const toggle = button(batched ? "Remove from batch" : "Add to batch", {
        className: "btn btn-small",
        data: { control: "batch" },
      });
      toggle.disabled = busy;
      toggle.addEventListener("click", () => {
        if (this.batch.has(id)) this.batch.delete(id);
        else this.batch.add(id);
        this.bar.say("");
        this.refresh([id]);
      });
      parts.push(toggle);
    }
    controls.replaceChildren(...parts);
    if (focused !== null) this.focus(id, focused);
  }

  /**
   * Which control has the keyboard focus inside `element` ("" for another element there), or null.
   * @private
   * @param {HTMLElement|undefined} element
   * @returns {string|null}
   */
  focusedIn(element) {
    const active = document.activeElement;
    if (!element || !(active instanceof HTMLElement) || !element.contains(active)) return null;
    return active.dataset.control ?? "";
  }

  /**
   * Keep the keyboard focus on a suggestion whose controls were rebuilt: on the same control if it is still
   * there, else on its first enabled button, else on the suggestion itself.
   * @private
   * @param {string} id
   * @param {string} control
   */
  focus(id, control) {
    const shown = this.shown.get(id);
    if (!shown?.view.isConnected) return;
    const target =
      (control && shown.controls.querySelector(`button[data-control="${control}"]:enabled`)) ||
      shown.controls.querySelector("button:enabled") ||
      shown.view;
    /** @type {HTMLElement} */ (target).focus({ preventScroll: true });
  }

  /** @private */
  paintBatch() {
    this.bar.render(this.batch.size, [...this.batch].some((id) => this.busy.has(id)));
  }

  /**
   * @private
   * @param {Comment} thread
   * @param {string} id
   * @returns {boolean}
   */
  applied(thread, id) {
    return this.done.has(id) || (thread.applied ?? []).includes(id);
  }

  /**
   * The thread holding a comment or reply.
   * @private
   * @param {string} id
   * @returns {Comment|null}
   */
  threadOf(id) {
    for (const thread of this.store.comments.byId.values()) {
      if (thread.id === id || (thread.replies ?? []).some((reply) => reply.id === id)) return thread;
    }
    return null;
  }
}
