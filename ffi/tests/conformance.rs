//! The shared conformance vectors through the C ABI, called from Rust: every
//! `fn` goes through the `vs_*` functions exactly as a C caller would (byte
//! ranges in, `VsBuf`/handles out, codes from `VsError`), and each result
//! must equal `ok` byte for byte (canonical JSON) or `err`. This is the
//! check that needs no C compiler; `c_suite` runs the C runner too.
#![allow(clippy::unwrap_used, clippy::expect_used, unsafe_code)]

use std::collections::BTreeMap;
use std::ffi::CStr;
use std::ptr;

use serde_json::{Value, json};
use velocity_sync_ffi::*;

/// A call's outcome: bytes, or the error code.
type Out = Result<Vec<u8>, String>;

/// Reads and frees an error.
fn code(error: *mut VsError) -> String {
    // SAFETY: `error` is the live error the failed call just returned.
    let text = unsafe { CStr::from_ptr(vs_error_code(error)) }
        .to_str()
        .unwrap()
        .to_owned();
    // SAFETY: freed once, here.
    unsafe { vs_error_free(error) };
    text
}

/// Runs a call that writes one `VsBuf`; returns its bytes.
fn buf(call: impl FnOnce(*mut VsBuf, *mut *mut VsError) -> VsStatus) -> Out {
    let mut out = VsBuf {
        data: ptr::null_mut(),
        len: 0,
    };
    let mut error = ptr::null_mut();
    if call(&mut out, &mut error) != VsStatus::Ok {
        return Err(code(error));
    }
    // SAFETY: on success `out` holds `len` bytes owned by us.
    let bytes = unsafe { std::slice::from_raw_parts(out.data, out.len) }.to_vec();
    // SAFETY: returned exactly once.
    unsafe { vs_buf_free(out) };
    Ok(bytes)
}

/// Runs a call that writes one handle.
fn handle<T>(
    call: impl FnOnce(*mut *mut T, *mut *mut VsError) -> VsStatus,
) -> Result<*mut T, String> {
    let mut out = ptr::null_mut();
    let mut error = ptr::null_mut();
    if call(&mut out, &mut error) != VsStatus::Ok {
        return Err(code(error));
    }
    Ok(out)
}

/// Frees the handles a case made.
#[derive(Default)]
struct Handles(Vec<*mut VsManifest>, Vec<*mut VsStore>);

impl Drop for Handles {
    fn drop(&mut self) {
        for &m in &self.0 {
            // SAFETY: each handle was made by this runner and is freed once.
            unsafe { vs_manifest_free(m) };
        }
        for &s in &self.1 {
            // SAFETY: as above.
            unsafe { vs_store_free(s) };
        }
    }
}

fn text(value: &Value) -> Vec<u8> {
    match value {
        Value::String(s) => s.clone().into_bytes(),
        other => serde_json::to_vec(other).unwrap(),
    }
}

fn num(value: &Value) -> usize {
    usize::try_from(value.as_u64().unwrap()).unwrap()
}

impl Handles {
    fn manifest(&mut self, value: &Value) -> Result<*mut VsManifest, String> {
        let json = text(value);
        // SAFETY: `json` outlives the call.
        let m =
            handle(|out, e| unsafe { vs_manifest_from_json(json.as_ptr(), json.len(), out, e) })?;
        self.0.push(m);
        Ok(m)
    }

    fn files(&mut self, value: &Value) -> Result<(*mut VsManifest, *mut VsStore), String> {
        // SAFETY: plain out-pointers.
        let store = handle(|out, e| unsafe { vs_store_new(out, e) })?;
        self.1.push(store);
        let files: BTreeMap<String, String> = serde_json::from_value(value.clone()).unwrap();
        let mut entries = Vec::new();
        for (path, content) in &files {
            let (p, c, ctx) = (path.as_bytes(), content.as_bytes(), b"conformance");
            // SAFETY: every slice outlives its call.
            let id = buf(|out, e| unsafe {
                vs_file_id_derive(ctx.as_ptr(), ctx.len(), p.as_ptr(), p.len(), out, e)
            })?;
            let entry = buf(|out, e| unsafe {
                vs_entry_from_content(
                    p.as_ptr(),
                    p.len(),
                    c.as_ptr(),
                    c.len(),
                    id.as_ptr(),
                    id.len(),
                    out,
                    e,
                )
            })?;
            buf(|out, e| unsafe { vs_store_insert(store, c.as_ptr(), c.len(), out, e) })?;
            entries.push(serde_json::from_slice::<Value>(&entry).unwrap());
        }
        let json = serde_json::to_vec(&entries).unwrap();
        // SAFETY: as above.
        let m = handle(|out, e| unsafe {
            vs_manifest_from_entries(json.as_ptr(), json.len(), out, e)
        })?;
        self.0.push(m);
        Ok((m, store))
    }
}

/// One case through the C ABI: `Ok((bytes, raw))`, raw meaning a string
/// result compared as bytes.
#[allow(clippy::too_many_lines)]
fn run(function: &str, args: &Value) -> Result<(Vec<u8>, bool), String> {
    let mut h = Handles::default();
    let arg = |name: &str| text(&args[name]);
    let json_out = |out: Out| out.map(|bytes| (bytes, false));
    // Every `unsafe` below passes slices that outlive the call, live handles
    // and the out-pointers `buf`/`handle` provide.
    match function {
        "path.parse" | "path.parse_lenient" => {
            let p = arg("path");
            let f = if function == "path.parse" {
                vs_path_parse
            } else {
                vs_path_parse_lenient
            };
            buf(|o, e| unsafe { f(p.as_ptr(), p.len(), o, e) }).map(|b| (b, true))
        }
        "hash.of" => {
            let t = arg("text");
            json_out(buf(|o, e| unsafe { vs_hash_of(t.as_ptr(), t.len(), o, e) }))
        }
        "op.from_json" => {
            let j = arg("json");
            json_out(buf(|o, e| unsafe {
                vs_op_from_json(j.as_ptr(), j.len(), o, e)
            }))
        }
        "op.from_splice" => {
            let s = arg("inserted");
            let (len, pos, del) = (num(&args["len"]), num(&args["pos"]), num(&args["deleted"]));
            json_out(buf(|o, e| unsafe {
                vs_op_from_splice(len, pos, del, s.as_ptr(), s.len(), o, e)
            }))
        }
        "op.apply" => {
            let (op, t) = (arg("op"), arg("text"));
            buf(|o, e| unsafe { vs_op_apply(op.as_ptr(), op.len(), t.as_ptr(), t.len(), o, e) })
                .map(|b| (b, true))
        }
        "op.compose" => {
            let (a, b) = (arg("a"), arg("b"));
            json_out(buf(|o, e| unsafe {
                vs_op_compose(a.as_ptr(), a.len(), b.as_ptr(), b.len(), o, e)
            }))
        }
        "op.transform" => {
            let (a, b) = (arg("a"), arg("b"));
            let side = if args["side"] == "left" {
                VsSide::Left
            } else {
                VsSide::Right
            } as u32;
            let mut b2 = Vec::new();
            let a2 = buf(|o, e| {
                let mut other = VsBuf {
                    data: ptr::null_mut(),
                    len: 0,
                };
                let status = unsafe {
                    vs_op_transform(
                        a.as_ptr(),
                        a.len(),
                        b.as_ptr(),
                        b.len(),
                        side,
                        o,
                        &mut other,
                        e,
                    )
                };
                if status == VsStatus::Ok {
                    b2 = unsafe { std::slice::from_raw_parts(other.data, other.len) }.to_vec();
                    unsafe { vs_buf_free(other) };
                }
                status
            })?;
            Ok(([b"[".as_slice(), &a2, b",", &b2, b"]"].concat(), false))
        }
        "op.invert" => {
            let (op, t) = (arg("op"), arg("text"));
            json_out(buf(|o, e| unsafe {
                vs_op_invert(op.as_ptr(), op.len(), t.as_ptr(), t.len(), o, e)
            }))
        }
        "op.transform_position" => {
            let op = arg("op");
            let bias = if args["bias"] == "before" {
                VsBias::Before
            } else {
                VsBias::After
            } as u32;
            let (mut pos, mut error) = (0usize, ptr::null_mut());
            let status = unsafe {
                vs_op_transform_position(
                    op.as_ptr(),
                    op.len(),
                    num(&args["pos"]),
                    bias,
                    &mut pos,
                    &mut error,
                )
            };
            if status != VsStatus::Ok {
                return Err(code(error));
            }
            Ok((pos.to_string().into_bytes(), false))
        }
        "op.from_utf16" => {
            let (t, c) = (arg("text"), arg("changes"));
            json_out(buf(|o, e| unsafe {
                vs_op_from_utf16(t.as_ptr(), t.len(), c.as_ptr(), c.len(), o, e)
            }))
        }
        "op.to_utf16" => {
            let (op, t) = (arg("op"), arg("text"));
            json_out(buf(|o, e| unsafe {
                vs_op_to_utf16(op.as_ptr(), op.len(), t.as_ptr(), t.len(), o, e)
            }))
        }
        "op.diff" => {
            let (a, b) = (arg("old"), arg("new"));
            json_out(buf(|o, e| unsafe {
                vs_op_diff(a.as_ptr(), a.len(), b.as_ptr(), b.len(), o, e)
            }))
        }
        "manifest.id" => {
            let m = h.manifest(&args["manifest"])?;
            buf(|o, e| unsafe { vs_manifest_id(m, o, e) }).map(|b| (b, true))
        }
        "manifest.diff" => {
            let (from, to) = (h.manifest(&args["from"])?, h.manifest(&args["to"])?);
            json_out(buf(|o, e| unsafe { vs_manifest_diff(from, to, o, e) }))
        }
        "manifest.apply" => {
            let (base, d) = (h.manifest(&args["base"])?, arg("diff"));
            let target =
                handle(|o, e| unsafe { vs_manifest_apply(base, d.as_ptr(), d.len(), o, e) })?;
            h.0.push(target);
            json_out(buf(|o, e| unsafe { vs_manifest_to_json(target, o, e) }))
        }
        "changeset.between" => {
            let ((base, _), (target, store)) = (h.files(&args["base"])?, h.files(&args["target"])?);
            json_out(buf(|o, e| unsafe {
                vs_changeset_between(base, target, store, o, e)
            }))
        }
        "changeset.apply" => {
            let ((base, store), j) = (h.files(&args["base"])?, arg("json"));
            let target = handle(|o, e| unsafe {
                vs_changeset_apply(j.as_ptr(), j.len(), base, store, o, e)
            })?;
            h.0.push(target);
            let id = buf(|o, e| unsafe { vs_manifest_id(target, o, e) })?;
            let entries: Vec<Value> =
                serde_json::from_slice(&buf(|o, e| unsafe { vs_manifest_entries(target, o, e) })?)
                    .unwrap();
            let mut files = serde_json::Map::new();
            for entry in entries {
                let hash = text(&entry["hash"]);
                let blob =
                    buf(|o, e| unsafe { vs_store_get(store, hash.as_ptr(), hash.len(), o, e) })?;
                let wire =
                    buf(|o, e| unsafe { vs_content_to_json(blob.as_ptr(), blob.len(), o, e) })?;
                files.insert(
                    entry["path"].as_str().unwrap().to_owned(),
                    serde_json::from_slice(&wire).unwrap(),
                );
            }
            let value = json!({ "manifest": String::from_utf8(id).unwrap(), "files": files });
            Ok((serde_json::to_vec(&value).unwrap(), false))
        }
        "hydrate.plan" => {
            let m = h.manifest(&args["manifest"])?;
            let (he, hb) = (arg("have_entries"), arg("have_blobs"));
            let opts =
                serde_json::to_vec(&json!({ "max_batch_bytes": args["max_batch_bytes"] })).unwrap();
            json_out(buf(|o, e| unsafe {
                vs_hydrate_plan(
                    m,
                    he.as_ptr(),
                    he.len(),
                    hb.as_ptr(),
                    hb.len(),
                    opts.as_ptr(),
                    opts.len(),
                    o,
                    e,
                )
            }))
        }
        "rows.decode" => {
            let row = arg("row");
            let policy = if args["policy"] == "report" {
                VsMismatchPolicy::Report
            } else {
                VsMismatchPolicy::Reject
            };
            json_out(buf(|o, e| unsafe {
                vs_row_decode(row.as_ptr(), row.len(), policy as u32, o, e)
            }))
        }
        "rows.encode" => {
            let shape = match args["shape"].as_str() {
                Some("editor") => VsRowShape::Editor,
                Some("rich") => VsRowShape::Rich,
                _ => VsRowShape::Simple,
            } as u32;
            let (entry, wire, ctx) = (arg("entry"), arg("content"), arg("context"));
            let content =
                buf(|o, e| unsafe { vs_content_from_json(wire.as_ptr(), wire.len(), o, e) })?;
            json_out(buf(|o, e| unsafe {
                vs_row_encode(
                    shape,
                    entry.as_ptr(),
                    entry.len(),
                    content.as_ptr(),
                    content.len(),
                    ctx.as_ptr(),
                    ctx.len(),
                    o,
                    e,
                )
            }))
        }
        "protocol.client" | "protocol.server" => {
            let t = arg("text");
            let limits =
                serde_json::to_vec(&json!({ "max_message_bytes": args["max_message_bytes"] }))
                    .unwrap();
            let f = if function == "protocol.client" {
                vs_protocol_decode_client
            } else {
                vs_protocol_decode_server
            };
            json_out(buf(|o, e| unsafe {
                f(t.as_ptr(), t.len(), limits.as_ptr(), limits.len(), o, e)
            }))
        }
        other => panic!(
            "unknown conformance fn {other}: teach this runner (and the C and Python ones) about it"
        ),
    }
}

/// Compact JSON with object keys sorted at every level, written here
/// independently of the library's own `vs_json_canonical`.
fn canonical(value: &Value) -> String {
    match value {
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(canonical).collect::<Vec<_>>().join(",")
        ),
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let members: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{}:{}", Value::String(k.clone()), canonical(&map[k])))
                .collect();
            format!("{{{}}}", members.join(","))
        }
        scalar => scalar.to_string(),
    }
}

#[test]
fn ffi_answers_every_shared_vector_byte_for_byte() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../conformance/vectors.json");
    let vectors: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(vectors["format"], 1);
    let cases = vectors["cases"].as_array().unwrap();
    assert!(!cases.is_empty());
    let mut failures = Vec::new();
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let outcome = run(case["fn"].as_str().unwrap(), &case["args"]);
        let verdict = match (outcome, case.get("ok"), case.get("err")) {
            (Err(code), _, Some(want)) if want == &Value::String(code.clone()) => None,
            (Ok((bytes, true)), Some(Value::String(want)), None) if bytes == want.as_bytes() => {
                None
            }
            (Ok((bytes, false)), Some(want), None) => {
                let got: Value = serde_json::from_slice(&bytes).unwrap();
                (canonical(&got) != canonical(want)).then(|| format!("got {got}, want {want}"))
            }
            (outcome, ok, err) => Some(format!("got {outcome:?}, want ok {ok:?} / err {err:?}")),
        };
        if let Some(why) = verdict {
            failures.push(format!("{name}: {why}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
