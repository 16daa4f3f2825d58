// The banner for a server that is gone: when the websocket has not been open for a while (it keeps retrying in
// the background), say what probably happened and what to do. It goes away by itself once the socket reopens.
import { h, button } from "./dom.js";

/**
 * @typedef {import("../store.js").Store} Store
 * @typedef {import("../store.js").Change} Change
 */

/** How long the socket may be down before the banner shows, in ms. */
export const GONE_AFTER_MS = 10_000;

export class OfflineBanner {
  /**
   * @param {HTMLElement} root the banner area
   * @param {Store} store
   * @param {string} address host:port the page was loaded from
   */
  constructor(root, store, address) {
    this.store = store;
    /** @type {ReturnType<typeof setTimeout>|undefined} */
    this.timer = undefined;
    const retry = button("Retry now", { className: "btn btn-small", data: { action: "retry" } });
    const command = (/** @type {string} */ text) => h("code", { text });
    this.element = h("div", { className: "banner banner-error banner-offline", attrs: { role: "alert" }, hidden: true }, [
      h("div", { className: "banner-text" }, [
        h("strong", { text: `The backloop server is not running at ${address}.` }),
        " If backloop was restarted, it may be listening on another port: ask the agent for the review URL again (it calls ",
        command("startreview"),
        "), or run ",
        command("backloop server"),
        " in the repository. This page keeps trying to reconnect.",
      ]),
      retry,
    ]);
    retry.addEventListener("click", () => {
      retry.dispatchEvent(new CustomEvent("backloop:retry-now", { detail: {}, bubbles: true }));
    });
    root.append(this.element);
    this.render();
  }

  /** @param {Change[]} changes */
  update(changes) {
    if (changes.some((change) => change.type === "connection")) this.render();
  }

  /** @private */
  render() {
    if (this.store.connection === "open") {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.element.hidden = true;
      return;
    }
    if (this.timer === undefined && this.element.hidden) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        if (this.store.connection !== "open") this.element.hidden = false;
      }, GONE_AFTER_MS);
    }
  }
}
