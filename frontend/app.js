// The review page: wires the store, the websocket, the outbox and the renderers together. No logic of its own
// beyond turning `backloop:*` events into store updates, socket messages and URL changes.
import { Store } from "./store.js";
import { Transport } from "./transport.js";
import { Outbox } from "./outbox.js";
import { Header } from "./render/header.js";
import { FileTree } from "./render/tree.js";
import { FileList } from "./render/files.js";
import { Notices } from "./render/notices.js";
import { Threads } from "./render/threads.js";
import { CommentForms, formState } from "./render/comment-form.js";
import { LineSelection } from "./render/selection.js";
import { OfflineBanner } from "./render/offline.js";
import { Editors } from "./render/editor.js";
import { Verdict } from "./render/verdict.js";
import { delegateActions } from "./render/actions.js";
import { reviewIdFromPath, socketUrl, rawUrl, withParams, readView } from "./url.js";

/**
 * @template {Element} T
 * @param {string} selector
 * @returns {T}
 */
function need(selector) {
  const element = document.querySelector(selector);
  if (!element) throw new Error(`review.html lacks ${selector}`);
  return /** @type {T} */ (element);
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
  const topbar = need("#topbar");
  const conversation = need("#conversation");
  delegateActions(conversation);
  const store = new Store(readView(location.search));
  const header = new Header(topbar, store);
  const verdict = new Verdict(header.actions, store);
  const notices = new Notices(need("#banners"), store);
  const offline = new OfflineBanner(need("#banners"), store, location.host);
  const tree = new FileTree(need("#sidebar"), store);
  const threads = new Threads();
  const filesRoot = need("#files");
  const selection = new LineSelection(filesRoot);
  const files = new FileList(filesRoot, store, {
    rawUrl: (side, path) => rawUrl(id ?? "", side, path, location.search),
    stickyOffset: () => Math.max(0, topbar.getBoundingClientRect().bottom),
    threads,
    decorate: (path, body) => selection.paint(path, body),
  });
  if (id === null) {
    store.apply({ type: "error", code: "bad_url", message: "This page address does not name a review." });
    return;
  }
  // The server is local: retrying often is cheap, and a restarted server is found again within seconds.
  const transport = new Transport(socketUrl(location, id), { maxDelay: 4000 });
  const outbox = new Outbox(transport);
  const forms = new CommentForms(selection, (message, handlers) => outbox.submit(message, handlers));
  /** @param {{code: string, message: string}} error */
  const showError = (error) => store.apply({ type: "error", ...error });
  const editors = new Editors({
    bodyFor: (path) => files.sectionFor(path)?.querySelector(".file-body") ?? null,
    send: (message) => transport.send(message),
    submit: (message, handlers) => outbox.submit(message, handlers),
  });
  /** @type {Map<string, string>} digests of too-large files already asked for again */
  const reloaded = new Map();

  /** @param {import("./store.js").Change[]} changes */
  const render = (changes) => {
    notices.update(changes);
    offline.update(changes);
    header.update(changes);
    verdict.update(changes);
    tree.update(changes);
    files.update(changes);
    for (const change of changes) {
      if (change.type === "comments" && change.paths.includes(null)) {
        const comments = store.comments.on(null);
        conversation.replaceChildren(...comments.map((comment) => threads.element(comment)));
        conversation.hidden = comments.length === 0;
      }
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
  // highlighted versions of a thousand files) costs one layout per frame, not one per message.
  /** @type {import("./store.js").Change[]} */
  let due = [];
  on(store, "backloop:change", ({ changes }) => {
    if (!due.length) requestAnimationFrame(() => render(coalesce(due.splice(0))));
    due.push(...changes);
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
    if (message.type === "file_content") editors.onContent(message);
    else if (message.type !== "error" || !editors.onError(message)) store.apply(message);
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
    editors.open(path);
  });
  on(document, "backloop:open-comment", (click) => forms.click(click));
  on(document, "backloop:select-lines", ({ range, row }) => forms.open(range, row));
  on(document, "backloop:submit-comment", ({ form }) => forms.send(form));
  on(document, "backloop:cancel-comment", ({ form }) => form && forms.close(form));
  on(document, "backloop:retry-now", () => transport.retryNow());
  on(document, "backloop:submit-reply", ({ form, commentId, body }) => {
    if (!body.trim()) return;
    formState(form, true);
    outbox.submit(
      { type: "reply", comment_id: commentId, body },
      {
        onAck: () => {
          formState(form, false);
          form.reset();
        },
        onError: (error) => {
          formState(form, false);
          showError(error);
        },
      },
    );
  });
  on(document, "backloop:resolve", ({ commentId }) =>
    outbox.submit({ type: "resolve", comment_id: commentId }, { onError: showError }),
  );
  on(document, "backloop:approve", () => outbox.submit({ type: "approve", body: "" }, { onError: showError }));
  on(document, "backloop:request-changes", ({ body, form }) =>
    outbox.submit(
      { type: "request_changes", body },
      { onAck: () => verdict.requested(), onError: (error) => formState(form, false, error.message) },
    ),
  );
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
  transport.start();
}

main();
