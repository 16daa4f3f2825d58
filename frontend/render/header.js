// The page header: review title and repo, its round and what changed since the person's last review, what is
// compared, the connection indicator, totals, and the view controls (which changes, layout, whitespace, context)
// that live in the URL.
import { h, button } from "./dom.js";
import { counts } from "./file.js";

/**
 * @typedef {import("../store.js").Store} Store
 * @typedef {import("../store.js").Change} Change
 * @typedef {import("../protocol.js").ViewSpec} ViewSpec
 */

const CONTEXT_CHOICES = [0, 3, 5, 10, 25, 50, 100];

/**
 * What a view spec shows, in words (mirrors ViewSpec.describe in backloop/viewspec.py).
 * @param {ViewSpec} view
 * @returns {string}
 */
export function describeView(view) {
  if (view.since != null) return `changes since ${view.since}${view.live ? " (live work tree)" : " (staged)"}`;
  if (view.commit != null) return `commit ${view.commit}`;
  if (view.range != null) return `range ${view.range}`;
  return "";
}

export class Header {
  /**
   * @param {HTMLElement} root the <header> element
   * @param {Store} store
   */
  constructor(root, store) {
    this.root = root;
    this.store = store;
    this.title = h("h1", { className: "review-title", text: "Review" });
    this.state = h("span", { className: "review-state", hidden: true });
    this.agent = h("span", { className: "review-agent", hidden: true });
    this.round = h("span", { className: "review-round" });
    this.sinceReview = h("span", { className: "review-since", hidden: true });
    this.rounds = h("select", { className: "select", attrs: { "aria-label": "Changes to show" } });
    this.repo = h("span", { className: "review-repo" });
    this.base = h("code", { className: "ref ref-base" });
    this.target = h("code", { className: "ref ref-target" });
    this.compare = h("span", { className: "review-compare", hidden: true }, [
      this.base,
      h("span", { className: "compare-arrow", text: "\u2192", attrs: { "aria-label": "to" } }),
      this.target,
    ]);
    this.description = h("span", { className: "review-view" });
    this.connectionLabel = h("span", { className: "connection-label", text: "Connecting\u2026" });
    this.connection = h("span", { className: "connection", attrs: { role: "status" } }, [
      h("span", { className: "connection-dot", attrs: { "aria-hidden": "true" } }),
      this.connectionLabel,
    ]);
    this.connection.dataset.connection = "closed";
    /** @type {HTMLElement} the connection indicator, then the verdict buttons */
    this.actions = h("div", { className: "topbar-actions" }, [this.connection]);

    this.totals = h("span", { className: "totals" });
    this.viewed = h("span", { className: "viewed-count", hidden: true });
    this.unified = button("Unified", { className: "seg", data: { layout: "unified" } });
    this.split = button("Split", { className: "seg", data: { layout: "split" } });
    const layout = h("div", { className: "segmented", attrs: { role: "group", "aria-label": "Diff layout" } }, [
      this.unified,
      this.split,
    ]);
    this.whitespace = button("Hide whitespace", {
      className: "btn btn-toggle",
      title: "Ignore changes in whitespace (reloads the diff)",
    });
    this.context = h("select", { className: "select", attrs: { "aria-label": "Context lines" } });
    const contextLabel = h("label", { className: "context-control" }, [
      h("span", { text: "Context" }),
      this.context,
    ]);

    /** @type {HTMLElement} the view controls (other parts of the page add theirs) */
    this.controls = h("div", { className: "toolbar-controls" }, [
      this.totals, this.viewed, this.rounds, layout, this.whitespace, contextLabel,
    ]);
    root.append(
      h("div", { className: "topbar-row" }, [
        h("div", { className: "review-heading" }, [this.title, this.state, this.agent, this.round, this.sinceReview]),
        this.actions,
      ]),
      h("div", { className: "topbar-row toolbar" }, [
        h("div", { className: "review-meta" }, [this.repo, this.compare, this.description]),
        this.controls,
      ]),
    );

    layout.addEventListener("click", (event) => {
      const target = /** @type {Element} */ (event.target).closest("button[data-layout]");
      if (target instanceof HTMLElement) this.emit("set-layout", { layout: target.dataset.layout });
    });
    this.whitespace.addEventListener("click", () => this.emit("set-whitespace", { ws: !this.store.view.ws }));
    this.context.addEventListener("change", () => this.emit("set-context", { context: Number(this.context.value) }));
    this.rounds.addEventListener("change", () =>
      this.emit("set-round", { round: this.rounds.value ? Number(this.rounds.value) : null }),
    );
    // Sticky file headers sit below the page header, whatever its height.
    new ResizeObserver(() => {
      document.documentElement.style.setProperty("--topbar-height", `${Math.ceil(root.getBoundingClientRect().height)}px`);
    }).observe(root);
    this.renderAll();
  }

  /** @param {Change[]} changes */
  update(changes) {
    let totals = false;
    let viewed = false;
    for (const change of changes) {
      if (change.type === "review") this.renderReview();
      else if (change.type === "connection") this.renderConnection();
      else if (change.type === "layout") this.renderControls();
      else if (change.type === "files" || change.type === "file" || change.type === "removed") totals = true;
      else if (change.type === "viewed") viewed = true;
    }
    if (totals) this.renderTotals();
    if (totals || viewed) this.renderViewed();
  }

  /** @private */
  renderAll() {
    this.renderReview();
    this.renderConnection();
    this.renderControls();
    this.renderTotals();
  }

  /** @private */
  renderReview() {
    const review = this.store.review;
    if (!review) return;
    this.title.textContent = review.title || `Review ${review.id}`;
    document.title = `${review.title || review.id} \u00b7 backloop`;
    this.repo.textContent = `\u200e${review.repo}\u200e`;
    this.repo.title = review.repo;
    const description = describeView(review.view);
    this.description.textContent = description;
    this.description.hidden = Boolean(review.title) && review.title.includes(description);
    this.base.textContent = review.base ?? "";
    this.target.textContent = review.target ?? "";
    this.compare.hidden = !review.base && !review.target;
    const state = review.state ?? "open";
    this.state.hidden = false;
    this.state.textContent = state === "changes_requested" ? "Changes requested" : state[0].toUpperCase() + state.slice(1);
    this.state.dataset.reviewState = state;
    const agent = review.agent ?? "idle";
    this.agent.hidden = agent === "idle";
    this.agent.dataset.agent = agent;
    this.agent.textContent = agent === "waiting" ? "Agent waiting for comments" : "Agent working";
    this.renderRounds();
    this.renderConnection();
  }

  /**
   * "Round K", how many files changed since the person's last review, and the choice of changes to show: all of
   * them, or those since the end of an ended round.
   * @private
   */
  renderRounds() {
    const review = this.store.review;
    if (!review) return;
    const current = review.round ?? 1;
    const last = review.last_review ?? null;
    const changed = review.changed_since_review ?? null;
    this.round.textContent = `Round ${current}`;
    this.sinceReview.hidden = last === null || changed === null;
    this.sinceReview.textContent = `${changed} ${changed === 1 ? "file" : "files"} changed since your last review`;
    const shown = this.store.view.round;
    const ended = [...(review.rounds ?? [])].reverse();
    const key = JSON.stringify([shown, last, ended.map((r) => [r.number, r.how])]);
    if (this.rounds.dataset.shown === key) return;
    this.rounds.dataset.shown = key;
    /** @param {string} value @param {string} text */
    const option = (value, text) => h("option", { text, attrs: { value } });
    const options = [option("", "All changes")];
    if (last !== null) options.push(option(String(last), `Since my last review (round ${last})`));
    for (const r of ended) {
      if (r.number !== last) options.push(option(String(r.number), `Changes since round ${r.number} (${r.how})`));
    }
    if (shown !== null && !ended.some((r) => r.number === shown)) {
      options.push(option(String(shown), `Changes since round ${shown}`));
    }
    this.rounds.replaceChildren(...options);
    this.rounds.value = shown === null ? "" : String(shown);
    this.rounds.hidden = ended.length === 0 && shown === null;
  }

  /** @private */
  renderConnection() {
    const state = this.store.connection;
    const live = Boolean(this.store.review?.view.live);
    this.connection.dataset.connection = state;
    const labels = {
      open: live ? "Live" : "Connected",
      reconnecting: "Reconnecting\u2026",
      closed: this.store.loaded ? "Disconnected" : "Connecting\u2026",
    };
    this.connectionLabel.textContent = labels[state];
    this.connection.title = state === "open" && live ? "Updates as files change on disk" : labels[state];
  }

  /** @private */
  renderControls() {
    const { layout, ws, context } = this.store.view;
    this.unified.setAttribute("aria-pressed", String(layout === "unified"));
    this.split.setAttribute("aria-pressed", String(layout === "split"));
    this.whitespace.setAttribute("aria-pressed", String(ws));
    const choices = CONTEXT_CHOICES.includes(context) ? CONTEXT_CHOICES : [...CONTEXT_CHOICES, context].sort((a, b) => a - b);
    this.context.replaceChildren(
      ...choices.map((n) => h("option", { text: `${n} lines`, attrs: { value: String(n) } })),
    );
    this.context.value = String(context);
  }

  /** @private */
  renderTotals() {
    const { files, additions, deletions } = this.store.totals;
    // (a live update mostly leaves the totals as they were: then the header is not touched, nor laid out)
    const key = `${files} ${additions} ${deletions}`;
    if (this.totals.dataset.shown === key) return;
    this.totals.dataset.shown = key;
    this.totals.replaceChildren(
      h("strong", { text: String(files) }),
      ` ${files === 1 ? "file" : "files"} changed `,
      counts(additions, deletions),
    );
  }

  /** @private "7 / 12 viewed" */
  renderViewed() {
    const { order, viewed } = this.store;
    const text = `${viewed.count(order)} / ${order.length} viewed`;
    this.viewed.hidden = order.length === 0;
    if (this.viewed.textContent !== text) this.viewed.textContent = text;
  }

  /**
   * @private
   * @param {string} name
   * @param {object} detail
   */
  emit(name, detail) {
    this.root.dispatchEvent(new CustomEvent(`backloop:${name}`, { detail, bubbles: true }));
  }
}
