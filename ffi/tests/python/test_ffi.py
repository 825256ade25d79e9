"""The C API from Python (ctypes, standard library only): a client <-> server
exchange, typed errors, and the shared conformance vectors.

Run: VS_LIB=target/debug/libvelocity_sync_ffi.so python3 ffi/tests/python/test_ffi.py
Prints a cargo-style "test result:" line so scripts/test counts it.
"""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))

import velocity_sync as vs  # noqa: E402
import conformance  # noqa: E402

LIB = vs.load()


class Exchange(unittest.TestCase):
    def test_two_clients_converge_through_the_server(self):
        with vs.Server(LIB) as server, vs.Client(LIB, 1) as a, vs.Client(LIB, 2) as b:
            server.connect(1)
            server.connect(2)
            vs.pump(server, [a, b])
            file_id = a.create("notes.md", "hello")
            vs.pump(server, [a, b])
            self.assertEqual(b.content(file_id), b"hello")
            a.edit(file_id, vs.text_out(LIB, "vs_op_from_splice", 5, 5, 0, *vs.arg(" world")))
            b.edit(file_id, vs.text_out(LIB, "vs_op_from_splice", 5, 0, 0, *vs.arg(">> ")))
            vs.pump(server, [a, b])
            for side in (a, b, server):
                self.assertEqual(side.content(file_id), b">> hello world")
            self.assertEqual(a.entries(), b.entries())
            events = []
            while (event := b.poll_event()) is not None:
                events.append(event["event"])
            self.assertIn("created", events)
            self.assertIn("edited", events)

    def test_a_viewer_is_refused_by_the_server(self):
        with vs.Server(LIB) as server, vs.Client(LIB, 1) as a, vs.Client(LIB, 2) as viewer:
            server.connect(1)
            server.connect(2, "viewer")
            file_id = a.create("a.txt", "x")
            vs.pump(server, [a, viewer])
            viewer.edit(file_id, "[1,\"y\"]")
            vs.pump(server, [a, viewer])
            codes = []
            while (event := viewer.poll_event()) is not None:
                codes.append(event.get("code"))
            self.assertIn("sync.read_only", codes)
            self.assertEqual(server.content(file_id), b"x")


class Readme(unittest.TestCase):
    def test_the_readme_python_example_runs(self):
        readme = os.path.join(os.path.dirname(__file__), "..", "..", "..", "README.md")
        with open(readme, encoding="utf-8") as f:
            text = f.read()
        section = text.split("## The C API", 1)[1]
        block = section.split("```python\n", 1)[1].split("```", 1)[0]
        exec(compile(block, "README.md", "exec"), {})


class Errors(unittest.TestCase):
    def assertRefused(self, code, name, *args):
        with self.assertRaises(vs.VsError) as caught:
            vs.bytes_out(LIB, name, *args)
        self.assertEqual(caught.exception.code, code)
        self.assertTrue(caught.exception.message)

    def test_bad_input_has_typed_codes(self):
        self.assertRefused("path.parent_segment", "vs_path_parse", *vs.arg("../etc/passwd"))
        self.assertRefused("ffi.invalid_utf8", "vs_path_parse_lenient", *vs.arg(b"a\xff"))
        self.assertRefused("ffi.null_pointer", "vs_path_parse", None, 3)
        self.assertRefused("ot.length_mismatch", "vs_op_apply", *vs.arg("[3]"), *vs.arg("ab"))
        self.assertRefused("ffi.invalid_json", "vs_op_from_utf16", *vs.arg("ab"), *vs.arg("{"))
        self.assertRefused("protocol.unknown_event", "vs_protocol_decode_client",
                           *vs.arg('{"v":1,"event":"nope","payload":{}}'), None, 0)
        with self.assertRaises(vs.VsError) as caught:
            vs.call(LIB, "vs_server_connect", None, 1, 0)
        self.assertEqual(caught.exception.code, "ffi.null_pointer")

    def test_utf16_round_trip(self):
        base = "a\U0001F600b"
        op = vs.text_out(LIB, "vs_op_from_utf16", *vs.arg(base),
                         *vs.arg('[{"offset":3,"deleted":1,"text":"c"}]'))
        self.assertEqual(op, '[2,"c",-1]')
        self.assertEqual(vs.text_out(LIB, "vs_op_apply", *vs.arg(op), *vs.arg(base)), "a\U0001F600c")


VECTORS = os.path.join(os.path.dirname(__file__), "..", "..", "..", "conformance", "vectors.json")


class Conformance(unittest.TestCase):
    def test_shared_vectors_match_byte_for_byte(self):
        with open(VECTORS, encoding="utf-8") as f:
            vectors = json.load(f)
        self.assertEqual(vectors["format"], 1)
        self.assertTrue(vectors["cases"])
        failures = []
        for case in vectors["cases"]:
            try:
                why = conformance.check(LIB, case)
            except KeyError as error:
                why = str(error)
            if why:
                failures.append(f"{case['name']}: {why}")
        self.assertEqual(failures, [], "\n".join(failures))

    def test_the_runner_fails_on_a_wrong_result_and_an_unknown_fn(self):
        self.assertIsNotNone(conformance.check(LIB, {"fn": "op.apply", "args": {"text": "a", "op": [1, "b"]},
                                                     "ok": "ba"}))
        self.assertIsNotNone(conformance.check(LIB, {"fn": "op.apply", "args": {"text": "a", "op": [2]},
                                                     "err": "ot.out_of_range"}))
        with self.assertRaises(KeyError):
            conformance.check(LIB, {"fn": "op.nope", "args": {}, "ok": 1})


def main():
    result = unittest.TextTestRunner(verbosity=1).run(
        unittest.defaultTestLoader.loadTestsFromModule(sys.modules[__name__]))
    failed = len(result.failures) + len(result.errors)
    passed = result.testsRun - failed
    print(f"test result: {'ok' if failed == 0 else 'FAILED'}. {passed} passed; {failed} failed; (python ffi)")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
