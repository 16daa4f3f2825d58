// Narrow windows (a review beside a terminal on a laptop): below NARROW the file tree is a drawer, opened by the
// "Files" button (or `t`, see keyboard.js: `backloop:show-files`) and closed by Escape, a click beside it, the
// button, picking a file, or another shortcut (`backloop:hide-files`); while it is open the rest of the page is inert, so focus and screen readers stay in
// it, and closing it gives focus back to the button. The split layout falls back to unified there, without
// touching the URL's view=split: widening the window brings it back.
import { h, button, icon } from "./dom.js";

/**
 * @typedef {import("../store.js").Store} Store
 */

export const NARROW = "(max-width: 900px)";

/**
 * The layout to show for the one chosen (the URL's): unified in a narrow window.
 * @param {"unified"|"split"} chosen
 * @returns {"unified"|"split"}
 */
export function shownLayout(chosen) {
  return matchMedia(NARROW).matches ? "unified" : chosen;
}

export class Narrow {
  /**
   * @param {Store} store
   * @param {{sidebar: HTMLElement, inert: HTMLElement[], chosen: () => "unified"|"split"}} parts the tree's element;
   *   what is inert while the drawer is open; the layout chosen in the URL
   */
  constructor(store, { sidebar, inert, chosen }) {
    this.sidebar = sidebar;
    this.inert = inert;
    this.query = matchMedia(NARROW);
    this.toggle = button("Files", { className: "btn drawer-toggle", title: "Changed files" });
    this.toggle.prepend(icon("file"));
    this.toggle.setAttribute("aria-controls", sidebar.id);
    this.toggle.setAttribute("aria-expanded", "false");
    this.backdrop = h("div", { className: "drawer-backdrop", hidden: true });
    sidebar.after(this.backdrop);
    document.body.append(this.toggle);

    store.setLayout(shownLayout(chosen()));
    this.query.addEventListener("change", () => {
      store.setLayout(shownLayout(chosen()));
      if (!this.query.matches) this.close(false);
    });
    this.toggle.addEventListener("click", () => (this.isOpen ? this.close(true) : this.open(true)));
    this.backdrop.addEventListener("click", () => this.close(true));
    document.addEventListener("keydown", (event) => {
      if (event.key !== "Escape" || !this.isOpen || document.querySelector("dialog[open]")) return;
      event.preventDefault(); // (in the filter box, Escape would clear it)
      this.close(true);
    });
    document.addEventListener("backloop:show-files", () => this.open(false));
    document.addEventListener("backloop:hide-files", () => this.close(false));
    // Picking a file: the page scrolls to it and focuses it, the drawer gets out of the way.
    sidebar.addEventListener("backloop:reveal", () => this.close(false));
  }

  /** @returns {boolean} */
  get isOpen() {
    return this.sidebar.classList.contains("drawer-open");
  }

  /**
   * Open the drawer (in a narrow window).
   * @param {boolean} focus put focus in it (its filter box)
   */
  open(focus) {
    if (!this.query.matches || this.isOpen) return;
    this.sidebar.classList.add("drawer-open");
    this.backdrop.hidden = false;
    this.toggle.setAttribute("aria-expanded", "true");
    for (const element of this.inert) element.inert = true;
    if (focus) this.sidebar.querySelector("input")?.focus();
  }

  /**
   * @param {boolean} focus give focus back to the button
   */
  close(focus) {
    if (!this.isOpen) return;
    this.sidebar.classList.remove("drawer-open");
    this.backdrop.hidden = true;
    this.toggle.setAttribute("aria-expanded", "false");
    for (const element of this.inert) element.inert = false;
    if (focus) this.toggle.focus();
  }
}
