// Types of the velocity-sync package. Structured values are core's JSON forms.

/** A text operation in ot.js compact form: a positive integer retains that
 * many characters, a negative one deletes that many, a string inserts it.
 * Lengths count Unicode scalar values (an emoji is 1, `\r\n` is 2). */
export type Op = Array<number | string>;

/** A Monaco-style change: UTF-16 `offset` and `deleted` length, inserted `text`. */
export interface Utf16Change {
  offset: number;
  deleted: number;
  text: string;
}

/** Whose insert goes first when two ops insert at one place. */
export type Side = 'left' | 'right';
/** Whether a cursor at an insert moves after it or stays before it. */
export type Bias = 'after' | 'before';

/** An error from velocity-sync: `code` is core's stable code
 * (e.g. `ot.length_mismatch`, `path.parent_segment`), `wasm.bad_argument`
 * for an argument the binding cannot read, `wasm.panic` for a bug. */
export interface VelocitySyncError extends Error {
  name: 'VelocitySyncError';
  code: string;
}

export type FileKind = 'text' | 'binary' | 'directory';

/** One file of a project at one version. */
export interface FileEntry {
  id?: string;
  path: string;
  kind: FileKind;
  size: number;
  hash: string;
  executable?: boolean;
  revision: number;
}

/** One version of a project. */
export interface Manifest {
  version: number;
  parent?: string;
  entries: FileEntry[];
}

/** One change between two manifests. */
export type Change =
  | { op: 'added'; entry: FileEntry }
  | { op: 'removed'; entry: FileEntry }
  | { op: 'modified'; old: FileEntry; new: FileEntry }
  | { op: 'renamed'; old: FileEntry; new: FileEntry }
  | { op: 'kind_changed'; old: FileEntry; new: FileEntry };

/** The sorted changes from one manifest to another. */
export interface Diff {
  base: string;
  target: string;
  target_version: number;
  target_parent?: string;
  changes: Change[];
}

/** Hydration progress: files and content bytes done of total. */
export interface Progress {
  files_done: number;
  files_total: number;
  bytes_done: number;
  bytes_total: number;
}

/** A caret (`head`) and selection end (`anchor`), in characters. */
export interface Cursor {
  head: number;
  anchor: number;
}

/** A protocol message: `{"v": 1, "event", "payload"}` (PROTOCOL.md). */
export interface Envelope {
  v?: number;
  event: string;
  payload: unknown;
}

/** What a client applied, for the UI. */
export type ClientEvent =
  | { type: 'created'; entry: FileEntry }
  | { type: 'edited'; id: string; path: string; op: Op }
  | { type: 'replaced'; entry: FileEntry }
  | { type: 'renamed'; old: FileEntry; new: FileEntry }
  | { type: 'removed'; entry: FileEntry }
  | { type: 'hydrating'; progress: Progress }
  | { type: 'synced'; n: number }
  | { type: 'rejected'; code: string; message: string; id: string | null }
  | { type: 'presence'; client: number; id: string; cursor: Cursor | null };

/** A message the server wants delivered. */
export type Outbound =
  | { to: 'client'; client: number; message: Envelope }
  | { to: 'allExcept'; client: number; message: Envelope }
  | { to: 'all'; message: Envelope };

export type Role = 'editor' | 'agent' | 'viewer';

/** Loads the WebAssembly module (once). In browsers `input` may say where
 * the `.wasm` is; Node reads it from the package. */
export function init(input?: URL | string | Response | BufferSource | WebAssembly.Module): Promise<void>;

/** The core engine's version. */
export function coreVersion(): string;
/** Panic messages the module reported (a panic is a bug; tests assert none). */
export function panics(): readonly string[];
/** Whether `value` is a velocity-sync error. */
export function isVelocitySyncError(value: unknown): value is VelocitySyncError;

export const ops: {
  /** Reads ot.js JSON text and returns the op normalised. */
  fromJson(text: string): Op;
  apply(op: Op, text: string): string;
  compose(a: Op, b: Op): Op;
  transform(a: Op, b: Op, side: Side): [Op, Op];
  invert(op: Op, base: string): Op;
  transformPosition(op: Op, pos: number, bias: Bias): number;
  fromSplice(baseLen: number, pos: number, deleted: number, inserted: string): Op;
  fromUtf16(base: string, changes: readonly Utf16Change[]): Op;
  toUtf16(op: Op, base: string): Utf16Change[];
  diff(oldText: string, newText: string): Op;
  info(op: Op): { op: Op; baseLen: number; targetLen: number };
};

/** UTF-16 offset of character index `chars` (clamped to the end). */
export function utf16OfChar(text: string, chars: number): number;
/** Character index at UTF-16 offset `units`. */
export function charOfUtf16(text: string, units: number): number;

export const paths: {
  parse(text: string): string;
  parseLenient(text: string): string;
};

export const manifests: {
  entryFromContent(path: string, content: string | Uint8Array, id?: string, revision?: number): FileEntry;
  normalize(manifest: Manifest): Manifest;
  id(manifest: Manifest): string;
  diff(a: Manifest, b: Manifest): Diff;
  apply(manifest: Manifest, diff: Diff): Manifest;
};

/** Bytes in the protocol's form: UTF-8 text, or base64 for anything else. */
export type Content = { text: string } | { base64: string };
/** `{text}` for a string, `{base64}` for bytes; a Content is returned as is. */
export function contentOf(value: string | Uint8Array | Content): Content;

export type RowShape = 'editor' | 'rich' | 'simple';
/** Everything about a row besides entry and content (for encoding it back). */
export interface RowContext {
  project_id?: string | null;
  created_by?: string | null;
  last_modified_by?: string | null;
  parent_version_id?: string | null;
  is_current_version?: boolean | null;
  created_at?: string | null;
  updated_at?: string | null;
  passthrough?: Record<string, unknown>;
}
export interface DecodedRow {
  shape: RowShape;
  entry: FileEntry;
  content: Content;
  sha256: string;
  file_type: string | null;
  context: RowContext;
  issues: Array<{ code: string; [detail: string]: unknown }>;
}
/** Row codecs: in the full build only (Node, `velocity-sync/server`); the
 * browser build throws `wasm.not_in_build`. */
export const rows: {
  decode(row: Record<string, unknown>, policy?: 'reject' | 'report'): DecodedRow;
  encode(shape: RowShape, entry: FileEntry, content: string | Uint8Array | Content, context?: RowContext): Record<string, unknown>;
};

/** BLAKE3 and SHA-256 of a content, lowercase hex. */
export function hashOf(content: string | Uint8Array): { blake3: string; sha256: string };
/** A deterministic file id derived from `material` under `context`. */
export function fileIdDerive(context: string, material: string | Uint8Array): string;

/** A changeset's JSON form (format 1, core/src/changeset.rs). */
export interface ChangesetJson {
  format: number;
  diff: Diff;
  contents: Array<{ hash: string; text?: string; base64?: string; delta?: { base: string; ops: unknown[] } }>;
}
export const changesets: {
  /** What a receiver holding `base` needs to reach `target`; `contents` are the sender's.
   * Full build only (the sender is the server); the browser build throws `wasm.not_in_build`. */
  between(base: Manifest, target: Manifest, contents: ReadonlyArray<string | Uint8Array | Content>): ChangesetJson;
  /** Applies a changeset to `base`, whose `contents` the receiver holds. */
  apply(
    base: Manifest,
    contents: ReadonlyArray<string | Uint8Array | Content>,
    changeset: ChangesetJson | string,
  ): { manifest: Manifest; files: Record<string, Content> };
};

export const protocol: {
  /** A client's message as the server reads it. Full build only; the browser build throws
   * `wasm.not_in_build`. */
  decodeClient(text: string, limits?: { maxMessageBytes?: number }): Envelope;
  decodeServer(text: string, limits?: { maxMessageBytes?: number }): Envelope;
};

/** A file of a hydration batch: its entry and how its content travels. */
export type PlannedFile = FileEntry & { content: 'inline' | 'chunked' | 'known' };
/** One batch of a hydration plan: chunks are `[hash, offset, length]`. */
export interface PlannedBatch {
  files: PlannedFile[];
  blobs: string[];
  chunks: Array<[string, number, number]>;
  wire_bytes: number;
}
/** A hydration plan (core's HydrationPlan). */
export interface HydrationPlan {
  target: string;
  files: FileEntry[];
  batches: PlannedBatch[];
  content_bytes: number;
}

export const hydration: {
  /** The server's plan for a joining client. Full build only; the browser build throws
   * `wasm.not_in_build`. */
  plan(manifest: Manifest, haveEntries?: readonly FileEntry[], haveBlobs?: readonly string[], maxBatchBytes?: number): HydrationPlan;
  fraction(progress: Progress): number;
  complete(progress: Progress): boolean;
};

/** Undo and redo of one user's own edits in one file. */
export class UndoManager {
  constructor(limit?: number);
  record(op: Op, baseText: string): void;
  remote(op: Op): void;
  undo(currentText: string): Op | undefined;
  redo(currentText: string): Op | undefined;
  readonly canUndo: boolean;
  readonly canRedo: boolean;
  free(): void;
}

/** One text file as the server holds it (core's Document): a rope and a
 * compact history; an op made on an older kept revision is transformed in.
 * In the full build only (Node, `velocity-sync/server`): the browser build
 * throws `wasm.not_in_build`. */
export class TextDocument {
  constructor(text?: string);
  /** Orders `client`'s `seq`-th op, made on `baseRev` (an Op or its JSON text). */
  submit(client: number, seq: number, baseRev: number, op: Op | string): { rev: number; op: Op; duplicate: boolean };
  /**
   * Orders one splice made on `baseRev` (character offsets: at `pos`, `deleted`
   * characters replaced by `inserted`) and returns the new revision. Only
   * numbers cross (a single typed character as its code point); read the op
   * to broadcast with `lastOp()` when it is wanted.
   */
  splice(client: number, seq: number, baseRev: number, pos: number, deleted: number, inserted?: string): number;
  /** The op the last submission applied, to broadcast (undefined before the first). */
  lastOp(): Op | undefined;
  /** `lastOp()` as its JSON text, to put into a message without parsing it. */
  lastOpJson(): string | undefined;
  /** Whether the last submission repeated an earlier `(client, seq)`. */
  readonly lastDuplicate: boolean;
  readonly rev: number;
  readonly lenChars: number;
  text(): string;
  transformPositionSince(rev: number, pos: number): number;
  free(): void;
}

/** One participant's project state (core's ProjectClient). */
export class ProjectClient {
  constructor(id: number);
  readonly id: number;
  connect(): void;
  handle(message: Envelope | string): void;
  pollOutbound(): Envelope | undefined;
  pollEvents(): ClientEvent[];
  edit(id: string, op: Op): void;
  editUtf16(id: string, changes: readonly Utf16Change[]): Op;
  /** A number naming file `id` in `spliceUtf16` (the same for the same id). */
  fileHandle(id: string): number;
  /**
   * The editor's one-change path: at UTF-16 `offset` of file `handle`'s local
   * text, `deleted` code units replaced by `inserted`; the edit's inverse is
   * recorded in `undo`. Only numbers and the typed text cross; read the op
   * made with `lastEdit()` when it is wanted.
   */
  spliceUtf16(handle: number, offset: number, deleted: number, inserted: string, undo: UndoManager): void;
  /** The op (in characters) the last `spliceUtf16` made. */
  lastEdit(): Op | undefined;
  replace(id: string, content: string | Uint8Array): void;
  create(path: string, content?: string | Uint8Array): string;
  delete(id: string): void;
  rename(id: string, to: string): void;
  renameDirectory(from: string, to: string): void;
  setCursor(id: string, cursor: Cursor | null): void;
  text(id: string): string | undefined;
  content(id: string): Uint8Array | undefined;
  manifest(): Manifest;
  manifestId(): string;
  readonly eventNumber: number;
  readonly isSynced: boolean;
  readonly isIdle: boolean;
  unconfirmedFiles(): string[];
  free(): void;
}

/** One project's authority (core's ProjectServer). In the full build only
 * (Node, `velocity-sync/server`): the browser build throws `wasm.not_in_build`. */
export class ProjectServer {
  constructor();
  connect(client: number, role?: Role): void;
  disconnect(client: number): void;
  handle(client: number, message: Envelope | string): void;
  pollOutbound(): Outbound | undefined;
  checkpoint(): number | undefined;
  manifest(): Manifest;
  manifestId(): string;
  readonly eventNumber: number;
  content(id: string): Uint8Array | undefined;
  text(id: string): string | undefined;
  free(): void;
}

export const SERVER_EVENTS: readonly string[];
export const CLIENT_EVENTS: readonly string[];

/** The raw wasm-bindgen exports (JSON strings in and out). */
export const raw: Record<string, unknown>;
/** For tests only: makes the module panic. */
export function __panicForTests(): void;
