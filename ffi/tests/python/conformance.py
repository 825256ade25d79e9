"""The shared conformance vectors through the C API from Python: each `fn`
mapped onto public vs_* functions (via velocity_sync.py), results compared
byte-for-byte with `ok` (canonical JSON: sorted keys, no spaces, as serde_json
writes them) or the error code with `err`. An unknown `fn` fails."""

import ctypes
import json

import velocity_sync as vs


def canonical(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def a(value):
    """(pointer, length) of a str, or of a JSON value's canonical text."""
    return vs.arg(value if isinstance(value, str) else canonical(value))


class Runner:
    def __init__(self, lib):
        self.lib = lib
        self.handles = []

    def out(self, name, *args):
        return vs.bytes_out(self.lib, name, *args)

    def manifest(self, value):
        handle = vs.handle_out(self.lib, "vs_manifest_from_json", *a(value))
        self.handles.append(("vs_manifest_free", handle))
        return handle

    def files(self, files):
        """{"path": "text"}: a manifest of entries with derived ids, and a store."""
        store = vs.handle_out(self.lib, "vs_store_new")
        self.handles.append(("vs_store_free", store))
        entries = []
        for path in sorted(files):
            file_id = self.out("vs_file_id_derive", *a("conformance"), *a(path))
            entries.append(json.loads(self.out("vs_entry_from_content", *a(path), *a(files[path]), *vs.arg(file_id))))
            self.out("vs_store_insert", store, *a(files[path]))
        handle = vs.handle_out(self.lib, "vs_manifest_from_entries", *a(entries))
        self.handles.append(("vs_manifest_free", handle))
        return handle, store

    def close(self):
        for free, handle in self.handles:
            getattr(self.lib, free)(handle)
        self.handles = []

    def run(self, fn, args):
        """(result bytes, is_raw): raw results are compared as bytes."""
        out = self.out
        if fn in ("path.parse", "path.parse_lenient"):
            name = "vs_path_parse" if fn == "path.parse" else "vs_path_parse_lenient"
            return out(name, *a(args["path"])), True
        if fn == "hash.of":
            return out("vs_hash_of", *a(args["text"])), False
        if fn == "op.from_json":
            return out("vs_op_from_json", *a(args["json"])), False
        if fn == "op.from_splice":
            return out("vs_op_from_splice", args["len"], args["pos"], args["deleted"], *a(args["inserted"])), False
        if fn == "op.apply":
            return out("vs_op_apply", *a(args["op"]), *a(args["text"])), True
        if fn == "op.compose":
            return out("vs_op_compose", *a(args["a"]), *a(args["b"])), False
        if fn == "op.transform":
            a2, b2 = vs.Buf(), vs.Buf()
            vs.call(self.lib, "vs_op_transform", *a(args["a"]), *a(args["b"]), vs.SIDES[args["side"]],
                    ctypes.byref(a2), ctypes.byref(b2))
            return b"[" + vs.take(self.lib, a2) + b"," + vs.take(self.lib, b2) + b"]", False
        if fn == "op.invert":
            return out("vs_op_invert", *a(args["op"]), *a(args["text"])), False
        if fn == "op.transform_position":
            pos = ctypes.c_size_t()
            vs.call(self.lib, "vs_op_transform_position", *a(args["op"]), args["pos"], vs.BIASES[args["bias"]],
                    ctypes.byref(pos))
            return str(pos.value).encode(), False
        if fn == "op.from_utf16":
            return out("vs_op_from_utf16", *a(args["text"]), *a(args["changes"])), False
        if fn == "op.to_utf16":
            return out("vs_op_to_utf16", *a(args["op"]), *a(args["text"])), False
        if fn == "op.diff":
            return out("vs_op_diff", *a(args["old"]), *a(args["new"])), False
        if fn == "manifest.id":
            return out("vs_manifest_id", self.manifest(args["manifest"])), True
        if fn == "manifest.diff":
            return out("vs_manifest_diff", self.manifest(args["from"]), self.manifest(args["to"])), False
        if fn == "manifest.apply":
            target = vs.handle_out(self.lib, "vs_manifest_apply", self.manifest(args["base"]), *a(args["diff"]))
            self.handles.append(("vs_manifest_free", target))
            return out("vs_manifest_to_json", target), False
        if fn == "changeset.between":
            base, _ = self.files(args["base"])
            target, store = self.files(args["target"])
            return out("vs_changeset_between", base, target, store), False
        if fn == "changeset.apply":
            base, store = self.files(args["base"])
            target = vs.handle_out(self.lib, "vs_changeset_apply", *a(args["json"]), base, store)
            self.handles.append(("vs_manifest_free", target))
            files = {}
            for entry in json.loads(out("vs_manifest_entries", target)):
                blob = out("vs_store_get", store, *a(entry["hash"]))
                files[entry["path"]] = json.loads(out("vs_content_to_json", *vs.arg(blob)))
            return canonical({"manifest": out("vs_manifest_id", target).decode(), "files": files}), False
        if fn == "hydrate.plan":
            options = {"max_batch_bytes": args["max_batch_bytes"]}
            return out("vs_hydrate_plan", self.manifest(args["manifest"]), *a(args["have_entries"]),
                       *a(args["have_blobs"]), *a(options)), False
        if fn == "rows.decode":
            return out("vs_row_decode", *a(args["row"]), vs.POLICIES[args["policy"]]), False
        if fn == "rows.encode":
            content = out("vs_content_from_json", *a(args["content"]))
            return out("vs_row_encode", vs.SHAPES[args["shape"]], *a(args["entry"]), *vs.arg(content),
                       *a(args["context"])), False
        if fn in ("protocol.client", "protocol.server"):
            name = "vs_protocol_decode_client" if fn == "protocol.client" else "vs_protocol_decode_server"
            limits = {"max_message_bytes": args["max_message_bytes"]}
            return out(name, *a(args["text"]), *a(limits)), False
        raise KeyError(f"unknown conformance fn {fn}")


def check(lib, case):
    """None when the case passes, else why not."""
    runner = Runner(lib)
    try:
        got, raw = runner.run(case["fn"], case["args"])
    except vs.VsError as error:
        if "err" in case and error.code == case["err"]:
            return None
        return f"failed with {error.code}: {error.message}, want {case.get('err') or case.get('ok')!r}"
    finally:
        runner.close()
    if "err" in case:
        return f"succeeded with {got!r}, want error {case['err']}"
    want = case["ok"].encode() if raw else canonical(case["ok"])
    if not raw:
        got = canonical(json.loads(got))
    return None if got == want else f"got {got!r}, want {want!r}"
