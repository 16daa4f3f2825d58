// The review page: builds its parts and wires them together. Each concern lives in the module that owns it:
// painter.js (when the DOM follows the store), connection.js (the socket's lifecycle on the page), commands.js
// (what the controls ask for), large-files.js (loaded too-large files asked for again), extras-loader.js (the
// parts loaded after the first paint).
//
// First paint: review.html preloads the modules imported here all at once (not one import level at a time); the
// rest (extras.js: threads, comment forms, editor, verdict) loads after the first files are painted. The socket
// opens before the page builds its parts: the server's hello and snapshot travel meanwhile (their events come in
// later tasks, when the handlers are in place).
import { Store } from "./store.js";
import { Transport } from "./transport.js";
import { Outbox } from "./outbox.js";
import { Painter } from "./painter.js";
import { connect } from "./connection.js";
import { handleCommands } from "./commands.js";
import { LargeFiles } from "./large-files.js";
import { ExtrasLoader } from "./extras-loader.js";
import { Header } from "./render/header.js";
import { FileTree } from "./render/tree.js";
import { FileList } from "./render/files.js";
import { Notices } from "./render/notices.js";
import { OfflineBanner } from "./render/offline.js";
import { LineSelection } from "./render/selection.js";
import { delegateActions } from "./render/actions.js";
import { Keyboard } from "./keyboard.js";
import { Narrow } from "./render/narrow.js";
import { reviewIdFromPath, socketUrl, rawUrl, commentsUrl, readView, readFilter } from "./url.js";

/**
 * @param {string} selector
 * @returns {HTMLElement}
 */
function need(selector) {
  const element = document.querySelector(selector);
  if (!(element instanceof HTMLElement)) throw new Error(`review.html lacks ${selector}`);
  return element;
}

function main() {
  const id = reviewIdFromPath(location.pathname);
  // The server is local: retrying often is cheap, and a restarted server is found again within seconds.
  const transport = id === null ? null : new Transport(socketUrl(location, id), { maxDelay: 4000 });
  transport?.start();
  const topbar = need("#topbar");
  const conversation = need("#conversation");
  delegateActions(conversation);
  const store = new Store(readView(location.search));
  const banners = need("#banners");
  // (before the header: it shows the layout a narrow window falls back to)
  new Narrow(store, { sidebar: need("#sidebar"), inert: [topbar, banners, need("#main")], chosen: () => readView(location.search).layout });
  const header = new Header(topbar, store);
  const notices = new Notices(banners, store);
  const offline = new OfflineBanner(banners, store, location.host);
  const tree = new FileTree(need("#sidebar"), store, readFilter(location.search));
  const filesRoot = need("#files");
  const selection = new LineSelection(filesRoot);
  const files = new FileList(filesRoot, store, {
    rawUrl: (side, path) => rawUrl(id ?? "", side, path, location.search),
    stickyOffset: () => Math.max(0, topbar.getBoundingClientRect().bottom),
    threads: null,
    decorate: (path, body) => selection.paint(path, body),
  });
  tree.follow(() => files.currentPath());
  if (id === null || transport === null) {
    store.apply({ type: "error", code: "bad_url", message: "This page address does not name a review." });
    return;
  }
  const outbox = new Outbox(transport);
  /** @param {{code: string, message: string}} error */
  const showError = (error) => store.apply({ type: "error", ...error });
  const page = { store, files, transport, outbox, actions: header.actions, conversation, selection, showError };
  const extras = new ExtrasLoader({ ...page, commentsUrl: commentsUrl(id) });
  new LargeFiles(store, transport);
  new Painter(store, [notices, offline, header, tree, files, extras]);
  connect(transport, store, outbox, extras);
  handleCommands({ store, transport, files, extras, outbox, showError });
  new Keyboard({ store, files, tree, extras, controls: header.controls });
}

main();
