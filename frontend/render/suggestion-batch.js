// The header's control for the batch of suggested changes (suggestion.js owns the batch): "Apply N suggestions",
// "Clear", and what became of the last batch sent. Hidden while there is nothing to say. Styled in suggestion.css.
import { h, button } from "./dom.js";

/**
 * "1 suggestion", "2 suggestions".
 * @param {number} count
 * @returns {string}
 */
export const counted = (count) => `${count} ${count === 1 ? "suggestion" : "suggestions"}`;

export class SuggestionBatch {
  /**
   * @param {HTMLElement} root where the control goes (the header's toolbar)
   * @param {{apply: () => void, clear: () => void}} actions
   */
  constructor(root, actions) {
    this.apply = button("Apply suggestions", {
      className: "btn btn-primary",
      title: "Apply every suggestion added to the batch, checked all together",
    });
    this.clear = button("Clear", { className: "btn", label: "Clear the batch of suggestions" });
    this.status = h("span", { className: "suggestion-batch-status", attrs: { role: "status" } });
    this.root = h("div", { className: "suggestion-batch", hidden: true }, [this.apply, this.clear, this.status]);
    root.append(this.root);
    this.apply.addEventListener("click", () => actions.apply());
    this.clear.addEventListener("click", () => actions.clear());
  }

  /**
   * Say what became of the batch ("" says nothing).
   * @param {string} words
   */
  say(words) {
    this.status.textContent = words;
  }

  /**
   * @param {number} count suggestions in the batch
   * @param {boolean} busy some of them are on their way to the server
   */
  render(count, busy) {
    this.root.hidden = count === 0 && !this.status.textContent;
    this.apply.hidden = this.clear.hidden = count === 0;
    this.apply.textContent = `Apply ${counted(count)}`;
    this.apply.disabled = busy;
  }
}
