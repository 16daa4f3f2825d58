// The parts of the page its first paint does not need (extras.js: threads, comment forms, editor, verdict, the
// review's submission, suggestions and more): asked for once the first files are painted (or after two seconds,
// whatever happens), and asked for again after a reconnect if the server was gone by then. A control that needs
// them (a "+" clicked early) waits for them.
import { afterPaint } from "./render/dom.js";

/**
 * @typedef {import("./store.js").Change} Change
 * @typedef {import("./protocol.js").ServerMessage} ServerMessage
 * @typedef {import("./extras.js").Extras} Extras
 * @typedef {import("./extras.js").Page} Page
 */

/** The modules of extras.js, all asked for at once (one round trip instead of one per import level). */
const load = () =>
  Promise.all([
    import("./extras.js"),
    import("./render/threads.js"),
    import("./render/comment-form.js"),
    import("./render/editor.js"),
    import("./render/verdict.js"),
    import("./render/submit-review.js"),
    import("./render/pending.js"),
    import("./render/suggestion.js"),
    import("./render/suggestion-batch.js"),
    import("./render/copy-comments.js"),
    import("./suggestions.js"),
    import("./markdown.js"),
    import("./markdown-inline.js"),
  ]).then(([extras]) => extras);

export class ExtrasLoader {
  /** @param {Page} page */
  constructor(page) {
    this.page = page;
    /** @type {Extras|null} */
    this.extras = null;
    /** @type {Promise<Extras>|null} */
    this.loading = null;
    setTimeout(() => this.soon(), 2000);
  }

  /** @returns {Promise<Extras>} */
  ready() {
    this.loading ??= new Promise((resolve) => afterPaint(() => resolve(undefined)))
      .then(load)
      .then(
        ({ Extras }) => {
          this.extras = new Extras(this.page);
          return this.extras;
        },
        (error) => {
          this.loading = null; // the server went away meanwhile: the next render after a reconnect tries again
          throw error;
        },
      );
    return this.loading;
  }

  /**
   * Run `action` with the extras once they are in; say so if they cannot be loaded.
   * @param {(extras: Extras) => void} action
   */
  use(action) {
    this.ready().then(action, () =>
      this.page.showError({ code: "unavailable", message: "This part of the page could not be loaded: is the server running?" }),
    );
  }

  /** @private */
  soon() {
    this.ready().catch(() => undefined);
  }

  /** @param {Change[]} changes */
  update(changes) {
    if (this.extras) this.extras.update(changes);
    else if (this.page.store.loaded) this.soon();
  }

  /**
   * A server message for the extras (the editor's), if they are in.
   * @param {ServerMessage} message
   * @returns {boolean} whether it was one
   */
  handle(message) {
    return this.extras?.handle(message) ?? false;
  }
}
