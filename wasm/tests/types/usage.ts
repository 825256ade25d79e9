// Type-level test of the package's .d.ts: the public API used the way the
// README shows, with Zustand's and Monaco's own types. `tsc` must accept it;
// the @ts-expect-error lines must be errors (wrong use is caught).
import * as monaco from 'monaco-editor';
import { createStore } from 'zustand/vanilla';
import {
  ProjectClient,
  ProjectServer,
  TextDocument,
  UndoManager,
  init,
  isVelocitySyncError,
  manifests,
  ops,
  type ClientEvent,
  type Op,
  type Utf16Change,
} from '../../pkg/index.js';
import { bindMonaco } from '../../pkg/monaco.js';
import { type BroadcastChannel, supabaseTransport } from '../../pkg/supabase.js';
import { type SyncState, createSyncSlice } from '../../pkg/zustand.js';

declare const channel: BroadcastChannel;
declare const editor: monaco.editor.IStandaloneCodeEditor;

export async function wire(): Promise<void> {
  await init();
  const store = createStore<SyncState>()(createSyncSlice({ clientId: 7, transport: supabaseTransport(channel, { clientId: 7 }) }));
  store.getState().connect();
  const binding = bindMonaco({ monaco, editor, store, fileId: 'id' });
  const exact: boolean = binding.exact;
  const changes: Utf16Change[] = ops.toUtf16([1, 'a'], 'x');
  const op: Op = store.getState().localEdit('id', changes);
  const [a, b]: [Op, Op] = ops.transform(op, op, 'left');
  const text: string = ops.apply(ops.compose(a, b), 'x');
  const undo = new UndoManager(10);
  undo.record(op, text);
  const client = new ProjectClient(1);
  const events: ClientEvent[] = client.pollEvents();
  for (const event of events) {
    if (event.type === 'edited') {
      const edited: Op = event.op;
      void edited;
    }
  }
  store.getState().localSplice('id', 0, 1, 'é');
  const handle: number = client.fileHandle('id');
  client.spliceUtf16(handle, 0, 0, 'a', undo);
  const made: Op | undefined = client.lastEdit();
  void made;
  const doc = new TextDocument('x');
  const rev: number = doc.splice(1, 1, 0, 1, 0, 'y');
  const broadcast: Op | undefined = doc.lastOp();
  const duplicate: boolean = doc.lastDuplicate;
  void rev;
  void broadcast;
  void duplicate;
  // @ts-expect-error: a splice's offsets are numbers
  doc.splice(1, 1, 0, '1', 0, 'y');
  // @ts-expect-error: the undo manager is required
  client.spliceUtf16(handle, 0, 0, 'a');
  const server = new ProjectServer();
  const out = server.pollOutbound();
  if (out && out.to !== 'all') {
    const target: number = out.client;
    void target;
  }
  const id: string = manifests.id({ version: 0, entries: [manifests.entryFromContent('a.ts', 'x')] });
  try {
    ops.apply([9], '');
  } catch (err) {
    if (isVelocitySyncError(err)) {
      const code: string = err.code;
      void code;
    }
  }
  // @ts-expect-error: a side is "left" or "right"
  ops.transform(op, op, 'up');
  // @ts-expect-error: ops are arrays of numbers and strings
  ops.apply([true], 'x');
  void exact;
  void id;
}
