// Page-level banners: the server's `notice` (cleared by level "ok") and `error` messages.
import { h, button } from "./dom.js";

/**
 * @typedef {import("../store.js").Store} Store
 * @typedef {import("../store.js").Change} Change
 */

export class Notices {
  /**
   * @param {HTMLElement} root
   * @param {Store} store
   */
  constructor(root, store) {
    this.store = store;
    this.notice = h("div", { className: "banner", attrs: { role: "status" }, hidden: true });
    this.errorText = h("span", { className: "banner-text" });
    const dismiss = button("\u00d7", { className: "banner-close", label: "Dismiss error" });
    this.error = h("div", { className: "banner banner-error", attrs: { role: "alert" }, hidden: true }, [
      this.errorText,
      dismiss,
    ]);
    dismiss.addEventListener("click", () => store.clearError());
    root.append(this.notice, this.error);
  }

  /** @param {Change[]} changes */
  update(changes) {
    for (const change of changes) {
      if (change.type === "notice") this.renderNotice();
      else if (change.type === "error") this.renderError();
    }
  }

  /** @private */
  renderNotice() {
    const notice = this.store.notice;
    this.notice.hidden = !notice;
    this.notice.className = `banner banner-${notice ? notice.level : "ok"}`;
    this.notice.textContent = notice ? notice.message : "";
  }

  /** @private */
  renderError() {
    const error = this.store.error;
    this.error.hidden = !error;
    this.errorText.textContent = error ? error.message : "";
    this.error.dataset.code = error ? error.code : "";
  }
}
