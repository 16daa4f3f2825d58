// The review page: wires the store, the websocket, the outbox and the renderers together. No logic of its own
// beyond turning `backloop:*` events into store updates, socket messages and URL changes.
//
// First paint: review.html preloads the modules imported here all at once (not one import level at a time); the
// rest (extras.js: threads, comment forms, editor, verdict) loads after the first files are painted (and again
// after a reconnect, if the server was gone by then; so the server-gone banner is not among them). The socket
// opens once the modules are in, not earlier: the server streams a big diff as fast as it can, and meanwhile its
// answers to module requests would wait.
import { Store } from "./store.js";
import { Transport } from "./transport.js";
import { Outbox } from "./outbox.js";
import { Header } from "./render/header.js";
import { FileTree } from "./render/tree.js";
import { FileList } from "./render/files.js";
import { Notices } from "./render/notices.js";
import { OfflineBanner } from "./render/offline.js";
import { LineSelection } from "./render/selection.js";
import { delegateActions } from "./render/actions.js";
import { reviewIdFromPath, socketUrl, rawUrl, withParams, readView } from "./url.js";
import { afterPaint } from "./render/dom.js";

/** The modules of extras.js, all asked for at once (one round trip instead of one per import level). */
const loadExtras = () =>
  Promise.all([
    import("./extras.js"),
    import("./render/threads.js"),
    import("./render/comment-form.js"),
    import("./render/editor.js"),
    import("./render/verdict.js"),
    import("./markdown.js"),
    import("./markdown-inline.js"),
  ]).then(([extras]) => extras);

/**
 * @param {string} selector
 * @returns {HTMLElement}
 */
function need(selector) {
  const element = document.querySelector(selector);
  if (!(element instanceof HTMLElement)) throw new Error(`review.html lacks ${selector}`);
  return element;
}

/**
 * @param {EventTarget} target
 * @param {string} name
 * @param {(detail: any) => void} handler
 */
function on(target, name, handler) {
  target.addEventListener(name, (event) => handler(/** @type {CustomEvent} */ (event).detail));
}

/**
 * Drop repeated per-file changes from a batch (the DOM is rebuilt from the store, so once is enough).
 * @param {import("./store.js").Change[]} changes
 * @returns {import("./store.js").Change[]}
 */
function coalesce(changes) {
  const seen = new Set();
  return changes.filter((change) => {
    if (!("path" in change)) return true;
    if (change.type === "removed") {
      for (const type of ["file", "ui"]) seen.delete(`${type}\0${change.path}`);
      return true;
    }
    const key = `${change.type === "lines" ? "ui" : change.type}\0${change.path}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function main() {
  const id = reviewIdFromPath(location.pathname);
  // The socket opens first: the server's hello and snapshot travel while the page builds its parts (its events
  // come in later tasks, when the handlers below are in place). The server is local: retrying often is cheap,
  // and a restarted server is found again within seconds.
  const transport = id === null ? null : new Transport(socketUrl(location, id), { maxDelay: 4000 });
  transport?.start();
  const topbar = need("#topbar");
  const conversation = need("#conversation");
  delegateActions(conversation);
  const store = new Store(readView(location.search));
  const header = new Header(topbar, store);
  const banners = need("#banners");
  const notices = new Notices(banners, store);
  const offline = new OfflineBanner(banners, store, location.host);
  const tree = new FileTree(need("#sidebar"), store);
  const filesRoot = need("#files");
  const selection = new LineSelection(filesRoot);
  const files = new FileList(filesRoot, store, {
    rawUrl: (side, path) => rawUrl(id ?? "", side, path, location.search),
    stickyOffset: () => Math.max(0, topbar.getBoundingClientRect().bottom),
    threads: null,
    decorate: (path, body) => selection.paint(path, body),
  });
  if (id === null || transport === null) {
    store.apply({ type: "error", code: "bad_url", message: "This page address does not name a review." });
    return;
  }
  const outbox = new Outbox(transport);
  /** @param {{code: string, message: string}} error */
  const showError = (error) => store.apply({ type: "error", ...error });
  /** @type {import("./extras.js").Extras|null} */
  let extras = null;
  /** @type {Promise<import("./extras.js").Extras>|null} */
  let extrasReady = null;
  const withExtras = () => {
    extrasReady ??= new Promise((resolve) => afterPaint(() => resolve(undefined)))
      .then(loadExtras)
      .then(
        ({ Extras }) => {
          extras = new Extras({ store, files, transport, outbox, actions: header.actions, conversation, selection, showError });
          return extras;
        },
        (error) => {
          extrasReady = null; // the server went away meanwhile: the next render after a reconnect tries again
          throw error;
        },
      );
    return extrasReady;
  };
  const loadSoon = () => withExtras().catch(() => undefined);
  const unavailable = () =>
    showError({ code: "unavailable", message: "This part of the page could not be loaded: is the server running?" });
  // Whatever happens (say, no server to get a diff from), the rest of the page comes soon.
  setTimeout(loadSoon, 2000);
  /** @type {Map<string, string>} digests of too-large files already asked for again */
  const reloaded = new Map();

  /** @param {import("./store.js").Change[]} changes */
  const render = (changes) => {
    notices.update(changes);
    offline.update(changes);
    header.update(changes);
    tree.update(changes);
    files.update(changes);
    if (extras) extras.update(changes);
    else if (store.loaded) loadSoon();
    for (const change of changes) {
      if (change.type !== "file") continue;
      // A live update may send a file the person already opened as too_large again: ask for it again, once.
      const file = store.files.get(change.path);
      const ui = store.ui.get(change.path);
      if (file && ui?.loadRequested && file.too_large && !file.hunks.length && reloaded.get(file.path) !== file.digest) {
        reloaded.set(file.path, file.digest ?? "");
        transport.send({ type: "load_file", path: file.path });
      }
    }
  };
  // The store takes every message at once; the DOM follows once per frame, so a burst of updates (say, the
  // highlighted versions of a thousand files) costs one layout per frame, not one per message. The first
  // snapshot is shown at once, not a frame later (a big diff's file messages are right behind it).
  /** @type {import("./store.js").Change[]} */
  let due = [];
  let shown = false;
  on(store, "backloop:change", ({ changes }) => {
    const pending = due.length > 0;
    due.push(...changes);
    if (!shown && store.loaded) {
      shown = true;
      render(coalesce(due.splice(0)));
    } else if (!pending) requestAnimationFrame(() => render(coalesce(due.splice(0))));
  });

  on(transport, "backloop:connecting", () => store.setConnection(transport.everOpened ? "reconnecting" : "closed"));
  on(transport, "backloop:open", ({ reconnected }) => {
    store.setConnection("open");
    if (reconnected) outbox.resend();
  });
  on(transport, "backloop:close", ({ willRetry }) => store.setConnection(willRetry ? "reconnecting" : "closed"));
  on(transport, "backloop:giveup", ({ code, reason }) =>
    showError({ code: `closed_${code}`, message: reason || "The server closed this view." }),
  );
  on(transport, "backloop:message", ({ message }) => {
    if (outbox.handle(message)) return;
    if (!extras?.handle(message)) store.apply(message);
  });

  on(document, "backloop:reveal", ({ path }) => files.reveal(path));
  on(document, "backloop:toggle-collapse", ({ path }) => store.setCollapsed(path, !store.ui.get(path)?.collapsed));
  on(document, "backloop:expand", ({ path, start, end }) => {
    const message = store.requestExpand(path, start, end);
    if (message) transport.send(message);
  });
  on(document, "backloop:load-file", ({ path }) => {
    const message = store.requestLoad(path);
    if (message) transport.send(message);
  });
  on(document, "backloop:edit-file", ({ path }) => {
    if (store.ui.get(path)?.collapsed) store.setCollapsed(path, false);
    withExtras().then((ready) => ready.editors.open(path), unavailable);
  });
  // (A "+" clicked before the comment forms loaded opens its form once they have.)
  on(document, "backloop:open-comment", (click) => withExtras().then((ready) => ready.forms.click(click), unavailable));
  on(document, "backloop:select-lines", ({ range, row }) => withExtras().then((ready) => ready.forms.open(range, row), unavailable));
  on(document, "backloop:retry-now", () => transport.retryNow());
  on(document, "backloop:set-layout", ({ layout }) => {
    store.setLayout(layout === "split" ? "split" : "unified");
    history.replaceState(history.state, "", withParams(location.href, { view: layout === "split" ? "split" : null }));
  });
  on(document, "backloop:set-whitespace", ({ ws }) => location.assign(withParams(location.href, { ws: ws ? "1" : null })));
  on(document, "backloop:set-context", ({ context }) =>
    location.assign(withParams(location.href, { context: context === 3 ? null : String(context) })),
  );

  // Sticky file headers sit below the page header, whatever its height.
  new ResizeObserver(() => {
    document.documentElement.style.setProperty("--topbar-height", `${Math.ceil(topbar.getBoundingClientRect().height)}px`);
  }).observe(topbar);

  let scrollQueued = false;
  window.addEventListener(
    "scroll",
    () => {
      if (scrollQueued) return;
      scrollQueued = true;
      requestAnimationFrame(() => {
        scrollQueued = false;
        const path = files.currentPath();
        if (path) tree.select(path);
      });
    },
    { passive: true },
  );
  window.addEventListener("online", () => transport.retryNow());
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") transport.retryNow();
  });
  window.addEventListener("pagehide", () => transport.stop());
  window.addEventListener("pageshow", (event) => {
    if (event.persisted) transport.start();
  });
}

main();
