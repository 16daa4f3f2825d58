// Messages that change something carry a client_id; the server answers each with `ack` or an `error` naming it.
// The outbox keeps them until then, resends them after a reconnect (the server stores a client_id once), and
// calls back the part of the page that sent them.

/**
 * @typedef {import("./protocol.js").ClientMessage} ClientMessage
 * @typedef {import("./protocol.js").ServerMessage} ServerMessage
 * @typedef {{onAck?: (id: string) => void, onError?: (error: {code: string, message: string}) => void}} Handlers
 * @typedef {{send: (message: ClientMessage) => void}} Sender
 */

/** @returns {string} */
function newClientId() {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export class Outbox {
  /** @param {Sender} transport */
  constructor(transport) {
    this.transport = transport;
    /** @type {Map<string, {message: ClientMessage, handlers: Handlers}>} */
    this.pending = new Map();
  }

  /**
   * Send a message that needs a client_id (added here); returns that id.
   * @param {Record<string, unknown> & {type: string}} message without client_id
   * @param {Handlers} [handlers]
   * @returns {string}
   */
  submit(message, handlers = {}) {
    const clientId = newClientId();
    const full = /** @type {ClientMessage} */ (/** @type {unknown} */ ({ ...message, client_id: clientId }));
    this.pending.set(clientId, { message: full, handlers });
    this.transport.send(full);
    return clientId;
  }

  /**
   * Settle a pending message from an `ack` or an `error` carrying its client_id.
   * @param {ServerMessage} message
   * @returns {boolean} whether the message was one of ours
   */
  handle(message) {
    if (message.type !== "ack" && message.type !== "error") return false;
    const clientId = message.client_id;
    if (!clientId) return false;
    const entry = this.pending.get(clientId);
    if (!entry) return message.type === "ack";
    this.pending.delete(clientId);
    if (message.type === "ack") entry.handlers.onAck?.(message.id);
    else entry.handlers.onError?.({ code: message.code, message: message.message });
    return true;
  }

  /** After a reconnect: send again what was never answered. */
  resend() {
    for (const { message } of this.pending.values()) this.transport.send(message);
  }
}
