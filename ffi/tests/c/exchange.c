/*
 * A client <-> server exchange through the C API, plus every kind of bad
 * input the API must refuse with a typed error. Run under AddressSanitizer
 * and LeakSanitizer by ffi/tests/c_suite.rs: every buffer, error and handle
 * is freed, so a leak report fails the test.
 */
#include "check.h"

#define CLIENTS 2

static VsServer *server;
static VsClient *clients[CLIENTS];
static const uint64_t ids[CLIENTS] = {1, 2};

/* Moves messages until nobody has anything to send. */
static void pump(void) {
  for (int round = 0; round < 1000; round++) {
    int quiet = 1;
    for (int i = 0; i < CLIENTS; i++) {
      for (;;) {
        VsBuf message;
        VsError *error = NULL;
        if (!ok(vs_client_poll_outbound(clients[i], &message, &error), &error, "client poll")) return;
        if (!message.data) break;
        quiet = 0;
        ok(vs_server_handle(server, ids[i], B(message), &error), &error, "server handle");
        vs_buf_free(message);
      }
    }
    for (;;) {
      VsBuf message;
      uint32_t to;
      uint64_t named;
      VsError *error = NULL;
      if (!ok(vs_server_poll_outbound(server, &message, &to, &named, &error), &error, "server poll")) return;
      if (!message.data) break;
      quiet = 0;
      for (int i = 0; i < CLIENTS; i++) {
        int mine = to == VS_RECIPIENT_ALL || (to == VS_RECIPIENT_CLIENT && named == ids[i]) ||
                   (to == VS_RECIPIENT_ALL_EXCEPT && named != ids[i]);
        if (mine) ok(vs_client_handle(clients[i], B(message), &error), &error, "client handle");
      }
      vs_buf_free(message);
    }
    if (quiet) return;
  }
  CHECK(0, "pump did not settle in 1000 rounds");
}

static void expect_content(VsClient *client, VsBuf id, const char *want) {
  VsBuf content;
  VsError *error = NULL;
  if (ok(vs_client_content(client, B(id), &content, &error), &error, "client content")) {
    CHECK(buf_is(content, want), "content is \"%s\", want \"%s\"", content.data, want);
    vs_buf_free(content);
  }
}

static void exchange(void) {
  VsError *error = NULL;
  ok(vs_server_new(&server, &error), &error, "server new");
  for (int i = 0; i < CLIENTS; i++) {
    ok(vs_client_new(ids[i], &clients[i], &error), &error, "client new");
    ok(vs_server_connect(server, ids[i], VS_ROLE_EDITOR, &error), &error, "server connect");
    ok(vs_client_connect(clients[i], &error), &error, "client connect");
  }
  pump();

  VsBuf id;
  ok(vs_client_create(clients[0], S("notes.md"), S("hello"), &id, &error), &error, "create");
  pump();
  expect_content(clients[1], id, "hello");

  /* Both type at once; OT merges. */
  VsBuf a, b;
  ok(vs_op_from_splice(5, 5, 0, S(" world"), &a, &error), &error, "splice a");
  ok(vs_op_from_splice(5, 0, 0, S(">> "), &b, &error), &error, "splice b");
  ok(vs_client_edit(clients[0], B(id), B(a), &error), &error, "edit a");
  ok(vs_client_edit(clients[1], B(id), B(b), &error), &error, "edit b");
  vs_buf_free(a);
  vs_buf_free(b);
  pump();
  expect_content(clients[0], id, ">> hello world");
  expect_content(clients[1], id, ">> hello world");
  VsBuf on_server;
  if (ok(vs_server_content(server, B(id), &on_server, &error), &error, "server content")) {
    CHECK(buf_is(on_server, ">> hello world"), "server has \"%s\"", on_server.data);
    vs_buf_free(on_server);
  }

  /* Both clients are synced and hold the server's manifest. */
  VsBuf server_entries, manifest_id;
  ok(vs_server_state(server, &server_entries, &manifest_id, &error), &error, "server state");
  CHECK(manifest_id.len == 64, "manifest id has %zu hex digits", manifest_id.len);
  for (int i = 0; i < CLIENTS; i++) {
    VsBuf entries;
    uint32_t synced = 0;
    ok(vs_client_state(clients[i], &entries, &synced, &error), &error, "client state");
    CHECK(synced == 1, "client %d is not synced", i);
    CHECK(entries.len == server_entries.len && memcmp(entries.data, server_entries.data, entries.len) == 0,
          "client %d entries %s differ from the server's %s", i, entries.data, server_entries.data);
    vs_buf_free(entries);
  }

  /* The second client saw the file appear and the edit arrive. */
  int created = 0, edited = 0;
  for (;;) {
    VsBuf event, kind;
    ok(vs_client_poll_event(clients[1], &event, &error), &error, "poll event");
    if (!event.data) break;
    ok(vs_json_get(B(event), S("event"), &kind, &error), &error, "event kind");
    created += buf_is(kind, "\"created\"");
    edited += buf_is(kind, "\"edited\"");
    vs_buf_free(kind);
    vs_buf_free(event);
  }
  CHECK(created == 1 && edited >= 1, "events: %d created, %d edited", created, edited);

  /* A manifest built from the server's entries has the same tree; the
     hydration plan for a newcomer sends that one file. */
  VsManifest *manifest = NULL;
  if (ok(vs_manifest_from_entries(B(server_entries), &manifest, &error), &error, "manifest")) {
    VsBuf plan, files;
    ok(vs_hydrate_plan(manifest, NULL, 0, NULL, 0, S("{\"max_batch_bytes\":65536}"), &plan, &error), &error,
       "hydrate plan");
    ok(vs_json_get(B(plan), S("files"), &files, &error), &error, "plan files");
    size_t n = 0;
    ok(vs_json_len(B(files), &n, &error), &error, "plan files len");
    CHECK(n == 1, "plan has %zu files", n);
    vs_buf_free(files);
    vs_buf_free(plan);
  }
  vs_manifest_free(manifest);
  vs_buf_free(server_entries);
  vs_buf_free(manifest_id);

  /* A viewer's write is refused by the server: an error message to it, and
     the file is unchanged. */
  ok(vs_server_disconnect(server, ids[1], &error), &error, "disconnect");
  ok(vs_server_connect(server, ids[1], VS_ROLE_VIEWER, &error), &error, "reconnect viewer");
  ok(vs_client_connect(clients[1], &error), &error, "client reconnect");
  pump();
  VsBuf c;
  ok(vs_op_from_splice(14, 0, 14, S("!"), &c, &error), &error, "splice c");
  ok(vs_client_edit(clients[1], B(id), B(c), &error), &error, "viewer edit");
  vs_buf_free(c);
  pump();
  int rejected = 0;
  for (;;) {
    VsBuf event, code;
    ok(vs_client_poll_event(clients[1], &event, &error), &error, "poll event");
    if (!event.data) break;
    ok(vs_json_get(B(event), S("code"), &code, &error), &error, "event code");
    rejected += buf_is(code, "\"sync.read_only\"");
    vs_buf_free(code);
    vs_buf_free(event);
  }
  CHECK(rejected == 1, "viewer saw %d read-only refusals", rejected);
  expect_content(clients[0], id, ">> hello world");

  vs_buf_free(id);
  for (int i = 0; i < CLIENTS; i++) vs_client_free(clients[i]);
  vs_server_free(server);
}

static void changesets(void) {
  VsError *error = NULL;
  VsStore *sender = NULL, *receiver = NULL;
  VsManifest *base = NULL, *target = NULL, *received = NULL;
  VsBuf old_hash, new_hash, changeset, again;
  ok(vs_store_new(&sender, &error), &error, "store");
  ok(vs_store_new(&receiver, &error), &error, "store");
  VsBuf ignored;
  ok(vs_store_insert(sender, S("line one\nline two\n"), &old_hash, &error), &error, "insert old");
  ok(vs_store_insert(receiver, S("line one\nline two\n"), &ignored, &error), &error, "insert old");
  vs_buf_free(ignored);
  ok(vs_store_insert(sender, S("line one\nline 2\n"), &new_hash, &error), &error, "insert new");
  char entries[512];
  snprintf(entries, sizeof entries,
           "[{\"id\":\"0b6f9c1e-3c5a-4a7e-9a55-1f0e2d3c4b5a\",\"path\":\"notes.txt\",\"kind\":\"text\","
           "\"size\":18,\"hash\":\"%s\",\"revision\":0}]",
           (const char *)old_hash.data);
  ok(vs_manifest_from_entries(S(entries), &base, &error), &error, "base manifest");
  snprintf(entries, sizeof entries,
           "[{\"id\":\"0b6f9c1e-3c5a-4a7e-9a55-1f0e2d3c4b5a\",\"path\":\"notes.txt\",\"kind\":\"text\","
           "\"size\":16,\"hash\":\"%s\",\"revision\":1}]",
           (const char *)new_hash.data);
  ok(vs_manifest_from_entries(S(entries), &target, &error), &error, "target manifest");
  vs_buf_free(old_hash);

  if (ok(vs_changeset_between(base, target, sender, &changeset, &error), &error, "between")) {
    ok(vs_changeset_decode(B(changeset), &again, &error), &error, "decode");
    CHECK(again.len == changeset.len && memcmp(again.data, changeset.data, again.len) == 0,
          "decode -> encode changed the changeset");
    vs_buf_free(again);
    if (ok(vs_changeset_apply(B(changeset), base, receiver, &received, &error), &error, "apply")) {
      VsBuf want, got, content;
      ok(vs_manifest_id(target, &want, &error), &error, "id");
      ok(vs_manifest_id(received, &got, &error), &error, "id");
      CHECK(want.len == 64 && got.len == 64 && memcmp(want.data, got.data, 64) == 0, "ids differ");
      ok(vs_store_get(receiver, B(new_hash), &content, &error), &error, "get");
      CHECK(buf_is(content, "line one\nline 2\n"), "receiver holds \"%s\"", content.data);
      vs_buf_free(want);
      vs_buf_free(got);
      vs_buf_free(content);
    }
    /* Applying it again: the receiver is past the base now. */
    VsManifest *twice = NULL;
    refused(vs_changeset_apply(B(changeset), received, receiver, &twice, &error), &error, VS_STATUS_REFUSED,
            "changeset.base_mismatch", "apply twice");
    CHECK(twice == NULL, "failed apply wrote its output");
    vs_buf_free(changeset);
  }
  vs_buf_free(new_hash);
  vs_manifest_free(received);
  vs_manifest_free(base);
  vs_manifest_free(target);
  vs_store_free(sender);
  vs_store_free(receiver);
}

static void bad_input(void) {
  VsError *error = NULL;
  VsBuf out = {0};
  refused(vs_path_parse(S("../etc/passwd"), &out, &error), &error, VS_STATUS_REFUSED, "path.parent_segment",
          "parent segment");
  refused(vs_path_parse((const uint8_t *)"a\xff", 2, &out, &error), &error, VS_STATUS_REFUSED,
          "path.invalid_utf8", "path bytes");
  refused(vs_path_parse_lenient((const uint8_t *)"a\xff", 2, &out, &error), &error, VS_STATUS_INVALID_UTF8,
          "ffi.invalid_utf8", "lenient bytes");
  refused(vs_path_parse(NULL, 3, &out, &error), &error, VS_STATUS_NULL_POINTER, "ffi.null_pointer", "null input");
  refused(vs_path_parse(S("a"), NULL, &error), &error, VS_STATUS_NULL_POINTER, "ffi.null_pointer", "null out");
  refused(vs_op_apply(S("[3]"), S("ab"), &out, &error), &error, VS_STATUS_REFUSED, "ot.length_mismatch",
          "length mismatch");
  refused(vs_op_apply(S("[0]"), S(""), &out, &error), &error, VS_STATUS_REFUSED, "ot.invalid_json", "zero retain");
  refused(vs_op_from_utf16(S("a\xf0\x9f\x98\x80"), S("[{\"offset\":2,\"deleted\":0,\"text\":\"x\"}]"), &out, &error),
          &error, VS_STATUS_REFUSED, "ot.split_surrogate", "split surrogate");
  refused(vs_op_from_utf16(S("ab"), S("{\"offset\":1}"), &out, &error), &error, VS_STATUS_INVALID_JSON,
          "ffi.invalid_json", "changes not a list");
  refused(vs_op_transform(S("[1]"), S("[1]"), 7, &out, &out, &error), &error, VS_STATUS_INVALID_ARGUMENT,
          "ffi.invalid_argument", "bad side");
  refused(vs_protocol_decode_client(S("{\"v\":1,\"event\":\"nope\",\"payload\":{}}"), NULL, 0, &out, &error), &error,
          VS_STATUS_REFUSED, "protocol.unknown_event", "unknown event");
  refused(vs_protocol_decode_server(S("not json"), NULL, 0, &out, &error), &error, VS_STATUS_REFUSED, "protocol.bad_json",
          "bad json");
  VsServer *s = NULL;
  ok(vs_server_new(&s, &error), &error, "server");
  refused(vs_server_connect(s, 1, 9, &error), &error, VS_STATUS_INVALID_ARGUMENT, "ffi.invalid_argument",
          "bad role");
  refused(vs_server_handle(s, 1, S("{\"v\":1,\"event\":\"file:create\",\"payload\":{\"id\":"
                                   "\"00000000-0000-0000-0000-000000000001\",\"path\":\"../x\",\"seq\":1}}"),
                           &error),
          &error, VS_STATUS_REFUSED, "protocol.bad_payload", "hostile path");
  vs_server_free(s);
  refused(vs_client_connect(NULL, &error), &error, VS_STATUS_NULL_POINTER, "ffi.null_pointer", "null handle");
  /* Errors may be ignored: passing NULL for `error` still returns the status. */
  CHECK(vs_path_parse(S("/abs"), &out, NULL) == VS_STATUS_REFUSED, "status without error object");
  CHECK(out.data == NULL, "failed call wrote its output");
  /* Free functions take NULL. */
  vs_buf_free((VsBuf){0});
  vs_error_free(NULL);
  vs_client_free(NULL);
  vs_server_free(NULL);
  vs_manifest_free(NULL);
  vs_store_free(NULL);
  CHECK(vs_error_code(NULL) == NULL, "code of NULL");
}

static void ops(void) {
  VsError *error = NULL;
  VsBuf out, a2, b2, changes, op;
  if (ok(vs_op_apply(S("[5,\" world\"]"), S("hello"), &out, &error), &error, "apply")) {
    CHECK(buf_is(out, "hello world"), "apply gave %s", out.data);
    CHECK(out.data[out.len] == 0, "buffers are NUL-terminated");
    vs_buf_free(out);
  }
  if (ok(vs_op_transform(S("[1,\"a\"]"), S("[1,\"b\"]"), VS_SIDE_LEFT, &a2, &b2, &error), &error, "transform")) {
    CHECK(buf_is(a2, "[1,\"a\",1]") && buf_is(b2, "[2,\"b\"]"), "transform gave %s %s", a2.data, b2.data);
    vs_buf_free(a2);
    vs_buf_free(b2);
  }
  /* "a😀b": the emoji is two UTF-16 units; replace "b" (unit 3). */
  if (ok(vs_op_from_utf16(S("a\xf0\x9f\x98\x80" "b"), S("[{\"offset\":3,\"deleted\":1,\"text\":\"c\"}]"), &op, &error),
         &error, "from utf16")) {
    CHECK(buf_is(op, "[2,\"c\",-1]"), "from_utf16 gave %s", op.data);
    ok(vs_op_to_utf16(B(op), S("a\xf0\x9f\x98\x80" "b"), &changes, &error), &error, "to utf16");
    CHECK(buf_is(changes, "[{\"offset\":3,\"deleted\":1,\"text\":\"c\"}]"), "to_utf16 gave %s", changes.data);
    vs_buf_free(changes);
    vs_buf_free(op);
  }
  size_t pos = 0;
  ok(vs_op_transform_position(S("[\"ab\",3]"), 1, VS_BIAS_AFTER, &pos, &error), &error, "position");
  CHECK(pos == 3, "position %zu", pos);
  const char *version = vs_version();
  CHECK(version && strlen(version) > 0, "version");
}

int main(void) {
  exchange();
  changesets();
  bad_input();
  ops();
  return summary("c exchange");
}
