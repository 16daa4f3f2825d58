// The help dialog of the keyboard shortcuts (keyboard.js; styled in keyboard.css): a modal <dialog> labelled by its
// heading, Escape or Close closes it and focus goes back where it was. Each shortcut's action is also a button
// here, so every shortcut can be clicked too.
import { h, button } from "./render/dom.js";

/** @typedef {{key: string, label: string}} Shortcut */

/**
 * The dialog, added to the page (closed).
 * @template {Shortcut} S
 * @param {S[]} shortcuts in the order to list them; one whose key is "?" (this help) is listed without a button
 * @param {(shortcut: S) => void} run does a shortcut's action
 * @returns {{dialog: HTMLDialogElement, open: () => void}}
 */
export function helpDialog(shortcuts, run) {
  const close = button("Close", { className: "btn keys-close" });
  const rows = shortcuts.map((shortcut) => {
    const action = shortcut.key === "?"
      ? h("span", { text: shortcut.label })
      : button(shortcut.label, { className: "keys-run", data: { key: shortcut.key } });
    return h("tr", {}, [h("th", { attrs: { scope: "row" } }, [h("kbd", { text: shortcut.key })]), h("td", {}, [action])]);
  });
  const dialog = h("dialog", { className: "keys-help", attrs: { "aria-labelledby": "keys-help-title", "aria-modal": "true" } }, [
    h("div", { className: "keys-help-body" }, [
      h("div", { className: "keys-help-head" }, [h("h2", { text: "Keyboard shortcuts", attrs: { id: "keys-help-title" } }), close]),
      h("p", { text: "They work whenever you are not typing in a box. Click an action to do it now." }),
      h("table", { className: "keys-table" }, [h("tbody", {}, rows)]),
      h("h3", { text: "The file filter" }),
      h("p", {
        text: "Words match parts of paths. Globs match paths as in .gitignore: src/**/*.py, *.lock, web/app.{js,ts}. "
          + "A leading ! leaves files out: !*.lock. Several terms: files matching any, except those left out.",
      }),
    ]),
  ]);
  /** @type {Element|null} where focus was when the dialog opened */
  let opener = null;
  close.addEventListener("click", () => dialog.close());
  dialog.addEventListener("click", (event) => {
    const target = /** @type {Element} */ (event.target);
    if (target === dialog) dialog.close(); // (a click on the backdrop: the dialog's content is all in its body)
    const control = target.closest("button.keys-run");
    const shortcut = control instanceof HTMLElement ? shortcuts.find((s) => s.key === control.dataset.key) : undefined;
    if (shortcut) {
      dialog.close();
      giveBack(); // (now, not on "close", which comes later: the action goes on from there)
      run(shortcut);
    }
  });
  const giveBack = () => {
    const back = opener;
    opener = null;
    if (back instanceof HTMLElement && back.isConnected) back.focus({ preventScroll: true });
  };
  dialog.addEventListener("close", giveBack);
  document.body.append(dialog);
  return {
    dialog,
    open: () => {
      opener = document.activeElement;
      dialog.showModal();
    },
  };
}
