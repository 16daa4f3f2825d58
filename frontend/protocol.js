// The websocket wire protocol, as the browser sees it. Mirrors backloop/protocol.py: a test checks that the
// tags below match the tagged Structs of ServerMessage and ClientMessage there. Add, never rename.

export const PROTOCOL_VERSION = 1;

/** Tags of messages the server sends. */
export const SERVER = Object.freeze({
  HELLO: "hello",
  SNAPSHOT: "snapshot",
  FILE: "file",
  FILE_REMOVED: "file_removed",
  LINES: "lines",
  NOTICE: "notice",
  PONG: "pong",
  ERROR: "error",
  ACK: "ack",
  COMMENT: "comment",
  REVIEW: "review",
  FILE_CONTENT: "file_content",
  ROUND: "round",
  COMMENT_REMOVED: "comment_removed",
  VIEWED: "viewed",
});

/** Tags of messages the client sends. */
export const CLIENT = Object.freeze({
  EXPAND: "expand",
  LOAD_FILE: "load_file",
  PING: "ping",
  COMMENT: "comment",
  REPLY: "reply",
  RESOLVE: "resolve",
  OPEN_FILE: "open_file",
  EDIT: "edit",
  APPROVE: "approve",
  REQUEST_CHANGES: "request_changes",
  APPLY_SUGGESTIONS: "apply_suggestions",
  EDIT_COMMENT: "edit_comment",
  DELETE_COMMENT: "delete_comment",
  SUBMIT_REVIEW: "submit_review",
  SET_VIEWED: "set_viewed",
});

/** Websocket close codes the server uses (RFC 6455 private range). */
export const CLOSE = Object.freeze({
  UNKNOWN_REVIEW: 4404,
  FORBIDDEN: 4403,
  BAD_VIEW: 4400,
});

/** Close codes after which reconnecting cannot help. */
export const FATAL_CLOSE_CODES = Object.freeze([CLOSE.UNKNOWN_REVIEW, CLOSE.FORBIDDEN, CLOSE.BAD_VIEW]);

/**
 * @typedef {{kind: "context"|"add"|"del", old?: number|null, new?: number|null, text: string, html: string,
 *   no_eol?: boolean}} Line
 * @typedef {{id: string, old_start: number, old_lines: number, new_start: number, new_lines: number,
 *   header: string, lines: Line[]}} Hunk
 * @typedef {{path: string, old_path?: string|null, status: "added"|"modified"|"deleted"|"renamed"|"copied",
 *   binary: boolean, additions: number, deletions: number, hunks: Hunk[], digest?: string,
 *   similarity?: number|null, old_mode?: string|null, new_mode?: string|null, size?: number|null,
 *   too_large?: boolean, highlighted?: boolean, notice?: string|null, untracked?: boolean,
 *   unchanged?: boolean, loading?: boolean}} FileDiff
 * @typedef {{since?: string|null, commit?: string|null, range?: string|null, live?: boolean,
 *   view?: "unified"|"split", ws?: boolean, context?: number, round?: number|null}} ViewSpec
 * @typedef {{number: number, ended_at: number, ended_by: "person"|"agent", how: string}} RoundInfo
 * @typedef {"open"|"approved"|"changes_requested"} ReviewState
 * @typedef {"idle"|"waiting"|"working"} AgentState
 * @typedef {{id: string, title: string, repo: string, view: ViewSpec, state?: ReviewState, agent?: AgentState,
 *   base?: string, target?: string, round?: number, rounds?: RoundInfo[], last_review?: number|null,
 *   changed_since_review?: number|null}} ReviewInfo
 * @typedef {{id: string, author: "person"|"agent", body: string, created_at: number}} Reply
 * @typedef {{id: string, body: string, created_at: number, kind?: "comment"|"request_changes",
 *   path?: string|null, side?: "old"|"new", line?: number|null, end_line?: number|null, quoted?: string[],
 *   author?: "person"|"agent", state?: "open"|"resolved", outdated?: boolean, replies?: Reply[],
 *   applied?: string[], pending?: boolean, round?: number}} Comment
 * @typedef {{path: string, viewed: boolean, changed: boolean}} ViewedFile
 * @typedef {"comment"|"request_changes"|"approve"} Verdict
 * @typedef {{text: string, html: string}} ContextLine
 * @typedef {{type: "hello", protocol: number, review: ReviewInfo}
 *   | {type: "snapshot", files: FileDiff[], comments?: Comment[]}
 *   | {type: "file", file: FileDiff}
 *   | {type: "file_removed", path: string}
 *   | {type: "lines", request_id: string, path: string, start: number, lines: ContextLine[], eof: boolean}
 *   | {type: "notice", level: "ok"|"warning"|"error", message: string}
 *   | {type: "pong", nonce?: string}
 *   | {type: "error", code: string, message: string, client_id?: string|null, request_id?: string|null, path?: string|null}
 *   | {type: "ack", client_id: string, id: string}
 *   | {type: "comment", comment: Comment}
 *   | {type: "review", state: ReviewState, agent: AgentState}
 *   | {type: "file_content", request_id: string, path: string, content: string, hash: string}
 *   | {type: "round", current: number, rounds: RoundInfo[], last_review?: number|null,
 *       changed_since_review?: number|null}
 *   | {type: "comment_removed", id: string}
 *   | {type: "viewed", files: ViewedFile[]}} ServerMessage
 * @typedef {{type: "expand", request_id: string, path: string, start: number, end: number}
 *   | {type: "load_file", path: string}
 *   | {type: "ping", nonce?: string}
 *   | {type: "comment", client_id: string, path: string, body: string, side?: "old"|"new", line?: number|null,
 *       end_line?: number|null, pending?: boolean}
 *   | {type: "reply", client_id: string, comment_id: string, body: string}
 *   | {type: "resolve", client_id: string, comment_id: string}
 *   | {type: "open_file", request_id: string, path: string}
 *   | {type: "edit", client_id: string, path: string, base_hash: string, content: string}
 *   | {type: "approve", client_id: string, body?: string}
 *   | {type: "request_changes", client_id: string, body: string}
 *   | {type: "apply_suggestions", client_id: string, ids: string[]}
 *   | {type: "edit_comment", client_id: string, comment_id: string, body: string}
 *   | {type: "delete_comment", client_id: string, comment_id: string}
 *   | {type: "submit_review", client_id: string, body?: string, verdict?: Verdict}
 *   | {type: "set_viewed", client_id: string, path: string, viewed: boolean}} ClientMessage
 */
