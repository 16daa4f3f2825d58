// Files too large to show by default that the person loaded: when one comes again too large (a new version, or
// the snapshot of a new connection, the server having forgotten what this page loaded), it is asked for again,
// once per version of it and connection.
import { on } from "./events.js";
import { CLIENT } from "./protocol.js";

/**
 * @typedef {import("./store.js").Store} Store
 * @typedef {import("./store.js").Change} Change
 * @typedef {import("./transport.js").Transport} Transport
 */

export class LargeFiles {
  /**
   * @param {Store} store
   * @param {Transport} transport
   */
  constructor(store, transport) {
    this.store = store;
    this.transport = transport;
    /** @type {Map<string, string>} the version (digest) of each file asked for again on this connection */
    this.asked = new Map();
    on(store, "backloop:change", ({ changes }) => this.update(changes));
  }

  /**
   * @private
   * @param {Change[]} changes
   */
  update(changes) {
    for (const change of changes) {
      if (change.type === "files") {
        this.asked.clear();
        for (const path of change.changed) this.askAgain(path);
      } else if (change.type === "file") this.askAgain(change.path);
    }
  }

  /**
   * @private
   * @param {string} path
   */
  askAgain(path) {
    const file = this.store.files.get(path);
    const ui = this.store.ui.get(path);
    if (!file || !ui?.loadRequested || !file.too_large || file.hunks.length > 0) return;
    if (this.asked.get(path) === (file.digest ?? "")) return;
    this.asked.set(path, file.digest ?? "");
    this.transport.send({ type: CLIENT.LOAD_FILE, path });
  }
}
