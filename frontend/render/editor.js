// Editing a work-tree file from the page (live views): `open_file` fetches its text and hash, `edit` saves it
// against that hash. The panel is marked data-keep, so live updates of the file leave it (and the text) alone.
import { h, button } from "./dom.js";

/**
 * @typedef {import("../protocol.js").ClientMessage} ClientMessage
 * @typedef {{panel: HTMLElement, text: HTMLTextAreaElement, status: HTMLElement, save: HTMLButtonElement,
 *   hash: string|null, requestId: string}} Panel
 * @typedef {object} EditorHooks
 * @property {(path: string) => HTMLElement|null} bodyFor the body element of a file's section
 * @property {(message: ClientMessage) => void} send
 * @property {(message: {type: "edit", path: string, base_hash: string, content: string},
 *   handlers: {onAck: () => void, onError: (error: {code: string, message: string}) => void}) => void} submit
 */

export class Editors {
  /** @param {EditorHooks} hooks */
  constructor(hooks) {
    this.hooks = hooks;
    /** @type {Map<string, Panel>} */
    this.panels = new Map();
    this.nextRequest = 1;
  }

  /**
   * Open the editor of a file (or focus it when it is open already).
   * @param {string} path
   */
  open(path) {
    const existing = this.panels.get(path);
    if (existing && existing.panel.isConnected) {
      existing.text.focus();
      return;
    }
    const body = this.hooks.bodyFor(path);
    if (!body) return;
    const text = h("textarea", {
      className: "input editor-text",
      attrs: { "aria-label": `Edit ${path}`, spellcheck: "false", rows: "16" },
    });
    const status = h("p", { className: "editor-status", attrs: { role: "status" }, text: "Loading\u2026" });
    const save = h("button", { className: "btn btn-primary", text: "Save", attrs: { type: "submit" } });
    save.disabled = true;
    const cancel = button("Cancel", { className: "btn" });
    // The text box joins the form with the file's text: an empty box is never there to be typed in, or read.
    const form = h("form", { className: "editor" }, [
      h("div", { className: "editor-head" }, [h("strong", { text: `Editing ${path}` }), status]),
      h("div", { className: "form-actions" }, [cancel, save]),
    ]);
    form.dataset.keep = "";
    form.dataset.keepAnchor = "top";
    const requestId = `e${this.nextRequest++}`;
    const panel = { panel: form, text, status, save, hash: null, requestId };
    this.panels.set(path, panel);
    cancel.addEventListener("click", () => this.close(path));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.save(path);
    });
    body.prepend(form);
    this.hooks.send({ type: "open_file", request_id: requestId, path });
  }

  /**
   * A `file_content` reply: fill the editor that asked for it.
   * @param {{request_id: string, path: string, content: string, hash: string}} message
   */
  onContent(message) {
    const panel = this.panels.get(message.path);
    if (!panel || panel.requestId !== message.request_id) return;
    panel.text.value = message.content;
    panel.hash = message.hash;
    panel.save.closest(".form-actions")?.before(panel.text);
    panel.save.disabled = false;
    panel.status.textContent = "";
    panel.text.focus({ preventScroll: true });
  }

  /**
   * An `error` answering this editor's `open_file` (matched by request_id): show it in the panel, not in the
   * page banner. Returns whether the error was one of ours.
   * @param {{request_id?: string|null, code: string, message: string}} error
   * @returns {boolean}
   */
  onError(error) {
    if (!error.request_id) return false;
    for (const [path, panel] of this.panels) {
      if (panel.requestId !== error.request_id) continue;
      panel.status.textContent =
        error.code === "edit_refused" || error.code === "not_live"
          ? `${path} cannot be edited here: ${error.message}`
          : `Could not open ${path}: ${error.message}`;
      panel.status.classList.add("editor-error");
      panel.status.setAttribute("role", "alert");
      panel.save.disabled = true;
      return true;
    }
    return false;
  }

  /**
   * @private
   * @param {string} path
   */
  save(path) {
    const panel = this.panels.get(path);
    if (!panel || panel.hash === null) return;
    panel.save.disabled = true;
    panel.text.readOnly = true;
    panel.status.textContent = "Saving\u2026";
    this.hooks.submit(
      { type: "edit", path, base_hash: panel.hash, content: panel.text.value },
      {
        onAck: () => this.close(path),
        onError: (error) => {
          panel.save.disabled = error.code === "edit_conflict";
          panel.text.readOnly = false;
          panel.status.textContent =
            error.code === "edit_conflict"
              ? `${path} changed since you opened it: nothing was saved. Copy your text, cancel and edit again.`
              : error.message;
          panel.status.classList.add("editor-error");
        },
      },
    );
  }

  /**
   * @param {string} path
   */
  close(path) {
    this.panels.get(path)?.panel.remove();
    this.panels.delete(path);
  }
}
