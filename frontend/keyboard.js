// Keyboard shortcuts of the review page, and the help dialog that lists them ("?", or the header's "?" button).
// A shortcut never fires while the person types (text boxes, the editor, anything contenteditable) or holds Ctrl,
// Alt or Cmd. Each one moves focus to what it went to (visible, and named to screen readers), and each has a
// clickable equivalent: the file list, a line's "+", the Reply box, the Edit button, the Viewed box, the filter,
// and for all of them the buttons of the help dialog. Where a shortcut has nothing to do, a status line says why.
import { h, button } from "./render/dom.js";
import { place, nextPath, nextThread, hunkRows, hunkIn, focusLine, lineRowOf, nextFrame } from "./navigate.js";
import { helpDialog } from "./keyboard-help.js";

/**
 * @typedef {import("./store.js").Store} Store
 * @typedef {import("./render/files.js").FileList} FileList
 * @typedef {import("./render/tree.js").FileTree} FileTree
 * @typedef {import("./extras-loader.js").ExtrasLoader} ExtrasLoader
 * @typedef {import("./protocol.js").Comment} Comment
 * @typedef {{store: Store, files: FileList, tree: FileTree, extras: ExtrasLoader, controls: HTMLElement}} Page
 * @typedef {"file"|"hunk"|"thread"|"viewed"|"comment"|"reply"|"edit"|"filter"|"help"} Action
 * @typedef {import("./keyboard-help.js").Shortcut & {action: Action, step?: 1|-1}} Shortcut
 */

/** @type {Shortcut[]} in the order the help lists them */
export const SHORTCUTS = [
  { key: "j", label: "Next file", action: "file", step: 1 },
  { key: "k", label: "Previous file", action: "file", step: -1 },
  { key: "n", label: "Next unresolved thread", action: "thread", step: 1 },
  { key: "p", label: "Previous unresolved thread", action: "thread", step: -1 },
  { key: "]", label: "Next hunk", action: "hunk", step: 1 },
  { key: "[", label: "Previous hunk", action: "hunk", step: -1 },
  { key: "v", label: "Mark the file viewed, or not", action: "viewed" },
  { key: "c", label: "Comment on the focused line", action: "comment" },
  { key: "r", label: "Reply in the focused thread", action: "reply" },
  { key: "e", label: "Edit the file (live views)", action: "edit" },
  { key: "t", label: "Filter the files", action: "filter" },
  { key: "?", label: "Show these shortcuts", action: "help" },
];

const BY_KEY = new Map(SHORTCUTS.map((shortcut) => [shortcut.key, shortcut]));
const TEXT_INPUTS = new Set(["text", "search", "email", "url", "tel", "password", "number", "date", "time"]);

/**
 * Whether keys pressed on `target` are typing.
 * @param {EventTarget|null} target
 * @returns {boolean}
 */
export function typing(target) {
  if (!(target instanceof Element)) return false;
  if (target instanceof HTMLInputElement) return TEXT_INPUTS.has(target.type);
  if (target instanceof HTMLElement && target.isContentEditable) return true;
  return target.closest("textarea, select, .editor") !== null;
}

export class Keyboard {
  /** @param {Page} page */
  constructor(page) {
    this.page = page;
    /** @type {{dialog: HTMLDialogElement, open: () => void}|null} */
    this.help = null;
    /** @type {Element|null} where the last shortcut took focus */
    this.last = null;
    this.status = h("div", { className: "keys-status", attrs: { role: "status" }, hidden: true });
    this.quiet = 0;
    document.body.append(this.status);
    const open = button("?", { className: "btn keys-open", label: "Keyboard shortcuts", title: "Keyboard shortcuts (?)" });
    open.setAttribute("aria-haspopup", "dialog");
    open.setAttribute("aria-keyshortcuts", "?");
    open.addEventListener("click", () => this.toggleHelp());
    page.controls.append(open);
    document.addEventListener("keydown", (event) => this.onKey(event));
  }

  /**
   * @private
   * @param {KeyboardEvent} event
   */
  onKey(event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
    const shortcut = BY_KEY.get(event.key);
    if (!shortcut || typing(event.target)) return;
    if (document.querySelector("dialog[open]") && !(shortcut.action === "help" && this.help?.dialog.open)) return;
    event.preventDefault();
    this.run(shortcut);
  }

  /**
   * @param {Shortcut} shortcut
   */
  run({ action, step = 1 }) {
    // (the other shortcuts act on the page behind the file drawer of a narrow window: out of their way)
    if (action !== "filter" && action !== "help") document.dispatchEvent(new CustomEvent("backloop:hide-files"));
    const done = {
      file: () => this.file(step),
      hunk: () => this.hunk(step),
      thread: () => this.thread(step),
      viewed: () => this.viewed(),
      comment: () => this.comment(),
      reply: () => this.reply(),
      edit: () => this.edit(),
      filter: () => this.filter(),
      help: () => this.toggleHelp(),
    }[action]();
    if (done instanceof Promise) done.catch(() => this.say("That part of the page could not be loaded: is the server running?"));
  }

  /**
   * Say something in the status line (and to screen readers), for a few seconds.
   * @param {string} text
   */
  say(text) {
    this.status.textContent = text;
    this.status.hidden = false;
    clearTimeout(this.quiet);
    this.quiet = setTimeout(() => {
      this.status.hidden = true;
      this.status.textContent = "";
    }, 4000);
  }

  /**
   * @private
   * @returns {import("./navigate.js").Place}
   */
  where() {
    return place(this.page.files, this.last);
  }

  /**
   * Focus a line and remember it.
   * @private
   * @param {HTMLTableRowElement} row
   */
  line(row) {
    focusLine(row);
    this.last = document.activeElement;
  }

  /**
   * @private
   * @param {1|-1} step
   */
  file(step) {
    const { store, files, tree } = this.page;
    const path = nextPath(store.order, this.where().path, step, (p) => tree.shows(p));
    if (path) {
      files.reveal(path);
      this.last = document.activeElement;
    } else this.say(step > 0 ? "This is the last file." : "This is the first file.");
  }

  /**
   * The next or previous hunk: in the file where the person is, then in the files after or before it (the ones
   * the filter shows and that are not collapsed).
   * @private
   * @param {1|-1} step
   */
  hunk(step) {
    const { store, files, tree } = this.page;
    const here = this.where();
    const file = here.path === null ? undefined : store.files.get(here.path);
    const section = here.path === null ? undefined : files.sectionFor(here.path);
    if (here.path !== null && file && section && tree.shows(here.path) && !store.ui.get(here.path)?.collapsed) {
      // (with no focus in the file: from below its sticky header)
      const target = hunkIn(hunkRows(section, file), here, step, files.context.stickyOffset() + 48);
      if (target) {
        this.line(target);
        return;
      }
    }
    const withHunks = (/** @type {string} */ p) =>
      tree.shows(p) && !store.ui.get(p)?.collapsed && (store.files.get(p)?.hunks.length ?? 0) > 0;
    const path = nextPath(store.order, here.path, step, withHunks);
    const next = path === null ? undefined : store.files.get(path);
    const nextSection = path === null ? undefined : files.sectionFor(path);
    if (path === null || !next || !nextSection) {
      this.say(step > 0 ? "No more hunks below." : "No more hunks above.");
      return;
    }
    let rows = hunkRows(nextSection, next);
    if (!rows.length) {
      files.reveal(path); // (builds its rows)
      rows = hunkRows(nextSection, next);
    }
    if (rows.length) this.line(step > 0 ? rows[0] : rows[rows.length - 1]);
    else files.reveal(path);
  }

  /**
   * @private
   * @param {1|-1} step
   */
  async thread(step) {
    const comment = nextThread(this.page.store, this.where(), step);
    if (!comment) {
      this.say(step > 0 ? "No more unresolved threads below." : "No more unresolved threads above.");
      return;
    }
    await this.showThread(comment);
  }

  /**
   * Scroll to a thread and focus it: its file expanded and its rows built first, its fold opened.
   * @param {Comment} comment
   */
  async showThread(comment) {
    const { store, files, extras } = this.page;
    await extras.ready(); // (threads are in the page from then on)
    if (comment.path) {
      if (store.ui.get(comment.path)?.collapsed) {
        store.setCollapsed(comment.path, false);
        await nextFrame();
      }
      const section = files.sectionFor(comment.path);
      if (section && comment.line != null && !comment.outdated && !section.querySelector("table")) files.reveal(comment.path);
    }
    const element = document.querySelector(`[data-comment-id="${CSS.escape(comment.id)}"]`);
    if (!(element instanceof HTMLElement)) {
      this.say("That thread is not in the page yet.");
      return;
    }
    const fold = element.closest("details");
    if (fold && !fold.open) fold.open = true;
    element.tabIndex = -1;
    element.scrollIntoView({ block: "center" });
    element.focus({ preventScroll: true });
    this.last = element;
  }

  /** @private */
  viewed() {
    const here = this.where();
    const section = here.path === null ? undefined : this.page.files.sectionFor(here.path);
    const box = section?.querySelector("input[data-action=viewed]");
    if (!(box instanceof HTMLInputElement)) {
      this.say("This file has no Viewed box.");
      return;
    }
    box.click();
    this.last = section ?? null; // (its header may be rebuilt, and focus lost with it: the next key goes on from here)
  }

  /** @private */
  comment() {
    const focused = document.activeElement;
    const active = (!focused || focused === document.body) && this.last?.isConnected ? this.last : focused;
    const row = active?.closest("section.file") ? lineRowOf(active) : null;
    const control = active?.matches(".comment-button") ? active : row?.querySelector(".comment-button");
    if (control instanceof HTMLButtonElement) control.click();
    else this.say("Go to a line first: ] or [, or Tab to its +.");
  }

  /** @private */
  reply() {
    const here = this.where();
    let thread = here.thread;
    if (!thread && here.row) {
      const next = here.row.nextElementSibling;
      const first = next?.matches(".thread-row") ? next.querySelector("[data-comment-id]") : null;
      thread = first instanceof HTMLElement ? first : null;
    }
    const box = thread?.querySelector("textarea.reply-input");
    if (!(box instanceof HTMLTextAreaElement)) {
      this.say("Go to a thread first: n or p.");
      return;
    }
    const fold = box.closest("details");
    if (fold && !fold.open) fold.open = true;
    box.focus();
  }

  /** @private */
  edit() {
    const { store, files } = this.page;
    const here = this.where();
    const control = here.path === null ? null : files.sectionFor(here.path)?.querySelector("button[data-action=edit]");
    if (control instanceof HTMLButtonElement) control.click();
    else this.say(store.review?.view.live ? "This file cannot be edited here." : "Files can be edited in live views only.");
  }

  /** @private */
  filter() {
    const box = this.page.tree.filter;
    box.dispatchEvent(new CustomEvent("backloop:show-files", { bubbles: true }));
    box.focus();
    box.select();
  }

  /** Open the help dialog (built the first time), or close it. */
  toggleHelp() {
    this.help ??= helpDialog(SHORTCUTS, (shortcut) => this.run(shortcut));
    if (this.help.dialog.open) this.help.dialog.close();
    else this.help.open();
  }
}
