"""velocity-sync from Python through the C API (ctypes, standard library only).

A thin wrapper: every function converts arguments to (pointer, length)
pairs, calls the library and turns a failed status into `VsError`, whose
`code` is the engine's stable code (``"path.parent_segment"``) or an
``ffi.*`` code. Structured values are JSON, decoded with `json`.

    lib = load("target/debug/libvelocity_sync_ffi.so")
    server, a, b = Server(lib), Client(lib, 1), Client(lib, 2)
"""

import ctypes
import json
import os


class VsError(Exception):
    """A refused call: `status` (VsStatus), `code` (stable), message."""

    def __init__(self, status, code, message):
        super().__init__(f"{code}: {message}")
        self.status, self.code, self.message = status, code, message


class Buf(ctypes.Structure):
    _fields_ = [("data", ctypes.POINTER(ctypes.c_uint8)), ("len", ctypes.c_size_t)]


_P = ctypes.c_void_p
_U8 = ctypes.c_char_p
_SZ = ctypes.c_size_t
_ERR = ctypes.POINTER(ctypes.c_void_p)

# name -> argument types (all return VsStatus, last argument VsError**).
_SIGNATURES = {
    "vs_op_apply": [_U8, _SZ, _U8, _SZ, ctypes.POINTER(Buf)],
    "vs_op_compose": [_U8, _SZ, _U8, _SZ, ctypes.POINTER(Buf)],
    "vs_op_transform": [_U8, _SZ, _U8, _SZ, ctypes.c_uint32, ctypes.POINTER(Buf), ctypes.POINTER(Buf)],
    "vs_op_invert": [_U8, _SZ, _U8, _SZ, ctypes.POINTER(Buf)],
    "vs_op_transform_position": [_U8, _SZ, _SZ, ctypes.c_uint32, ctypes.POINTER(_SZ)],
    "vs_op_from_splice": [_SZ, _SZ, _SZ, _U8, _SZ, ctypes.POINTER(Buf)],
    "vs_op_from_utf16": [_U8, _SZ, _U8, _SZ, ctypes.POINTER(Buf)],
    "vs_op_to_utf16": [_U8, _SZ, _U8, _SZ, ctypes.POINTER(Buf)],
    "vs_op_diff": [_U8, _SZ, _U8, _SZ, ctypes.POINTER(Buf)],
    "vs_path_parse": [_U8, _SZ, ctypes.POINTER(Buf)],
    "vs_path_parse_lenient": [_U8, _SZ, ctypes.POINTER(Buf)],
    "vs_op_from_json": [_U8, _SZ, ctypes.POINTER(Buf)],
    "vs_protocol_decode_client": [_U8, _SZ, _U8, _SZ, ctypes.POINTER(Buf)],
    "vs_protocol_decode_server": [_U8, _SZ, _U8, _SZ, ctypes.POINTER(Buf)],
    "vs_hash_of": [_U8, _SZ, ctypes.POINTER(Buf)],
    "vs_content_to_json": [_U8, _SZ, ctypes.POINTER(Buf)],
    "vs_content_from_json": [_U8, _SZ, ctypes.POINTER(Buf)],
    "vs_entry_from_content": [_U8, _SZ, _U8, _SZ, _U8, _SZ, ctypes.POINTER(Buf)],
    "vs_file_id_derive": [_U8, _SZ, _U8, _SZ, ctypes.POINTER(Buf)],
    "vs_manifest_from_json": [_U8, _SZ, ctypes.POINTER(_P)],
    "vs_manifest_to_json": [_P, ctypes.POINTER(Buf)],
    "vs_row_decode": [_U8, _SZ, ctypes.c_uint32, ctypes.POINTER(Buf)],
    "vs_row_encode": [ctypes.c_uint32, _U8, _SZ, _U8, _SZ, _U8, _SZ, ctypes.POINTER(Buf)],
    "vs_manifest_from_entries": [_U8, _SZ, ctypes.POINTER(_P)],
    "vs_manifest_id": [_P, ctypes.POINTER(Buf)],
    "vs_manifest_entries": [_P, ctypes.POINTER(Buf)],
    "vs_manifest_diff": [_P, _P, ctypes.POINTER(Buf)],
    "vs_manifest_apply": [_P, _U8, _SZ, ctypes.POINTER(_P)],
    "vs_store_new": [ctypes.POINTER(_P)],
    "vs_store_insert": [_P, _U8, _SZ, ctypes.POINTER(Buf)],
    "vs_store_get": [_P, _U8, _SZ, ctypes.POINTER(Buf)],
    "vs_changeset_between": [_P, _P, _P, ctypes.POINTER(Buf)],
    "vs_changeset_decode": [_U8, _SZ, ctypes.POINTER(Buf)],
    "vs_changeset_apply": [_U8, _SZ, _P, _P, ctypes.POINTER(_P)],
    "vs_hydrate_plan": [_P, _U8, _SZ, _U8, _SZ, _U8, _SZ, ctypes.POINTER(Buf)],
    "vs_client_new": [ctypes.c_uint64, ctypes.POINTER(_P)],
    "vs_client_connect": [_P],
    "vs_client_handle": [_P, _U8, _SZ],
    "vs_client_poll_outbound": [_P, ctypes.POINTER(Buf)],
    "vs_client_poll_event": [_P, ctypes.POINTER(Buf)],
    "vs_client_create": [_P, _U8, _SZ, _U8, _SZ, ctypes.POINTER(Buf)],
    "vs_client_edit": [_P, _U8, _SZ, _U8, _SZ],
    "vs_client_replace": [_P, _U8, _SZ, _U8, _SZ],
    "vs_client_delete": [_P, _U8, _SZ],
    "vs_client_rename": [_P, _U8, _SZ, _U8, _SZ],
    "vs_client_content": [_P, _U8, _SZ, ctypes.POINTER(Buf)],
    "vs_client_state": [_P, ctypes.POINTER(Buf), ctypes.POINTER(ctypes.c_uint32)],
    "vs_server_new": [ctypes.POINTER(_P)],
    "vs_server_connect": [_P, ctypes.c_uint64, ctypes.c_uint32],
    "vs_server_disconnect": [_P, ctypes.c_uint64],
    "vs_server_handle": [_P, ctypes.c_uint64, _U8, _SZ],
    "vs_server_poll_outbound": [_P, ctypes.POINTER(Buf), ctypes.POINTER(ctypes.c_uint32),
                                ctypes.POINTER(ctypes.c_uint64)],
    "vs_server_content": [_P, _U8, _SZ, ctypes.POINTER(Buf)],
    "vs_server_state": [_P, ctypes.POINTER(Buf), ctypes.POINTER(Buf)],
}

ROLES = {"editor": 0, "agent": 1, "viewer": 2}
SIDES = {"left": 0, "right": 1}
POLICIES = {"reject": 0, "report": 1}
SHAPES = {"editor": 0, "rich": 1, "simple": 2}
BIASES = {"after": 0, "before": 1}
RECIPIENT_CLIENT, RECIPIENT_ALL_EXCEPT, RECIPIENT_ALL = 0, 1, 2


def load(path=None):
    """Loads the library (default: $VS_LIB) and declares every signature."""
    lib = ctypes.CDLL(path or os.environ["VS_LIB"])
    for name, args in _SIGNATURES.items():
        fn = getattr(lib, name)
        fn.argtypes = args + [_ERR]
        fn.restype = ctypes.c_int
    for name in ("vs_error_code", "vs_error_message"):
        getattr(lib, name).argtypes = [_P]
        getattr(lib, name).restype = ctypes.c_char_p
    lib.vs_error_free.argtypes = [_P]
    lib.vs_buf_free.argtypes = [Buf]
    for name in ("vs_client_free", "vs_server_free", "vs_manifest_free", "vs_store_free"):
        getattr(lib, name).argtypes = [_P]
    lib.vs_version.restype = ctypes.c_char_p
    return lib


def call(lib, name, *args):
    """Calls `name`; raises VsError on a failed status."""
    error = ctypes.c_void_p()
    status = getattr(lib, name)(*args, ctypes.byref(error))
    if status != 0:
        code = lib.vs_error_code(error).decode()
        message = lib.vs_error_message(error).decode()
        lib.vs_error_free(error)
        raise VsError(status, code, message)


def take(lib, buf):
    """The bytes of a library buffer (None for "nothing"), freeing it."""
    if not buf.data:
        return None
    data = ctypes.string_at(buf.data, buf.len)
    lib.vs_buf_free(buf)
    return data


def arg(value):
    """(pointer, length) of str/bytes; (None, 0) for None."""
    if value is None:
        return (None, 0)
    data = value.encode() if isinstance(value, str) else bytes(value)
    return (data, len(data))


def bytes_out(lib, name, *args):
    """Calls a function whose last output is one VsBuf; returns its bytes."""
    buf = Buf()
    call(lib, name, *args, ctypes.byref(buf))
    return take(lib, buf)


def text_out(lib, name, *args):
    return bytes_out(lib, name, *args).decode()


def json_out(lib, name, *args):
    out = bytes_out(lib, name, *args)
    return None if out is None else json.loads(out)


def handle_out(lib, name, *args):
    handle = ctypes.c_void_p()
    call(lib, name, *args, ctypes.byref(handle))
    return handle


class Client:
    """A project client; call close() (or use `with`) to free it."""

    def __init__(self, lib, client_id):
        self.lib, self.id = lib, client_id
        self.handle = handle_out(lib, "vs_client_new", client_id)
        call(lib, "vs_client_connect", self.handle)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if self.handle:
            self.lib.vs_client_free(self.handle)
            self.handle = None

    def handle_message(self, message):
        call(self.lib, "vs_client_handle", self.handle, *arg(message))

    def poll_outbound(self):
        return bytes_out(self.lib, "vs_client_poll_outbound", self.handle)

    def poll_event(self):
        return json_out(self.lib, "vs_client_poll_event", self.handle)

    def create(self, path, content):
        return text_out(self.lib, "vs_client_create", self.handle, *arg(path), *arg(content))

    def edit(self, file_id, op):
        call(self.lib, "vs_client_edit", self.handle, *arg(file_id), *arg(op))

    def content(self, file_id):
        return bytes_out(self.lib, "vs_client_content", self.handle, *arg(file_id))

    def entries(self):
        buf = Buf()
        call(self.lib, "vs_client_state", self.handle, ctypes.byref(buf), None)
        return json.loads(take(self.lib, buf))


class Server:
    """A project server; call close() (or use `with`) to free it."""

    def __init__(self, lib):
        self.lib = lib
        self.handle = handle_out(lib, "vs_server_new")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if self.handle:
            self.lib.vs_server_free(self.handle)
            self.handle = None

    def connect(self, client_id, role="editor"):
        call(self.lib, "vs_server_connect", self.handle, client_id, ROLES[role])

    def handle_message(self, client_id, message):
        call(self.lib, "vs_server_handle", self.handle, client_id, *arg(message))

    def poll_outbound(self):
        """(message bytes, recipient kind, client id) or None."""
        buf, to, named = Buf(), ctypes.c_uint32(), ctypes.c_uint64()
        call(self.lib, "vs_server_poll_outbound", self.handle, ctypes.byref(buf),
             ctypes.byref(to), ctypes.byref(named))
        message = take(self.lib, buf)
        return None if message is None else (message, to.value, named.value)

    def content(self, file_id):
        return bytes_out(self.lib, "vs_server_content", self.handle, *arg(file_id))


def pump(server, clients):
    """Moves messages between a server and its clients until all are quiet."""
    while True:
        quiet = True
        for client in clients:
            while (message := client.poll_outbound()) is not None:
                server.handle_message(client.id, message)
                quiet = False
        while (out := server.poll_outbound()) is not None:
            message, to, named = out
            for client in clients:
                if (to == RECIPIENT_ALL or (to == RECIPIENT_CLIENT and named == client.id)
                        or (to == RECIPIENT_ALL_EXCEPT and named != client.id)):
                    client.handle_message(message)
            quiet = False
        if quiet:
            return
