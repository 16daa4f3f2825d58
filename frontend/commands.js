// What the page's controls ask for (`backloop:*` events from the DOM, see render/actions.js): store changes,
// socket messages, the forms and editor of extras.js, and view settings kept in the URL.
import { on } from "./events.js";
import { withParams, readView } from "./url.js";
import { CLIENT } from "./protocol.js";
import { shownLayout } from "./render/narrow.js";

/**
 * @typedef {object} Page
 * @property {import("./store.js").Store} store
 * @property {import("./transport.js").Transport} transport
 * @property {import("./render/files.js").FileList} files
 * @property {import("./extras-loader.js").ExtrasLoader} extras
 * @property {import("./outbox.js").Outbox} outbox
 * @property {(error: {code: string, message: string}) => void} showError
 */

/** @param {Page} page */
export function handleCommands({ store, transport, files, extras, outbox, showError }) {
  on(document, "backloop:reveal", ({ path }) => files.reveal(path));
  on(document, "backloop:toggle-collapse", ({ path }) => store.setCollapsed(path, !store.ui.get(path)?.collapsed));
  // Folds (or unfolds) the file at once; put back as it was if the server refuses.
  on(document, "backloop:set-viewed", ({ path, viewed }) => {
    const before = store.setViewed(path, viewed);
    outbox.submit({ type: CLIENT.SET_VIEWED, path, viewed }, {
      onError: (error) => {
        store.restoreViewed(path, before);
        showError(error);
      },
    });
  });
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
    extras.use((ready) => ready.editors.open(path));
  });
  // (A "+" clicked before the comment forms loaded opens its form once they have.)
  on(document, "backloop:open-comment", (click) => extras.use((ready) => ready.forms.click(click)));
  on(document, "backloop:select-lines", ({ range, row }) => extras.use((ready) => ready.forms.open(range, row)));
  on(document, "backloop:retry-now", () => transport.retryNow());
  on(document, "backloop:set-layout", ({ layout }) => {
    store.setLayout(shownLayout(layout === "split" ? "split" : "unified"));
    history.replaceState(history.state, "", withParams(location.href, { view: layout === "split" ? "split" : null }));
  });
  // Another set of changes of the same review: the socket moves to that view, whose snapshot replaces the files
  // (no page load); the URL says which, so the choice can be shared and survives a reload.
  /** @param {number|null} round */
  const showRound = (round) => {
    if (store.view.round === round) return;
    store.setRound(round);
    const url = new URL(transport.url);
    url.search = location.search;
    transport.moveTo(url.toString());
  };
  on(document, "backloop:set-round", ({ round }) => {
    history.pushState(history.state, "", withParams(location.href, { round: round === null ? null : String(round) }));
    showRound(round);
  });
  window.addEventListener("popstate", () => showRound(readView(location.search).round));
  // (a same-document URL change costs the page about 10 ms: the filter is written once typing pauses)
  let filterWrite = 0;
  on(document, "backloop:filter-files", ({ query }) => {
    clearTimeout(filterWrite);
    filterWrite = setTimeout(() => {
      history.replaceState(history.state, "", withParams(location.href, { filter: query.trim() ? query : null }));
    }, 250);
  });
  on(document, "backloop:set-whitespace", ({ ws }) => location.assign(withParams(location.href, { ws: ws ? "1" : null })));
  on(document, "backloop:set-context", ({ context }) =>
    location.assign(withParams(location.href, { context: context === 3 ? null : String(context) })),
  );
}
