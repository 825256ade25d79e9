// The package as an npm consumer sees it: resolved by name through its
// package.json `exports` (the `node` condition in Node), every subpath, and a
// packed tarball holding what the exports name.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { root } from './support.mjs';

const link = `${root}wasm/node_modules/velocity-sync`;
rmSync(link, { force: true, recursive: true });
symlinkSync(`${root}wasm/pkg`, link, 'dir');

test('the package resolves by name, with the node condition and every subpath', async () => {
  const main = await import('velocity-sync');
  // The browser entry would fetch the .wasm, which Node cannot do from a
  // file URL: init() working without arguments proves the node entry.
  await main.init();
  assert.equal(main.ops.apply([1, '!'], 'a'), 'a!');
  assert.equal(main.coreVersion(), JSON.parse(readFileSync(`${root}wasm/pkg/package.json`, 'utf8')).version);
  const { createSyncSlice } = await import('velocity-sync/zustand');
  const { bindMonaco } = await import('velocity-sync/monaco');
  const { supabaseTransport } = await import('velocity-sync/supabase');
  for (const fn of [createSyncSlice, bindMonaco, supabaseTransport]) assert.equal(typeof fn, 'function');
  const require = createRequire(import.meta.url);
  assert.ok(require.resolve('velocity-sync/velocity_sync_wasm_bg.wasm').endsWith('.wasm'));
});

test('npm pack ships every file the exports name', () => {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--loglevel=error'], {
    cwd: `${root}wasm/pkg`,
    encoding: 'utf8',
  });
  const files = new Set(JSON.parse(out)[0].files.map((f) => f.path));
  const manifest = JSON.parse(readFileSync(`${root}wasm/pkg/package.json`, 'utf8'));
  const named = [];
  const walk = (value) => {
    if (typeof value === 'string') named.push(value.replace(/^\.\//, ''));
    else for (const v of Object.values(value)) walk(v);
  };
  walk(manifest.exports);
  for (const file of named) {
    assert.ok(files.has(file), `${file} is in the tarball`);
    assert.ok(existsSync(`${root}wasm/pkg/${file}`));
  }
  assert.ok(files.has('README.md'));
  assert.ok(files.has('velocity_sync_wasm.js'), 'the wasm-bindgen glue ships');
});
