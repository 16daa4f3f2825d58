// One file's section: the header (path, status, mode, counts, collapse toggle) and the messages that stand in
// for a diff table (binary, image previews, too large, notices). The table itself comes from unified/split.
import { h, button, icon, formatBytes, fileId } from "./dom.js";

/**
 * @typedef {import("../protocol.js").FileDiff} FileDiff
 * @typedef {import("../store.js").FileUI} FileUI
 * @typedef {{rawUrl: (side: "old"|"new", path: string) => string}} FileContext
 */

const STATUS_LABELS = /** @type {const} */ ({
  added: "Added",
  modified: "Modified",
  deleted: "Deleted",
  renamed: "Renamed",
  copied: "Copied",
});

const IMAGE_EXTENSIONS = new Set(["png", "jpg", "jpeg", "gif", "webp", "bmp", "ico"]);

/**
 * @param {string} path
 * @returns {boolean}
 */
export function isImage(path) {
  const dot = path.lastIndexOf(".");
  return dot >= 0 && IMAGE_EXTENSIONS.has(path.slice(dot + 1).toLowerCase());
}

/**
 * @param {FileDiff} file
 * @returns {string}
 */
export function statusLabel(file) {
  const label = STATUS_LABELS[file.status] ?? file.status;
  return (file.status === "renamed" || file.status === "copied") && file.similarity != null
    ? `${label} ${file.similarity}%`
    : label;
}

/**
 * @param {FileDiff} file
 * @returns {string|null} e.g. "100644 → 100755"
 */
export function modeChange(file) {
  if (file.old_mode && file.new_mode && file.old_mode !== file.new_mode) return `${file.old_mode} → ${file.new_mode}`;
  return null;
}

/**
 * Five blocks, green for the share of additions, red for deletions (GitHub's diffstat): one element, drawn by
 * CSS from its --green and --red block counts (a thousand file headers stay light).
 * @param {number} additions
 * @param {number} deletions
 * @returns {HTMLSpanElement}
 */
function diffstat(additions, deletions) {
  const total = additions + deletions;
  const green = total ? Math.round((5 * additions) / total) : 0;
  const red = total ? Math.min(5 - green, Math.max(deletions ? 1 : 0, Math.round((5 * deletions) / total))) : 0;
  const blocks = h("span", { className: "diffstat", attrs: { "aria-hidden": "true" } });
  blocks.style.setProperty("--green", String(green));
  blocks.style.setProperty("--red", String(red));
  return blocks;
}

/**
 * The +/- counts with an accessible summary.
 * @param {number} additions
 * @param {number} deletions
 * @returns {HTMLSpanElement}
 */
export function counts(additions, deletions) {
  return h(
    "span",
    {
      className: "counts",
      attrs: { title: `${additions} additions, ${deletions} deletions` },
    },
    [
      h("span", { className: "count-add", text: `+${additions}` }),
      h("span", { className: "count-del", text: `\u2212${deletions}` }),
    ],
  );
}

/**
 * The "Viewed" checkbox of a file (described by the file's title), and a note when it changed since it was viewed.
 * @param {string} id the file's element id
 * @param {{viewed: boolean, changed: boolean}} mark
 * @returns {Node[]}
 */
function viewedControl(id, mark) {
  const box = h("input", { attrs: { type: "checkbox", "aria-describedby": `${id}-title` }, data: { action: "viewed" } });
  box.checked = mark.viewed;
  const label = h("label", { className: "viewed-toggle", attrs: { title: "Mark as viewed: the file folds until it changes" } }, [
    box,
    h("span", { text: "Viewed" }),
  ]);
  const changed = mark.changed ? h("span", { className: "badge badge-changed", text: "Changed since you viewed it" }) : null;
  return changed ? [changed, label] : [label];
}

/**
 * The header of a file section.
 * @param {FileDiff} file
 * @param {FileUI|undefined} ui
 * @param {boolean} editable offer to edit the work-tree file
 * @param {{viewed: boolean, changed: boolean}} mark whether the person marked it viewed, or it changed since
 * @param {number|null} [round] the view shows the changes since the end of this round
 * @returns {HTMLDivElement}
 */
export function renderFileHeader(file, ui, editable, mark, round = null) {
  const id = fileId(file.path);
  const collapsed = Boolean(ui?.collapsed);
  const toggle = button("", {
    className: "file-toggle",
    label: `${collapsed ? "Expand" : "Collapse"} ${file.path}`,
    data: { action: "toggle" },
  });
  toggle.setAttribute("aria-expanded", String(!collapsed));
  toggle.setAttribute("aria-controls", `${id}-body`);
  toggle.append(icon("chevron"));

  const title = h("h2", { className: "file-title", attrs: { id: `${id}-title` } });
  if (file.old_path && file.old_path !== file.path) {
    title.append(
      h("span", { className: "file-path file-path-old", text: file.old_path }),
      h("span", { className: "arrow", text: " \u2192 ", attrs: { "aria-label": "renamed to" } }),
    );
  }
  title.append(h("span", { className: "file-path", text: file.path }));

  const badges = h("span", { className: "file-badges" }, [
    h("span", { className: `badge badge-${file.status}`, text: statusLabel(file) }),
  ]);
  const mode = modeChange(file);
  if (mode) badges.append(h("span", { className: "badge badge-mode", text: mode, attrs: { title: "File mode changed" } }));
  if (file.binary) badges.append(h("span", { className: "badge badge-binary", text: "Binary" }));
  if (file.untracked) badges.append(h("span", { className: "badge badge-untracked", text: "Untracked" }));
  if (file.unchanged) {
    badges.append(h("span", { className: "badge badge-unchanged", text: `Unchanged since round ${round ?? "?"}` }));
  }

  const stats = h("span", { className: "file-stats" }, [
    counts(file.additions, file.deletions),
    diffstat(file.additions, file.deletions),
  ]);
  const edit = editable
    ? button("Edit", { className: "btn btn-small", title: `Edit ${file.path} in the work tree`, data: { action: "edit" } })
    : null;
  return h("div", { className: "file-header" }, [toggle, title, badges, stats, edit, ...viewedControl(id, mark)]);
}

/**
 * Before/after previews of an image file, from the raw endpoint.
 * @param {FileDiff} file
 * @param {FileContext} context
 * @returns {HTMLDivElement}
 */
function imagePreview(file, context) {
  const sides = h("div", { className: "image-diff" });
  /** @param {"old"|"new"} side @param {string} path @param {string} caption */
  const figure = (side, path, caption) => {
    const img = h("img", { attrs: { alt: `${caption}: ${path}`, loading: "lazy", decoding: "async" } });
    const size = h("span", { className: "image-size" });
    img.addEventListener("load", () => {
      size.textContent = `${img.naturalWidth} \u00d7 ${img.naturalHeight} px`;
    });
    img.addEventListener("error", () => {
      size.textContent = "could not be loaded";
    });
    img.src = context.rawUrl(side, path);
    return h("figure", { className: `image-side image-${side}` }, [
      h("figcaption", {}, [h("span", { text: caption }), size]),
      h("div", { className: "image-frame" }, [img]),
    ]);
  };
  if (file.status !== "added") sides.append(figure("old", file.old_path || file.path, "Before"));
  if (file.status !== "deleted") sides.append(figure("new", file.path, "After"));
  return sides;
}

/**
 * A message in place of the diff table.
 * @param {string} text
 * @param {Node[]} [extra]
 * @returns {HTMLDivElement}
 */
function message(text, extra = []) {
  return h("div", { className: "file-message" }, [h("p", { text }), ...extra]);
}

/**
 * What stands before or instead of the diff table. `table` says whether the file has lines to render;
 * `loading`, that its lines are on their way (a streamed snapshot sent it without them).
 * @param {FileDiff} file
 * @param {FileUI|undefined} ui
 * @param {FileContext} context
 * @returns {{parts: Node[], table: boolean, loading?: boolean}}
 */
export function renderFileParts(file, ui, context) {
  /** @type {Node[]} */
  const parts = [];
  if (file.notice) parts.push(h("div", { className: "file-notice", attrs: { role: "note" }, text: file.notice }));
  if (file.loading && file.hunks.length === 0 && !file.binary && !file.too_large) return { parts, table: false, loading: true };
  if (file.too_large && file.hunks.length === 0) {
    const size = file.size != null ? ` (${formatBytes(file.size)})` : "";
    // (said of the file's version it was asked for: a later version gets its own "Load diff")
    if (ui?.loadError && ui.loadError.digest === (file.digest ?? null)) {
      /** @type {Array<["old"|"new", string]>} */
      const sides = [];
      if (file.status !== "deleted") sides.push(["new", "Download the new version"]);
      if (file.status !== "added") sides.push(["old", "Download the old version"]);
      const links = sides.map(([side, text]) =>
        h("a", { className: "btn", text, attrs: { href: context.rawUrl(side, file.path), download: "" } }),
      );
      parts.push(message(ui.loadError.message, links));
      return { parts, table: false };
    }
    const load = button(ui?.loadRequested ? "Loading\u2026" : "Load diff", {
      className: "btn btn-load",
      label: `Load diff of ${file.path}`,
      data: { action: "load" },
    });
    load.disabled = Boolean(ui?.loadRequested);
    parts.push(message(`Large diff${size} not rendered by default.`, [load]));
    return { parts, table: false };
  }
  if (file.binary) {
    if (isImage(file.path)) parts.push(imagePreview(file, context));
    else {
      const size = file.size != null ? ` (${formatBytes(file.size)})` : "";
      parts.push(message(`Binary file not shown${size}.`));
    }
    return { parts, table: false };
  }
  if (file.hunks.length === 0) {
    let text = "No changes to show.";
    if (file.unchanged) text = "Not changed since the end of that round.";
    else if (file.status === "renamed") text = "File renamed without changes.";
    else if (file.status === "copied") text = "File copied without changes.";
    else if (modeChange(file)) text = "File mode changed.";
    else if (file.status === "added") text = "Empty file added.";
    else if (file.status === "deleted") text = "Empty file deleted.";
    parts.push(message(text));
    return { parts, table: false };
  }
  return { parts, table: true };
}
