// "Copy comments": every open thread of the review as Markdown (the server's comments.md: file:line, the quoted code,
// the thread), put on the clipboard for an agent that is not connected over MCP. Where the Clipboard API is not
// there (or is refused), a dialog shows the text selected, to copy by hand.
import { h, button } from "./dom.js";

/** How long the confirmation stays, in ms. */
const CONFIRMATION_MS = 4000;

export class CopyComments {
  /**
   * @param {HTMLElement} root where the control goes (the header's toolbar)
   * @param {string} url of the review's comments.md
   */
  constructor(root, url) {
    this.url = url;
    this.button = button("Copy comments", {
      className: "btn",
      title: "Copy every open thread as Markdown, to paste to an agent",
    });
    this.status = h("span", { className: "copy-status", attrs: { role: "status" } });
    /** @type {ReturnType<typeof setTimeout>|undefined} */
    this.timer = undefined;
    this.text = h("textarea", {
      className: "input copy-text",
      attrs: { readonly: "", rows: "14", spellcheck: "false", "aria-label": "The open threads as Markdown" },
    });
    const close = button("Close", { className: "btn" });
    this.dialog = h("dialog", { className: "copy-dialog", attrs: { "aria-labelledby": "copy-dialog-title" } }, [
      h("h2", { className: "copy-dialog-title", text: "Copy the open threads", attrs: { id: "copy-dialog-title" } }),
      h("p", { className: "copy-dialog-hint", text: "The text is selected: copy it (Ctrl+C or \u2318C) and paste it to the agent." }),
      this.text,
      h("div", { className: "form-actions" }, [close]),
    ]);
    close.addEventListener("click", () => this.dialog.close());
    // (a modal <dialog> closes on Escape; focus goes back to the button, where the person was)
    this.dialog.addEventListener("close", () => this.button.focus());
    this.busy = false;
    root.append(h("div", { className: "copy-comments" }, [this.button, this.status]), this.dialog);
    this.button.addEventListener("click", () => this.copy());
  }

  /** @private */
  async copy() {
    // (not disabled meanwhile: a disabled button would lose the keyboard focus)
    if (this.busy) return;
    this.busy = true;
    try {
      const response = await fetch(this.url, { cache: "no-store", headers: { accept: "text/markdown" } });
      if (!response.ok) throw new Error(`the server answered ${response.status}`);
      const text = await response.text();
      if (await this.write(text)) this.say(`Copied ${this.threads(text)} as Markdown.`);
      else this.showDialog(text);
    } catch (error) {
      this.say(`Could not copy the comments: ${error instanceof Error ? error.message : String(error)}`, true);
    } finally {
      this.busy = false;
    }
  }

  /**
   * @private
   * @param {string} text
   * @returns {Promise<boolean>} whether the clipboard took it
   */
  async write(text) {
    if (!navigator.clipboard?.writeText) return false;
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * "3 open threads", from the document's own count line.
   * @private
   * @param {string} text
   * @returns {string}
   */
  threads(text) {
    return /^(\d+ open threads?) on /m.exec(text)?.[1] ?? "the open threads";
  }

  /**
   * @private
   * @param {string} text
   */
  showDialog(text) {
    this.text.value = text;
    this.dialog.showModal();
    this.text.focus();
    this.text.select();
    this.text.scrollTop = 0;
  }

  /**
   * @private
   * @param {string} words
   * @param {boolean} [lasting] stays until the next copy (a failure), instead of fading after a while
   */
  say(words, lasting = false) {
    clearTimeout(this.timer);
    this.status.textContent = words;
    if (!lasting) this.timer = setTimeout(() => (this.status.textContent = ""), CONFIRMATION_MS);
  }
}
