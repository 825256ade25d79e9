// The shared conformance vectors (conformance/README.md is the contract),
// run through the package's public API. Used by Node and by the browser page.

/** Compact JSON with object keys sorted, the form serde_json writes. */
export function canonical(value) {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

// `{"path": "text", …}`: a manifest of those texts with ids derived from the
// paths, and the contents.
function files(pkg, spec) {
  const paths = Object.keys(spec).sort();
  const entries = paths.map((path) =>
    pkg.manifests.entryFromContent(path, spec[path], pkg.fileIdDerive('conformance', path)),
  );
  return { manifest: { version: 0, entries }, contents: paths.map((p) => spec[p]) };
}

/** Each `fn` of the vectors, mapped onto the package's public API. */
export function functions(pkg) {
  const { ops, manifests, paths, rows, changesets, hydration, protocol } = pkg;
  return {
    'path.parse': (a) => paths.parse(a.path),
    'path.parse_lenient': (a) => paths.parseLenient(a.path),
    'hash.of': (a) => pkg.hashOf(a.text),
    'op.from_json': (a) => ops.fromJson(a.json),
    'op.from_splice': (a) => ops.fromSplice(a.len, a.pos, a.deleted, a.inserted),
    'op.apply': (a) => ops.apply(a.op, a.text),
    'op.compose': (a) => ops.compose(a.a, a.b),
    'op.transform': (a) => ops.transform(a.a, a.b, a.side),
    'op.invert': (a) => ops.invert(a.op, a.text),
    'op.transform_position': (a) => ops.transformPosition(a.op, a.pos, a.bias),
    'op.from_utf16': (a) => ops.fromUtf16(a.text, a.changes),
    'op.to_utf16': (a) => ops.toUtf16(a.op, a.text),
    'op.diff': (a) => ops.diff(a.old, a.new),
    'manifest.id': (a) => manifests.id(a.manifest),
    'manifest.diff': (a) => manifests.diff(a.from, a.to),
    'manifest.apply': (a) => manifests.apply(a.base, a.diff),
    'changeset.between': (a) => {
      const base = files(pkg, a.base);
      const target = files(pkg, a.target);
      return changesets.between(base.manifest, target.manifest, target.contents);
    },
    'changeset.apply': (a) => {
      const base = files(pkg, a.base);
      const result = changesets.apply(base.manifest, base.contents, a.json);
      return { manifest: manifests.id(result.manifest), files: result.files };
    },
    'hydrate.plan': (a) => hydration.plan(a.manifest, a.have_entries, a.have_blobs, a.max_batch_bytes),
    'rows.decode': (a) => rows.decode(a.row, a.policy),
    'rows.encode': (a) => rows.encode(a.shape, a.entry, a.content, a.context),
    'protocol.client': (a) => protocol.decodeClient(a.text, { maxMessageBytes: a.max_message_bytes }),
    'protocol.server': (a) => protocol.decodeServer(a.text, { maxMessageBytes: a.max_message_bytes }),
  };
}

/**
 * Runs every case; returns `{ total, passed, failures }`. A case whose `fn`
 * is unknown is a failure, so a new case cannot be skipped silently.
 */
export function runVectors(pkg, vectors) {
  if (vectors.format !== 1) throw new Error(`unknown vectors format ${vectors.format}`);
  const table = functions(pkg);
  const failures = [];
  let passed = 0;
  for (const c of vectors.cases) {
    const fn = table[c.fn];
    if (!fn) {
      failures.push({ name: c.name, problem: `unknown fn ${c.fn}` });
      continue;
    }
    let actual;
    try {
      actual = { ok: fn(c.args) };
    } catch (err) {
      if (typeof err?.code !== 'string') {
        failures.push({ name: c.name, problem: `threw without a code: ${err}` });
        continue;
      }
      actual = { err: err.code };
    }
    const expected = 'ok' in c ? { ok: c.ok } : { err: c.err };
    if (canonical(actual) === canonical(expected)) passed += 1;
    else failures.push({ name: c.name, expected: canonical(expected), actual: canonical(actual) });
  }
  return { total: vectors.cases.length, passed, failures };
}
