// The browser test's page: one ProjectServer and two Zustand stores from the
// package, connected by an in-page hub that delivers after random delays (so
// edits cross in flight), and two real Monaco editors bound to one file.
import { createStore } from 'zustand/vanilla';
import * as pkg from '/wasm/pkg/index.js';
import * as serverPkg from '/wasm/pkg/server.js';
import { createSyncSlice } from '/wasm/pkg/zustand.js';
import { bindMonaco } from '/wasm/pkg/monaco.js';
import { runVectors } from '/wasm/tests/conformance.mjs';

const monaco = await new Promise((resolve) => {
  window.require.config({ paths: { vs: '/wasm/node_modules/monaco-editor/min/vs' } });
  window.require(['vs/editor/editor.main'], () => resolve(window.monaco));
});
await pkg.init();
await serverPkg.init();

let seed = 42;
const random = () => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
};

const server = new serverPkg.ProjectServer();
const handlers = new Map();
// Each link (client to server, server to client) is a queue delivered in
// order, like a WebSocket or a Supabase channel, each message after 0-25 ms:
// edits cross in flight. (One timer per link: separate timers per message
// could fire out of order, since browsers round their delays.)
let inFlight = 0;
const links = new Map();
const pump = (queue) => {
  queue.busy = true;
  setTimeout(() => {
    const fn = queue.shift();
    inFlight -= 1;
    queue.busy = queue.length > 0;
    if (queue.busy) pump(queue);
    fn();
  }, Math.floor(random() * 25));
};
const later = (link, fn) => {
  inFlight += 1;
  if (!links.has(link)) links.set(link, []);
  const queue = links.get(link);
  queue.push(fn);
  if (!queue.busy) pump(queue);
};
const route = () => {
  for (let out = server.pollOutbound(); out; out = server.pollOutbound()) {
    const targets =
      out.to === 'client' ? [out.client] : [...handlers.keys()].filter((c) => out.to === 'all' || c !== out.client);
    const text = JSON.stringify(out.message);
    for (const to of targets) later(`to ${to}`, () => handlers.get(to)?.get(out.message.event)?.(JSON.parse(text)));
  }
};
const transport = (id) => ({
  send(event, payload) {
    const text = JSON.stringify(payload);
    later(`from ${id}`, () => {
      server.handle(id, text);
      route();
    });
  },
  on(event, handler) {
    if (!handlers.has(id)) handlers.set(id, new Map());
    handlers.get(id).set(event, handler);
  },
});

const stores = [1, 2].map((id) => {
  server.connect(id, 'editor');
  const store = createStore(createSyncSlice({ clientId: id, transport: transport(id) }));
  store.getState().connect();
  return store;
});

const quiet = () =>
  new Promise((resolve) => {
    const check = () => (inFlight === 0 ? resolve() : setTimeout(check, 10));
    check();
  });

await quiet();
const fileId = stores[0].getState().createFile('notes.txt', 'first line\r\nsecond line\r\n');
await quiet();

const editors = ['a', 'b'].map((el, i) => {
  const editor = monaco.editor.create(document.getElementById(el), {
    model: monaco.editor.createModel('', 'plaintext'),
    minimap: { enabled: false },
    renderControlCharacters: true,
    renderWhitespace: 'all',
  });
  const binding = bindMonaco({ monaco, editor, store: stores[i], fileId });
  return { editor, binding };
});

window.harness = {
  fileId,
  quiet,
  focus(which, line, column) {
    const { editor } = editors[which];
    editor.focus();
    editor.setPosition({ lineNumber: line, column });
  },
  focusOnly(which) {
    editors[which].editor.focus();
  },
  endOf(which) {
    const { editor } = editors[which];
    const model = editor.getModel();
    const line = model.getLineCount();
    editor.focus();
    editor.setPosition({ lineNumber: line, column: model.getLineMaxColumn(line) });
  },
  snapshot() {
    return {
      models: editors.map(({ editor }) => editor.getModel().getValue()),
      eol: editors.map(({ editor }) => editor.getModel().getEOL()),
      exact: editors.map(({ binding }) => binding.exact),
      resets: editors.map(({ binding }) => binding.resets),
      stores: stores.map((s) => s.getState().texts[fileId]),
      idle: stores.map((s) => s.getState().idle),
      server: server.text(fileId),
      manifests: [server.manifestId(), ...stores.map((s) => s.getState().manifestId)],
      presence: stores.map((s) => s.getState().presence[fileId] ?? {}),
      carets: editors.map(({ editor }) => {
        const model = editor.getModel();
        return pkg.charOfUtf16(model.getValue(), model.getOffsetAt(editor.getPosition()));
      }),
      panics: pkg.panics(),
    };
  },
  status(text) {
    document.getElementById('status').textContent = text;
  },
  async mixed() {
    const id = stores[0].getState().createFile('mixed.txt', 'a\r\nb\nc');
    await quiet();
    const editor = monaco.editor.create(document.getElementById('c'), {
      model: monaco.editor.createModel('', 'plaintext'),
      minimap: { enabled: false },
    });
    const binding = bindMonaco({ monaco, editor, store: stores[0], fileId: id });
    return {
      exact: binding.exact,
      endings: binding.endings,
      readOnly: editor.getOption(monaco.editor.EditorOption.readOnly),
      store: stores[0].getState().texts[id],
      server: server.text(id),
    };
  },
  async conformance() {
    const response = await fetch('/conformance/vectors.json');
    if (!response.ok) return { missing: true };
    return runVectors(pkg, await response.json());
  },
};
window.harness.status('ready');
window.ready = true;
