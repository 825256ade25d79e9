// Binds one Monaco editor to one file of a sync store: typed changes become
// ops (UTF-16 offsets in, characters out, through core), remote ops are
// applied with `applyEdits` without echo, selections are moved through them,
// undo/redo use core's per-user UndoManager, and remote cursors are drawn.
import { charOfUtf16, ops, utf16OfChar } from './core.js';

/** `"crlf"`, `"lf"`, or `"mixed"` (a text Monaco cannot hold byte-exact). */
export function lineEndings(text) {
  const crlf = (text.match(/\r\n/g) ?? []).length;
  const lf = (text.match(/\n/g) ?? []).length - crlf;
  const cr = (text.match(/\r/g) ?? []).length - crlf;
  if (cr > 0 || (crlf > 0 && lf > 0)) return 'mixed';
  return crlf > 0 ? 'crlf' : 'lf';
}

/**
 * Binds `editor` (its current model) to file `fileId` of `store` (a Zustand
 * store made with `createSyncSlice`). Returns `{ exact, dispose() }`;
 * `exact` is false for a mixed-line-ending file, which is shown read-only.
 */
export function bindMonaco({ monaco, editor, store, fileId, keybindings = true, onError = () => {} }) {
  const model = editor.getModel();
  const text = store.getState().openFile(fileId) ?? '';
  const endings = lineEndings(text);
  model.setEOL(
    endings === 'crlf' ? monaco.editor.EndOfLineSequence.CRLF : monaco.editor.EndOfLineSequence.LF,
  );
  let applying = true;
  model.setValue(text);
  applying = false;
  const exact = model.getValue() === text;
  if (!exact) editor.updateOptions({ readOnly: true });

  const disposables = [];
  let resets = 0;

  disposables.push(
    editor.onDidChangeModelContent((event) => {
      if (applying) return;
      try {
        if (event.changes.length === 1) {
          // A keystroke: one change, numbers into the module.
          const [c] = event.changes;
          store.getState().localSplice(fileId, c.rangeOffset, c.rangeLength, c.text);
        } else {
          // Several cursors at once: Monaco batches them in one event.
          const changes = event.changes.map((c) => ({
            offset: c.rangeOffset,
            deleted: c.rangeLength,
            text: c.text,
          }));
          store.getState().localEdit(fileId, changes);
        }
      } catch (err) {
        // The file is gone or the edit does not fit: show the store's truth.
        const truth = store.getState().fileText(fileId);
        if (truth !== undefined) {
          applying = true;
          model.setValue(truth);
          applying = false;
        }
        onError(err);
      }
    }),
  );

  const toChars = (value, offset) => charOfUtf16(value, offset);

  const unsubscribe = store.getState().subscribeEdits(({ id, op, before, after, origin }) => {
    if (id !== fileId) return;
    const selections = (editor.getSelections() ?? []).map((s) => ({
      anchor: toChars(before, model.getOffsetAt(s.getSelectionStart())),
      head: toChars(before, model.getOffsetAt(s.getPosition())),
    }));
    const changes = ops.toUtf16(op, before);
    const edits = changes.map((c) => {
      const start = model.getPositionAt(c.offset);
      const end = model.getPositionAt(c.offset + c.deleted);
      return {
        range: new monaco.Range(start.lineNumber, start.column, end.lineNumber, end.column),
        text: c.text,
      };
    });
    applying = true;
    try {
      model.applyEdits(edits);
      if (model.getValue() !== after) {
        // Monaco changed the bytes (an EOL it normalised): show the truth.
        resets += 1;
        model.setValue(after);
      }
    } finally {
      applying = false;
    }
    if (origin === 'undo' || origin === 'redo') {
      // Put the caret where the undone change was.
      const last = changes[changes.length - 1];
      if (last) {
        const at = model.getPositionAt(last.offset + last.text.length);
        editor.setPosition(at);
      }
      return;
    }
    const moved = selections.map((s) => {
      const a = model.getPositionAt(utf16OfChar(after, ops.transformPosition(op, s.anchor, 'after')));
      const h = model.getPositionAt(utf16OfChar(after, ops.transformPosition(op, s.head, 'after')));
      return new monaco.Selection(a.lineNumber, a.column, h.lineNumber, h.column);
    });
    if (moved.length) editor.setSelections(moved);
  });

  disposables.push(
    editor.onDidChangeCursorSelection((event) => {
      if (applying || store.getState().texts[fileId] === undefined) return;
      // The model is the truth for offsets here: the store may not have
      // stored the text of an edit it is still announcing.
      const value = model.getValue();
      const s = event.selection;
      store.getState().setCursor(fileId, {
        head: toChars(value, model.getOffsetAt(s.getPosition())),
        anchor: toChars(value, model.getOffsetAt(s.getSelectionStart())),
      });
    }),
  );

  if (keybindings) {
    const { KeyMod, KeyCode } = monaco;
    editor.addCommand(KeyMod.CtrlCmd | KeyCode.KeyZ, () => store.getState().undo(fileId));
    editor.addCommand(KeyMod.CtrlCmd | KeyCode.KeyY, () => store.getState().redo(fileId));
    editor.addCommand(KeyMod.CtrlCmd | KeyMod.Shift | KeyCode.KeyZ, () =>
      store.getState().redo(fileId),
    );
  }

  // Remote cursors as decorations, redrawn after each state change.
  let decorations = editor.createDecorationsCollection([]);
  let drawn = null;
  const draw = () => {
    const state = store.getState();
    const cursors = state.presence[fileId];
    const value = state.texts[fileId];
    if (cursors === drawn || value === undefined) return;
    drawn = cursors;
    const items = [];
    for (const [who, cursor] of Object.entries(cursors ?? {})) {
      const head = model.getPositionAt(utf16OfChar(value, cursor.head));
      const anchor = model.getPositionAt(utf16OfChar(value, cursor.anchor));
      items.push({
        range: new monaco.Range(anchor.lineNumber, anchor.column, head.lineNumber, head.column),
        options: {
          className: 'velocity-sync-remote-selection',
          beforeContentClassName: `velocity-sync-remote-cursor velocity-sync-client-${who}`,
          hoverMessage: { value: `client ${who}` },
        },
      });
    }
    decorations.set(items);
  };
  let scheduled = false;
  const unsubscribePresence = store.subscribe(() => {
    if (scheduled) return;
    scheduled = true;
    queueMicrotask(() => {
      scheduled = false;
      draw();
    });
  });

  return {
    exact,
    endings,
    get resets() {
      return resets;
    },
    dispose() {
      unsubscribe();
      unsubscribePresence();
      decorations.clear();
      decorations = null;
      for (const d of disposables) d.dispose();
    },
  };
}
