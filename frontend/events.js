// Listening to the page's `backloop:*` CustomEvents by their detail.

/**
 * @param {EventTarget} target
 * @param {string} name
 * @param {(detail: any) => void} handler
 */
export function on(target, name, handler) {
  target.addEventListener(name, (event) => handler(/** @type {CustomEvent} */ (event).detail));
}
