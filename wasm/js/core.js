// The typed JavaScript face of the bindings. Every function converts between
// JS values and the JSON strings the WebAssembly exports take, and nothing
// else: the sync logic is core's, compiled to WebAssembly.
//
// Two builds of the module ship: `velocity_sync_wasm` (the browser build:
// client, ops, undo, manifests, hydration, presence) and `velocity_sync_full`
// (the same plus `ProjectServer`, `TextDocument` and the row codecs). The
// entry points say which they loaded: everything runs on the browser build
// once it is loaded (else on the full build), and the server-only exports on
// the full build.
import * as browser from './velocity_sync_wasm.js';
import * as full from './velocity_sync_full.js';

let wasm = browser;
let serverWasm;
let browserLoaded = false;

/** For the entry points: `which` (`'browser'` or `'full'`) is now loaded. */
export function __loaded(which) {
  if (which === 'full') {
    serverWasm = full;
    if (!browserLoaded) wasm = full;
  } else {
    browserLoaded = true;
    wasm = browser;
  }
}

const recorded = [];

// The Rust panic hook calls this before the module traps (panic = abort).
globalThis.__velocitySyncPanic = (message) => {
  recorded.push(String(message));
};

/** Panics reported by the module since it loaded (a panic is a bug). */
export function panics() {
  return recorded.slice();
}

/** Whether `value` is an error raised by velocity-sync (it has a `code`). */
export function isVelocitySyncError(value) {
  return value instanceof Error && typeof value.code === 'string';
}

function error(code, message) {
  const err = new Error(message);
  err.name = 'VelocitySyncError';
  err.code = code;
  return err;
}

// What a failed call into the module throws: a trap (a panic, reported
// first by the hook) becomes an error with code `wasm.panic`.
function failure(err) {
  if (err instanceof WebAssembly.RuntimeError) {
    const last = recorded[recorded.length - 1] ?? err.message;
    return error('wasm.panic', `velocity-sync panicked: ${last}`);
  }
  return err;
}

// Runs one call into the module.
function call(fn) {
  try {
    return fn();
  } catch (err) {
    throw failure(err);
  }
}

// The code point of `text` when it is exactly one Unicode scalar value
// (what one keystroke types), -1 when empty, else undefined: the
// numbers-only entry points take it instead of a string.
function singleCodePoint(text) {
  const n = text.length;
  if (n === 0) return -1;
  if (n > 2) return undefined;
  const code = text.codePointAt(0);
  if (code >= 0xd800 && code <= 0xdfff) return undefined; // a lone surrogate
  return (code > 0xffff ? 2 : 1) === n ? code : undefined;
}

// A server-only export asked of the browser build: a typed error that says
// where it lives, not a TypeError.
function serverOnly(name) {
  const module = serverWasm ?? wasm;
  if (module[name] === undefined) {
    throw error(
      'wasm.not_in_build',
      `${name} is not in the browser build: import it from 'velocity-sync/server'`,
    );
  }
  return module[name];
}

const json = (value) => JSON.stringify(value);
const parse = (text) => JSON.parse(text);
const bytes = (content) =>
  content === undefined || content === null
    ? undefined
    : typeof content === 'string'
      ? new TextEncoder().encode(content)
      : content;

/** The version of the core engine. */
export function coreVersion() {
  return call(() => wasm.coreVersion());
}

/** Text operations (ot.js compact JSON ops, positions in Unicode scalar values). */
export const ops = {
  fromJson: (text) => parse(call(() => wasm.opInfo(text))).op,
  apply: (op, text) => call(() => wasm.opApply(json(op), text)),
  compose: (a, b) => parse(call(() => wasm.opCompose(json(a), json(b)))),
  transform: (a, b, side) => parse(call(() => wasm.opTransform(json(a), json(b), side))),
  invert: (op, base) => parse(call(() => wasm.opInvert(json(op), base))),
  transformPosition: (op, pos, bias) => call(() => wasm.opTransformPosition(json(op), pos, bias)),
  fromSplice: (baseLen, pos, deleted, inserted) =>
    parse(call(() => wasm.opFromSplice(baseLen, pos, deleted, inserted))),
  fromUtf16: (base, changes) => parse(call(() => wasm.opFromUtf16(base, json(changes)))),
  toUtf16: (op, base) => parse(call(() => wasm.opToUtf16(json(op), base))),
  diff: (oldText, newText) => parse(call(() => wasm.opDiff(oldText, newText))),
  info: (op) => parse(call(() => wasm.opInfo(json(op)))),
};

/** UTF-16 offset of character index `chars` in `text`. */
export function utf16OfChar(text, chars) {
  return call(() => wasm.utf16OfChar(text, chars));
}

/** Character index at UTF-16 offset `units` of `text`. */
export function charOfUtf16(text, units) {
  return call(() => wasm.charOfUtf16(text, units));
}

/** Paths, entries and manifests (core's JSON forms). */
export const paths = {
  parse: (text) => call(() => wasm.pathParse(text)),
  parseLenient: (text) => call(() => wasm.pathParseLenient(text)),
};

export const manifests = {
  entryFromContent: (path, content, id, revision = 0) =>
    parse(call(() => wasm.entryFromContent(path, bytes(content), id ?? undefined, revision))),
  normalize: (manifest) => parse(call(() => wasm.manifestNormalize(json(manifest)))),
  id: (manifest) => call(() => wasm.manifestId(json(manifest))),
  diff: (a, b) => parse(call(() => wasm.manifestDiff(json(a), json(b)))),
  apply: (manifest, diff) => parse(call(() => wasm.manifestApply(json(manifest), json(diff)))),
};

/** A byte content in the protocol's form: `{text}` for UTF-8 text, else `{base64}`. */
export function contentOf(value) {
  if (typeof value === 'string') return { text: value };
  if (value && (typeof value.text === 'string' || typeof value.base64 === 'string')) return value;
  let binary = '';
  for (const byte of value) binary += String.fromCharCode(byte);
  return { base64: btoa(binary) };
}

/** The `project_files` row codecs. */
export const rows = {
  decode: (row, policy = 'reject') => parse(call(() => serverOnly('rowsDecode')(json(row), policy))),
  encode: (shape, entry, content, context = {}) =>
    parse(call(() => serverOnly('rowsEncode')(shape, json(entry), json(contentOf(content)), json(context)))),
};

/** BLAKE3 and SHA-256 of a content, hex. */
export function hashOf(content) {
  return parse(call(() => wasm.hashOf(bytes(content))));
}

/** A deterministic file id from `material` under `context`. */
export function fileIdDerive(context, material) {
  return call(() => wasm.fileIdDerive(context, bytes(material)));
}

/** Changesets: what a receiver holding one manifest needs to reach another. */
export const changesets = {
  between: (base, target, contents) =>
    parse(call(() => serverOnly('changesetBetween')(json(base), json(target), json(contents.map(contentOf))))),
  apply: (base, contents, changeset) =>
    parse(
      call(() =>
        wasm.changesetApply(
          json(base),
          json(contents.map(contentOf)),
          typeof changeset === 'string' ? changeset : json(changeset),
        ),
      ),
    ),
};

/** The wire codecs: decode and validate one message, re-encoded. */
export const protocol = {
  decodeClient: (text, { maxMessageBytes } = {}) =>
    parse(call(() => serverOnly('protocolDecodeClient')(text, maxMessageBytes))),
  decodeServer: (text, { maxMessageBytes } = {}) =>
    parse(call(() => wasm.protocolDecodeServer(text, maxMessageBytes))),
};

/** Hydration plans and progress (the client reports progress in `hydrating` events). */
export const hydration = {
  plan: (manifest, haveEntries = [], haveBlobs = [], maxBatchBytes = 200 * 1024) =>
    parse(call(() => serverOnly('hydratePlan')(json(manifest), json(haveEntries), json(haveBlobs), maxBatchBytes))),
  fraction: (progress) => call(() => wasm.hydrationFraction(json(progress))),
  complete: (progress) => call(() => wasm.hydrationComplete(json(progress))),
};

// The module object behind an UndoManager, for ProjectClient.spliceUtf16.
let undoInner;

/** Undo and redo of one user's own edits in one file. */
export class UndoManager {
  #inner;
  static {
    undoInner = (undo) => undo.#inner;
  }
  constructor(limit = 1000) {
    this.#inner = call(() => new wasm.UndoManager(limit));
  }
  record(op, baseText) {
    call(() => this.#inner.record(json(op), baseText));
  }
  remote(op) {
    call(() => this.#inner.remote(json(op)));
  }
  undo(currentText) {
    const op = call(() => this.#inner.undo(currentText));
    return op === undefined ? undefined : parse(op);
  }
  redo(currentText) {
    const op = call(() => this.#inner.redo(currentText));
    return op === undefined ? undefined : parse(op);
  }
  get canUndo() {
    return call(() => this.#inner.canUndo());
  }
  get canRedo() {
    return call(() => this.#inner.canRedo());
  }
  free() {
    this.#inner.free();
  }
}

/** One text file as the server holds it (core's `Document`). */
export class TextDocument {
  #inner;
  constructor(text = '') {
    const Doc = serverOnly('TextDocument');
    this.#inner = call(() => new Doc(text));
  }
  submit(client, seq, baseRev, op) {
    return parse(call(() => this.#inner.submit(client, seq, baseRev, typeof op === 'string' ? op : json(op))));
  }
  /**
   * Orders one splice (character offsets into the text at `baseRev`) and
   * returns the new revision; numbers cross, and a single typed character
   * as its code point. The op to broadcast is `lastOp()`.
   */
  splice(client, seq, baseRev, pos, deleted, inserted = '') {
    let rev;
    try {
      const code = singleCodePoint(inserted);
      rev = code === undefined
        ? this.#inner.submitSplice(client, seq, baseRev, pos, deleted, inserted)
        : this.#inner.submitCodePoint(client, seq, baseRev, pos, deleted, code);
      // -1: failed, the reason waits in the module (the success path returns
      // a bare number).
      if (rev === -1) this.#inner.takeError();
    } catch (err) {
      throw failure(err);
    }
    return rev;
  }
  /** The op the last submission applied, to broadcast (undefined before the first). */
  lastOp() {
    const op = call(() => this.#inner.lastOp());
    return op === undefined ? undefined : parse(op);
  }
  /** `lastOp()` as its JSON text, to put into a message without parsing it. */
  lastOpJson() {
    return call(() => this.#inner.lastOp());
  }
  /** Whether the last submission repeated an earlier `(client, seq)`. */
  get lastDuplicate() {
    return call(() => this.#inner.lastDuplicate);
  }
  get rev() {
    return call(() => this.#inner.rev);
  }
  get lenChars() {
    return call(() => this.#inner.lenChars);
  }
  text() {
    return call(() => this.#inner.text());
  }
  transformPositionSince(rev, pos) {
    return call(() => this.#inner.transformPositionSince(rev, pos));
  }
  free() {
    this.#inner.free();
  }
}

const envelope = (message) => (typeof message === 'string' ? message : json(message));

/** One participant's project state (core's `ProjectClient`). */
export class ProjectClient {
  #inner;
  constructor(id) {
    this.#inner = call(() => new wasm.ProjectClient(id));
  }
  get id() {
    return call(() => this.#inner.id);
  }
  connect() {
    call(() => this.#inner.connect());
  }
  handle(message) {
    call(() => this.#inner.handle(envelope(message)));
  }
  pollOutbound() {
    const out = call(() => this.#inner.pollOutbound());
    return out === undefined ? undefined : parse(out);
  }
  pollEvents() {
    return parse(call(() => this.#inner.pollEvents()));
  }
  edit(id, op) {
    call(() => this.#inner.edit(id, json(op)));
  }
  editUtf16(id, changes) {
    return parse(call(() => this.#inner.editUtf16(id, json(changes))));
  }
  /** A number naming file `id` in `spliceUtf16` (the same for the same id). */
  fileHandle(id) {
    return call(() => this.#inner.fileHandle(id));
  }
  /**
   * The editor's one-change path: at UTF-16 `offset` of file `handle`'s local
   * text, `deleted` code units replaced by `inserted`, its inverse recorded in
   * `undo`. Only numbers and the typed text cross; the op made is
   * `lastEdit()`.
   */
  spliceUtf16(handle, offset, deleted, inserted, undo) {
    try {
      this.#inner.spliceUtf16(handle, offset, deleted, inserted, undoInner(undo));
    } catch (err) {
      throw failure(err);
    }
  }
  /** The op (in characters) the last `spliceUtf16` made. */
  lastEdit() {
    const op = call(() => this.#inner.lastEdit());
    return op === undefined ? undefined : parse(op);
  }
  replace(id, content) {
    call(() => this.#inner.replace(id, bytes(content)));
  }
  create(path, content) {
    return call(() => this.#inner.create(path, bytes(content)));
  }
  delete(id) {
    call(() => this.#inner.delete(id));
  }
  rename(id, to) {
    call(() => this.#inner.rename(id, to));
  }
  renameDirectory(from, to) {
    call(() => this.#inner.renameDirectory(from, to));
  }
  setCursor(id, cursor) {
    call(() => this.#inner.setCursor(id, cursor?.head, cursor?.anchor));
  }
  text(id) {
    return call(() => this.#inner.text(id));
  }
  content(id) {
    return call(() => this.#inner.content(id));
  }
  manifest() {
    return parse(call(() => this.#inner.manifest()));
  }
  manifestId() {
    return call(() => this.#inner.manifestId());
  }
  get eventNumber() {
    return call(() => this.#inner.eventNumber());
  }
  get isSynced() {
    return call(() => this.#inner.isSynced());
  }
  get isIdle() {
    return call(() => this.#inner.isIdle());
  }
  unconfirmedFiles() {
    return parse(call(() => this.#inner.unconfirmedFiles()));
  }
  free() {
    this.#inner.free();
  }
}

/** One project's authority (core's `ProjectServer`). */
export class ProjectServer {
  #inner;
  constructor() {
    const Server = serverOnly('ProjectServer');
    this.#inner = call(() => new Server());
  }
  connect(client, role = 'editor') {
    call(() => this.#inner.connect(client, role));
  }
  disconnect(client) {
    call(() => this.#inner.disconnect(client));
  }
  handle(client, message) {
    call(() => this.#inner.handle(client, envelope(message)));
  }
  pollOutbound() {
    const out = call(() => this.#inner.pollOutbound());
    return out === undefined ? undefined : parse(out);
  }
  checkpoint() {
    return call(() => this.#inner.checkpoint());
  }
  manifest() {
    return parse(call(() => this.#inner.manifest()));
  }
  manifestId() {
    return call(() => this.#inner.manifestId());
  }
  get eventNumber() {
    return call(() => this.#inner.eventNumber());
  }
  content(id) {
    return call(() => this.#inner.content(id));
  }
  text(id) {
    const content = this.content(id);
    return content === undefined ? undefined : new TextDecoder().decode(content);
  }
  free() {
    this.#inner.free();
  }
}

/** Event names a server sends (a transport listens to each). */
export const SERVER_EVENTS = Object.freeze([
  'ack',
  'error',
  'file:bulk-update',
  'file:checkpoint',
  'file:create',
  'file:delete',
  'file:rename',
  'file:update',
  'presence',
  'resync-required',
  'sync:catch-up',
]);

/** Event names a client sends (a server-side transport listens to each). */
export const CLIENT_EVENTS = Object.freeze([
  'file:create',
  'file:delete',
  'file:rename',
  'file:update',
  'presence',
  'sync:hello',
]);

/** For tests only: panics inside the module on purpose. */
export function __panicForTests() {
  call(() => wasm.__panicForTests());
}

export { wasm as raw };
