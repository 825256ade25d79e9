/*
 * The shared conformance vectors (conformance/vectors.json) through the C
 * API: every `fn` mapped onto public vs_* functions, results compared
 * byte-for-byte with `ok` (canonical JSON, or the raw bytes of a string
 * result) or the error code with `err`. An unknown `fn` fails the run.
 * JSON is walked with the library's vs_json_* helpers (no JSON library).
 *
 * Usage: conformance path/to/vectors.json
 */
#include "check.h"

static VsError *err = NULL;

/* A runner-side failure (bad vectors or a runner bug): abort the case. */
static int broken = 0;

static void drop(VsBuf *buf) {
  vs_buf_free(*buf);
  *buf = (VsBuf){0};
}

/* Member `key` of `doc` (canonical JSON); "nothing" when absent. */
static VsBuf get(VsBuf doc, const char *key) {
  VsBuf out = {0};
  if (vs_json_get(B(doc), S(key), &out, &err) != VS_STATUS_OK) {
    fprintf(stderr, "runner: get %s: %s\n", key, vs_error_message(err));
    vs_error_free(err);
    err = NULL;
    broken = 1;
  }
  return out;
}

/* The decoded text of JSON string member `key`. */
static VsBuf str(VsBuf doc, const char *key) {
  VsBuf member = get(doc, key), out = {0};
  if (vs_json_string(B(member), &out, &err) != VS_STATUS_OK) {
    fprintf(stderr, "runner: string %s: %s\n", key, vs_error_message(err));
    vs_error_free(err);
    err = NULL;
    broken = 1;
  }
  drop(&member);
  return out;
}

static uint64_t num(VsBuf doc, const char *key) {
  VsBuf member = get(doc, key);
  uint64_t out = 0;
  if (vs_json_u64(B(member), &out, &err) != VS_STATUS_OK) {
    fprintf(stderr, "runner: number %s: %s\n", key, vs_error_message(err));
    vs_error_free(err);
    err = NULL;
    broken = 1;
  }
  drop(&member);
  return out;
}

static int str_is(VsBuf doc, const char *key, const char *want) {
  VsBuf text = str(doc, key);
  int same = buf_is(text, want);
  drop(&text);
  return same;
}

/* A growable byte string for composing JSON out of library fragments. */
typedef struct {
  char *data;
  size_t len, cap;
} Text;

static void put(Text *t, const void *bytes, size_t len) {
  if (t->len + len + 1 > t->cap) {
    t->cap = (t->len + len + 1) * 2;
    t->data = realloc(t->data, t->cap);
  }
  memcpy(t->data + t->len, bytes, len);
  t->len += len;
  t->data[t->len] = 0;
}
static void puts_(Text *t, const char *s) { put(t, s, strlen(s)); }

/* Hands a composed text over as a library buffer (canonicalised). */
static VsBuf finish(Text *t) {
  VsBuf out = {0};
  if (vs_json_canonical((const uint8_t *)t->data, t->len, &out, &err) != VS_STATUS_OK) {
    fprintf(stderr, "runner: composed JSON: %s\n", vs_error_message(err));
    vs_error_free(err);
    err = NULL;
    broken = 1;
  }
  free(t->data);
  *t = (Text){0};
  return out;
}

/* What a case produced. */
typedef enum { JSON, RAW } Kind;
typedef struct {
  VsStatus status;
  char code[128];
  VsBuf value;
  Kind kind;
} Outcome;

/* Records a call's status; on failure keeps the code and frees the error. */
static int call(Outcome *o, VsStatus status) {
  o->status = status;
  if (status != VS_STATUS_OK) {
    snprintf(o->code, sizeof o->code, "%s", vs_error_code(err));
    vs_error_free(err);
    err = NULL;
    return 0;
  }
  return 1;
}

/* `{"path": "text", ...}`: a manifest of entries with derived ids, and a
   store holding the texts. */
static int files(Outcome *o, VsBuf doc, VsManifest **manifest, VsStore **store) {
  VsBuf keys = {0};
  size_t n = 0;
  if (!call(o, vs_store_new(store, &err)) || !call(o, vs_json_keys(B(doc), &keys, &err)) ||
      !call(o, vs_json_len(B(keys), &n, &err))) {
    drop(&keys);
    return 0;
  }
  Text entries = {0};
  puts_(&entries, "[");
  int fine = 1;
  for (size_t i = 0; i < n && fine; i++) {
    char index[32];
    snprintf(index, sizeof index, "%zu", i);
    VsBuf path = str(keys, index), text = str(doc, (const char *)path.data), id = {0}, entry = {0},
          hash = {0};
    fine = call(o, vs_file_id_derive(S("conformance"), B(path), &id, &err)) &&
           call(o, vs_entry_from_content(B(path), B(text), B(id), &entry, &err)) &&
           call(o, vs_store_insert(*store, B(text), &hash, &err));
    if (fine) {
      if (i > 0) puts_(&entries, ",");
      put(&entries, entry.data, entry.len);
    }
    drop(&path);
    drop(&text);
    drop(&id);
    drop(&entry);
    drop(&hash);
  }
  puts_(&entries, "]");
  VsBuf list = finish(&entries);
  fine = fine && call(o, vs_manifest_from_entries(B(list), manifest, &err));
  drop(&list);
  drop(&keys);
  return fine;
}

static VsBuf limits(VsBuf args) {
  Text t = {0};
  char text[64];
  snprintf(text, sizeof text, "{\"max_message_bytes\":%llu}", (unsigned long long)num(args, "max_message_bytes"));
  puts_(&t, text);
  return finish(&t);
}

/* Runs one case; returns 0 for an unknown fn. */
static int run(const char *fn, VsBuf args, Outcome *o) {
  o->kind = JSON;
  VsBuf a = {0}, b = {0}, c = {0}, d = {0};
  VsManifest *m1 = NULL, *m2 = NULL, *m3 = NULL;
  VsStore *s1 = NULL, *s2 = NULL;
  int known = 1;
  if (!strcmp(fn, "path.parse") || !strcmp(fn, "path.parse_lenient")) {
    o->kind = RAW;
    a = str(args, "path");
    call(o, (fn[10] ? vs_path_parse_lenient : vs_path_parse)(B(a), &o->value, &err));
  } else if (!strcmp(fn, "hash.of")) {
    a = str(args, "text");
    call(o, vs_hash_of(B(a), &o->value, &err));
  } else if (!strcmp(fn, "op.from_json")) {
    a = str(args, "json");
    call(o, vs_op_from_json(B(a), &o->value, &err));
  } else if (!strcmp(fn, "op.from_splice")) {
    a = str(args, "inserted");
    call(o, vs_op_from_splice(num(args, "len"), num(args, "pos"), num(args, "deleted"), B(a), &o->value, &err));
  } else if (!strcmp(fn, "op.apply")) {
    o->kind = RAW;
    a = get(args, "op"), b = str(args, "text");
    call(o, vs_op_apply(B(a), B(b), &o->value, &err));
  } else if (!strcmp(fn, "op.compose")) {
    a = get(args, "a"), b = get(args, "b");
    call(o, vs_op_compose(B(a), B(b), &o->value, &err));
  } else if (!strcmp(fn, "op.transform")) {
    a = get(args, "a"), b = get(args, "b");
    uint32_t side = str_is(args, "side", "left") ? VS_SIDE_LEFT : VS_SIDE_RIGHT;
    if (call(o, vs_op_transform(B(a), B(b), side, &c, &d, &err))) {
      Text t = {0};
      puts_(&t, "[");
      put(&t, c.data, c.len);
      puts_(&t, ",");
      put(&t, d.data, d.len);
      puts_(&t, "]");
      o->value = finish(&t);
    }
  } else if (!strcmp(fn, "op.invert")) {
    a = get(args, "op"), b = str(args, "text");
    call(o, vs_op_invert(B(a), B(b), &o->value, &err));
  } else if (!strcmp(fn, "op.transform_position")) {
    a = get(args, "op");
    uint32_t bias = str_is(args, "bias", "before") ? VS_BIAS_BEFORE : VS_BIAS_AFTER;
    size_t pos = 0;
    if (call(o, vs_op_transform_position(B(a), num(args, "pos"), bias, &pos, &err))) {
      Text t = {0};
      char text[32];
      snprintf(text, sizeof text, "%zu", pos);
      puts_(&t, text);
      o->value = finish(&t);
    }
  } else if (!strcmp(fn, "op.from_utf16")) {
    a = str(args, "text"), b = get(args, "changes");
    call(o, vs_op_from_utf16(B(a), B(b), &o->value, &err));
  } else if (!strcmp(fn, "op.to_utf16")) {
    a = get(args, "op"), b = str(args, "text");
    call(o, vs_op_to_utf16(B(a), B(b), &o->value, &err));
  } else if (!strcmp(fn, "op.diff")) {
    a = str(args, "old"), b = str(args, "new");
    call(o, vs_op_diff(B(a), B(b), &o->value, &err));
  } else if (!strcmp(fn, "manifest.id")) {
    o->kind = RAW;
    a = get(args, "manifest");
    if (call(o, vs_manifest_from_json(B(a), &m1, &err))) call(o, vs_manifest_id(m1, &o->value, &err));
  } else if (!strcmp(fn, "manifest.diff")) {
    a = get(args, "from"), b = get(args, "to");
    if (call(o, vs_manifest_from_json(B(a), &m1, &err)) && call(o, vs_manifest_from_json(B(b), &m2, &err)))
      call(o, vs_manifest_diff(m1, m2, &o->value, &err));
  } else if (!strcmp(fn, "manifest.apply")) {
    a = get(args, "base"), b = get(args, "diff");
    if (call(o, vs_manifest_from_json(B(a), &m1, &err)) && call(o, vs_manifest_apply(m1, B(b), &m2, &err)))
      call(o, vs_manifest_to_json(m2, &o->value, &err));
  } else if (!strcmp(fn, "changeset.between")) {
    a = get(args, "base"), b = get(args, "target");
    if (files(o, a, &m1, &s1) && files(o, b, &m2, &s2))
      call(o, vs_changeset_between(m1, m2, s2, &o->value, &err));
  } else if (!strcmp(fn, "changeset.apply")) {
    a = get(args, "base"), b = str(args, "json");
    if (files(o, a, &m1, &s1) && call(o, vs_changeset_apply(B(b), m1, s1, &m2, &err)) &&
        call(o, vs_manifest_id(m2, &c, &err)) && call(o, vs_manifest_entries(m2, &d, &err))) {
      Text t = {0};
      puts_(&t, "{\"manifest\":\"");
      put(&t, c.data, c.len);
      puts_(&t, "\",\"files\":{");
      size_t n = 0;
      call(o, vs_json_len(B(d), &n, &err));
      for (size_t i = 0; i < n; i++) {
        char index[32];
        snprintf(index, sizeof index, "%zu", i);
        VsBuf entry = get(d, index), path = get(entry, "path"), hash = str(entry, "hash"), blob = {0}, wire = {0};
        call(o, vs_store_get(s1, B(hash), &blob, &err));
        call(o, vs_content_to_json(B(blob), &wire, &err));
        if (i > 0) puts_(&t, ",");
        put(&t, path.data, path.len);
        puts_(&t, ":");
        put(&t, wire.data, wire.len);
        drop(&entry);
        drop(&path);
        drop(&hash);
        drop(&blob);
        drop(&wire);
      }
      puts_(&t, "}}");
      o->value = finish(&t);
    }
  } else if (!strcmp(fn, "hydrate.plan")) {
    a = get(args, "manifest"), b = get(args, "have_entries"), c = get(args, "have_blobs");
    Text t = {0};
    char text[64];
    snprintf(text, sizeof text, "{\"max_batch_bytes\":%llu}", (unsigned long long)num(args, "max_batch_bytes"));
    puts_(&t, text);
    d = finish(&t);
    if (call(o, vs_manifest_from_json(B(a), &m1, &err)))
      call(o, vs_hydrate_plan(m1, B(b), B(c), B(d), &o->value, &err));
  } else if (!strcmp(fn, "rows.decode")) {
    a = get(args, "row");
    uint32_t policy = str_is(args, "policy", "report") ? VS_MISMATCH_POLICY_REPORT : VS_MISMATCH_POLICY_REJECT;
    call(o, vs_row_decode(B(a), policy, &o->value, &err));
  } else if (!strcmp(fn, "rows.encode")) {
    uint32_t shape = str_is(args, "shape", "editor") ? VS_ROW_SHAPE_EDITOR
                     : str_is(args, "shape", "rich") ? VS_ROW_SHAPE_RICH
                                                     : VS_ROW_SHAPE_SIMPLE;
    a = get(args, "entry"), b = get(args, "content"), c = get(args, "context");
    if (call(o, vs_content_from_json(B(b), &d, &err)))
      call(o, vs_row_encode(shape, B(a), B(d), B(c), &o->value, &err));
  } else if (!strcmp(fn, "protocol.client") || !strcmp(fn, "protocol.server")) {
    a = str(args, "text"), b = limits(args);
    call(o, (fn[9] == 'c' ? vs_protocol_decode_client : vs_protocol_decode_server)(B(a), B(b), &o->value, &err));
  } else {
    known = 0;
  }
  drop(&a);
  drop(&b);
  drop(&c);
  drop(&d);
  vs_manifest_free(m1);
  vs_manifest_free(m2);
  vs_manifest_free(m3);
  vs_store_free(s1);
  vs_store_free(s2);
  return known;
}

static VsBuf read_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    perror(path);
    exit(2);
  }
  Text t = {0};
  char chunk[65536];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) put(&t, chunk, n);
  fclose(f);
  return finish(&t);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s vectors.json\n", argv[0]);
    return 2;
  }
  VsBuf vectors = read_file(argv[1]);
  VsBuf cases = get(vectors, "cases");
  size_t n = 0;
  vs_json_len(B(cases), &n, NULL);
  CHECK(n > 0 && num(vectors, "format") == 1, "no cases, or an unknown format");
  for (size_t i = 0; i < n; i++) {
    char index[32];
    snprintf(index, sizeof index, "%zu", i);
    broken = 0;
    VsBuf item = get(cases, index), name = str(item, "name"), fn = str(item, "fn"), args = get(item, "args"),
          ok_value = get(item, "ok"), err_code = get(item, "err");
    Outcome o = {0};
    int known = run((const char *)fn.data, args, &o);
    if (!known) {
      CHECK(0, "case %s: unknown fn %s", name.data, fn.data);
    } else if (broken) {
      CHECK(0, "case %s: the runner could not read its arguments", name.data);
    } else if (err_code.data) {
      VsBuf want = str(item, "err");
      CHECK(o.status != VS_STATUS_OK && buf_is(want, o.code), "case %s: want error %s, got status %d %s",
            name.data, want.data, (int)o.status, o.status ? o.code : (const char *)o.value.data);
      drop(&want);
    } else if (o.status != VS_STATUS_OK) {
      CHECK(0, "case %s: failed with %s", name.data, o.code);
    } else if (o.kind == RAW) {
      VsBuf want = str(item, "ok");
      CHECK(want.len == o.value.len && memcmp(want.data, o.value.data, want.len) == 0,
            "case %s: got %s want %s", name.data, o.value.data, want.data);
      drop(&want);
    } else {
      VsBuf got = {0};
      vs_json_canonical(B(o.value), &got, NULL);
      CHECK(got.data && got.len == ok_value.len && memcmp(got.data, ok_value.data, got.len) == 0,
            "case %s:\n  got  %s\n  want %s", name.data, got.data, ok_value.data);
      drop(&got);
    }
    drop(&o.value);
    drop(&item);
    drop(&name);
    drop(&fn);
    drop(&args);
    drop(&ok_value);
    drop(&err_code);
  }
  drop(&cases);
  drop(&vectors);
  return summary("c conformance");
}
