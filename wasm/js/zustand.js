// A Zustand slice over core's ProjectClient: files, manifest, connection,
// hydration progress, pending edits and presence, with actions for opening
// files, local edits, incoming messages and reconnects. The slice holds no
// sync logic of its own: it forwards to the client and mirrors what it
// reports.
import { ProjectClient, SERVER_EVENTS, UndoManager, ops } from './core.js';

// Whether `text` has no lone surrogate (String.prototype.isWellFormed where
// the engine has it; else any surrogate counts, which only costs a re-read).
const wellFormed = (text) =>
  typeof text.isWellFormed === 'function' ? text.isWellFormed() : !/[\ud800-\udfff]/.test(text);

/**
 * A Zustand state creator: `createStore(createSyncSlice({ clientId, transport }))`
 * (or spread it into a bigger store with `(...a) => ({ ...createSyncSlice(o)(...a) })`).
 */
export function createSyncSlice({ clientId, transport, undoLimit = 1000 }) {
  return (set, get) => {
    const client = new ProjectClient(clientId);
    const undos = new Map();
    const handles = new Map();
    const handleOf = (id) => {
      let handle = handles.get(id);
      if (handle === undefined) {
        handle = client.fileHandle(id);
        handles.set(id, handle);
      }
      return handle;
    };
    const listeners = new Set();
    let online = false;

    const undoOf = (id) => {
      let undo = undos.get(id);
      if (!undo) {
        undo = new UndoManager(undoLimit);
        undos.set(id, undo);
      }
      return undo;
    };

    const flush = () => {
      if (!online) return;
      for (let message = client.pollOutbound(); message; message = client.pollOutbound()) {
        transport.send(message.event, message);
      }
    };

    const notify = (id, op, before, after, origin) => {
      for (const listener of listeners) listener({ id, op, before, after, origin });
    };

    const movePresence = (presence, id, op) => {
      const cursors = presence[id];
      if (!cursors) return presence;
      const moved = {};
      for (const [who, cursor] of Object.entries(cursors)) {
        moved[who] = {
          head: ops.transformPosition(op, cursor.head, 'after'),
          anchor: ops.transformPosition(op, cursor.anchor, 'after'),
        };
      }
      return { ...presence, [id]: moved };
    };

    // Mirrors what the client applied into the state and tells the editors.
    const absorb = () => {
      const events = client.pollEvents();
      const state = get();
      let texts = state.texts;
      let presence = state.presence;
      let hydration = state.hydration;
      let connection = state.connection;
      const rejected = [];
      let tree = false;
      for (const event of events) {
        switch (event.type) {
          case 'edited': {
            const before = texts[event.id];
            if (before !== undefined) {
              const after = ops.apply(event.op, before);
              texts = { ...texts, [event.id]: after };
              undos.get(event.id)?.remote(event.op);
              notify(event.id, event.op, before, after, 'remote');
            }
            presence = movePresence(presence, event.id, event.op);
            break;
          }
          case 'presence': {
            const cursors = { ...(presence[event.id] ?? {}) };
            if (event.cursor) cursors[event.client] = event.cursor;
            else delete cursors[event.client];
            presence = { ...presence, [event.id]: cursors };
            break;
          }
          case 'hydrating':
            hydration = event.progress;
            break;
          case 'synced':
            connection = 'synced';
            tree = true;
            break;
          case 'rejected':
            rejected.push({ code: event.code, message: event.message, id: event.id });
            break;
          default:
            tree = true;
        }
      }
      // Open files the events did not explain (replaced, resynced, removed).
      for (const [id, before] of Object.entries(texts)) {
        const now = client.text(id);
        if (now === undefined) {
          const { [id]: _gone, ...rest } = texts;
          texts = rest;
          undos.get(id)?.free();
          undos.delete(id);
        } else if (now !== before) {
          const op = ops.diff(before, now);
          texts = { ...texts, [id]: now };
          undos.get(id)?.remote(op);
          notify(id, op, before, now, 'reset');
          presence = movePresence(presence, id, op);
        }
      }
      const update = {
        texts,
        presence,
        hydration,
        connection,
        pending: client.unconfirmedFiles(),
        idle: client.isIdle,
      };
      if (tree || state.manifest === null) {
        update.manifest = client.manifest();
        update.manifestId = client.manifestId();
        update.files = Object.fromEntries(
          update.manifest.entries.filter((entry) => entry.id).map((entry) => [entry.id, entry]),
        );
      }
      if (rejected.length) update.rejected = [...state.rejected, ...rejected];
      set(update);
    };

    const local = (id, op, before) => {
      const texts = { ...get().texts, [id]: ops.apply(op, before) };
      set({ texts, presence: movePresence(get().presence, id, op) });
    };

    for (const event of SERVER_EVENTS) {
      transport.on(event, (payload) => get().receive(payload));
    }

    return {
      clientId,
      connection: 'disconnected',
      manifest: null,
      manifestId: null,
      files: {},
      texts: {},
      hydration: null,
      pending: [],
      idle: true,
      presence: {},
      rejected: [],
      errors: [],

      connect() {
        online = true;
        client.connect();
        set({ connection: 'connecting' });
        flush();
      },
      disconnect() {
        online = false;
        set({ connection: 'disconnected' });
      },
      reconnect() {
        get().disconnect();
        get().connect();
      },
      receive(payload) {
        if (!online) return;
        try {
          let message = payload;
          if (typeof message === 'string') {
            try {
              message = JSON.parse(message);
            } catch {
              // Left as text: the client refuses it with its own code.
            }
          }
          if (message && typeof message === 'object' && message.message && message.to) {
            // A broadcast medium carries the server's addressing: keep ours.
            const { to, client: target } = message;
            const mine =
              to === 'all' ||
              (to === 'client' && target === clientId) ||
              (to === 'allExcept' && target !== clientId);
            if (!mine) return;
            message = message.message;
          }
          client.handle(message);
        } catch (err) {
          // A malformed message changes nothing: keep it for the UI, go on.
          set({ errors: [...get().errors, { code: err.code ?? 'wasm.unknown', message: err.message }] });
          return;
        }
        absorb();
        flush();
      },
      openFile(id) {
        const known = get().texts[id];
        if (known !== undefined) return known;
        const text = client.text(id);
        if (text !== undefined) set({ texts: { ...get().texts, [id]: text } });
        return text;
      },
      localEdit(id, changes) {
        const before = get().openFile(id);
        const op = client.editUtf16(id, changes);
        undoOf(id).record(op, before);
        local(id, op, before);
        set({ pending: client.unconfirmedFiles(), idle: client.isIdle });
        flush();
        return op;
      },
      // The editor's per-keystroke path: one change in UTF-16 offsets. Only
      // numbers (and the typed text) cross into the module; the op is read
      // back only when remote cursors need moving through it.
      localSplice(id, offset, deleted, text) {
        const before = get().openFile(id);
        client.spliceUtf16(handleOf(id), offset, deleted, text, undoOf(id));
        const state = get();
        const spliced = before.slice(0, offset) + text + before.slice(offset + deleted);
        // A lone surrogate became U+FFFD in the module: take its text then.
        const after = wellFormed(text) ? spliced : client.text(id);
        const update = { texts: { ...state.texts, [id]: after } };
        if (state.presence[id]) update.presence = movePresence(state.presence, id, client.lastEdit());
        if (!state.pending.includes(id)) update.pending = client.unconfirmedFiles();
        const idle = client.isIdle;
        if (idle !== state.idle) update.idle = idle;
        set(update);
        flush();
      },
      localOp(id, op) {
        const before = get().openFile(id);
        client.edit(id, op);
        undoOf(id).record(op, before);
        local(id, op, before);
        set({ pending: client.unconfirmedFiles(), idle: client.isIdle });
        flush();
      },
      undo(id) {
        return step(id, 'undo');
      },
      redo(id) {
        return step(id, 'redo');
      },
      createFile(path, content) {
        const id = client.create(path, content);
        flush();
        return id;
      },
      deleteFile(id) {
        client.delete(id);
        flush();
      },
      renameFile(id, to) {
        client.rename(id, to);
        flush();
      },
      setCursor(id, cursor) {
        client.setCursor(id, cursor);
        flush();
      },
      subscribeEdits(listener) {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
      fileText(id) {
        return client.text(id);
      },
    };

    function step(id, which) {
      const before = get().openFile(id);
      if (before === undefined) return undefined;
      const undo = undoOf(id);
      const op = which === 'undo' ? undo.undo(before) : undo.redo(before);
      if (!op) return undefined;
      client.edit(id, op);
      local(id, op, before);
      set({ pending: client.unconfirmedFiles(), idle: client.isIdle });
      notify(id, op, before, get().texts[id], which);
      flush();
      return op;
    }
  };
}
