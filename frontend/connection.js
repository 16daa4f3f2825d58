// The socket's lifecycle on the page: its state shown in the store, messages handed to their owner (the outbox's
// acks, the editor's answers, the rest to the store), unsent comments sent again after a reconnect; and the
// page's own lifecycle (back online, shown again, left, restored from the back/forward cache) on the socket.
import { on } from "./events.js";

/**
 * @typedef {import("./store.js").Store} Store
 * @typedef {import("./transport.js").Transport} Transport
 * @typedef {import("./outbox.js").Outbox} Outbox
 * @typedef {import("./extras-loader.js").ExtrasLoader} ExtrasLoader
 */

/**
 * @param {Transport} transport
 * @param {Store} store
 * @param {Outbox} outbox
 * @param {ExtrasLoader} extras
 */
export function connect(transport, store, outbox, extras) {
  on(transport, "backloop:connecting", () => store.setConnection(transport.everOpened ? "reconnecting" : "closed"));
  on(transport, "backloop:open", ({ reconnected }) => {
    store.setConnection("open");
    if (reconnected) outbox.resend();
  });
  on(transport, "backloop:close", ({ willRetry }) => store.setConnection(willRetry ? "reconnecting" : "closed"));
  on(transport, "backloop:giveup", ({ code, reason }) =>
    store.apply({ type: "error", code: `closed_${code}`, message: reason || "The server closed this view." }),
  );
  on(transport, "backloop:message", ({ message }) => {
    if (outbox.handle(message)) return;
    if (!extras.handle(message)) store.apply(message);
  });

  window.addEventListener("online", () => transport.retryNow());
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") transport.retryNow();
  });
  window.addEventListener("pagehide", () => transport.stop());
  window.addEventListener("pageshow", (event) => {
    if (event.persisted) transport.start();
  });
}
