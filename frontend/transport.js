// The websocket: a send queue while closed, reconnect with full-jitter exponential backoff, and the
// connection lifecycle as `backloop:*` CustomEvents dispatched on the transport:
//   backloop:connecting  {attempt}        a socket is being opened
//   backloop:open        {reconnected}    the socket is open (the server then sends hello + snapshot again)
//   backloop:message     {message}        one decoded server message
//   backloop:close       {code, reason, willRetry, delay}
//   backloop:giveup      {code, reason}   a close code after which retrying cannot help
import { FATAL_CLOSE_CODES, CLIENT } from "./protocol.js";

/** @typedef {import("./protocol.js").ClientMessage} ClientMessage */

/**
 * @typedef {object} TransportOptions
 * @property {number} [baseDelay] first backoff ceiling in ms
 * @property {number} [maxDelay] backoff ceiling cap in ms
 * @property {number} [pingInterval] keepalive ping period in ms (0 disables)
 * @property {number} [maxQueue] most messages kept while closed (oldest dropped first)
 * @property {() => number} [random] source of randomness in [0, 1), for tests
 * @property {(url: string) => WebSocket} [connect] socket factory, for tests
 */

export class Transport extends EventTarget {
  /**
   * @param {string} url absolute ws:// or wss:// URL
   * @param {TransportOptions} [options]
   */
  constructor(url, options = {}) {
    super();
    this.url = url;
    this.baseDelay = options.baseDelay ?? 500;
    this.maxDelay = options.maxDelay ?? 15000;
    this.pingInterval = options.pingInterval ?? 25000;
    this.maxQueue = options.maxQueue ?? 1000;
    this.random = options.random ?? Math.random;
    this.connect = options.connect ?? ((u) => new WebSocket(u));
    /** @type {WebSocket|null} */
    this.socket = null;
    /** @type {string[]} */
    this.queue = [];
    this.attempt = 0;
    this.everOpened = false;
    this.stopped = false;
    /** @type {ReturnType<typeof setTimeout>|undefined} */
    this.retryTimer = undefined;
    /** @type {ReturnType<typeof setInterval>|undefined} */
    this.pingTimer = undefined;
  }

  /** Open the socket (idempotent). */
  start() {
    this.stopped = false;
    if (!this.socket) this.open();
  }

  /** Close for good: no reconnect. */
  stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.stopPing();
    if (this.socket) this.socket.close(1000, "client closing");
    this.socket = null;
  }

  /** @returns {boolean} */
  get isOpen() {
    return this.socket !== null && this.socket.readyState === WebSocket.OPEN;
  }

  /**
   * Send a message now if open, or queue it until the socket opens.
   * @param {ClientMessage} message
   */
  send(message) {
    const frame = JSON.stringify(message);
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(frame);
      return;
    }
    this.queue.push(frame);
    if (this.queue.length > this.maxQueue) this.queue.shift();
  }

  /**
   * Connect to another URL at once (another view of the same review); the open socket is closed, not reconnected.
   * @param {string} url
   */
  moveTo(url) {
    this.url = url;
    clearTimeout(this.retryTimer);
    this.stopPing();
    const previous = this.socket;
    this.socket = null;
    previous?.close(1000, "another view");
    if (!this.stopped) this.open();
  }

  /** Reconnect now instead of waiting for the backoff timer. */
  retryNow() {
    if (this.stopped || this.isOpen) return;
    clearTimeout(this.retryTimer);
    if (this.socket) return;
    this.open();
  }

  /** @private */
  open() {
    this.emit("connecting", { attempt: this.attempt });
    const socket = this.connect(this.url);
    this.socket = socket;
    socket.addEventListener("open", () => {
      if (socket !== this.socket) return;
      const reconnected = this.everOpened;
      this.everOpened = true;
      this.attempt = 0;
      this.emit("open", { reconnected });
      const pending = this.queue;
      this.queue = [];
      for (const frame of pending) socket.send(frame);
      this.startPing();
    });
    socket.addEventListener("message", (event) => {
      if (socket !== this.socket || typeof event.data !== "string") return;
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      if (message && typeof message.type === "string") this.emit("message", { message });
    });
    socket.addEventListener("close", (event) => {
      if (socket !== this.socket) return;
      this.socket = null;
      this.stopPing();
      if (this.stopped) return;
      if (/** @type {readonly number[]} */ (FATAL_CLOSE_CODES).includes(event.code)) {
        this.emit("close", { code: event.code, reason: event.reason, willRetry: false, delay: 0 });
        this.emit("giveup", { code: event.code, reason: event.reason });
        return;
      }
      const delay = this.nextDelay();
      this.emit("close", { code: event.code, reason: event.reason, willRetry: true, delay });
      this.retryTimer = setTimeout(() => {
        if (!this.stopped && !this.socket) this.open();
      }, delay);
    });
  }

  /**
   * Full jitter: a uniformly random delay below an exponentially growing, capped ceiling.
   * @returns {number} ms
   */
  nextDelay() {
    const ceiling = Math.min(this.maxDelay, this.baseDelay * 2 ** this.attempt);
    this.attempt += 1;
    return Math.floor(this.random() * ceiling);
  }

  /** @private */
  startPing() {
    this.stopPing();
    if (this.pingInterval > 0) {
      this.pingTimer = setInterval(() => {
        if (this.isOpen) this.send({ type: CLIENT.PING, nonce: String(Date.now()) });
      }, this.pingInterval);
    }
  }

  /** @private */
  stopPing() {
    clearInterval(this.pingTimer);
    this.pingTimer = undefined;
  }

  /**
   * @private
   * @param {string} name
   * @param {object} detail
   */
  emit(name, detail) {
    this.dispatchEvent(new CustomEvent(`backloop:${name}`, { detail }));
  }
}
