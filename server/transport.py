"""LSP over stdio with strict framing: every request is answered, a broken stream ends the server.

pygls' own stdio loop drops a request whose params do not validate (no response: the client waits
forever) and, after a malformed header, keeps running without ever answering again. This loop
replaces it:

* Framing (:class:`fglocal.framing.FrameReader`, shared with the debug adapter): a malformed header
  (seen as soon as its bytes arrive), a missing or non-numeric ``Content-Length``, one over 64 MiB, a
  header line over 8,192 bytes or end of input inside a message cannot be resynchronised reliably, so
  the server logs it to stderr and exits with code 1; the editor restarts it.
* A complete frame whose body is not JSON gets a ``ParseError``; JSON that is not a request,
  notification or response object gets ``InvalidRequest`` (id null when it has none). The server
  goes on.
* A request whose params do not fit the method gets ``InvalidParams`` naming the field; an unknown
  method gets ``MethodNotFound``, a notification method sent with an id ``InvalidRequest``; a
  notification with bad params (or of an unknown method) is logged and dropped.
* Lifecycle (LSP specification): a request before ``initialize`` gets ``ServerNotInitialized``, a
  second ``initialize`` ``InvalidRequest``, and requests after ``shutdown`` ``InvalidRequest``;
  ``exit`` ends the process with 0 after ``shutdown`` and 1 without. End of input ends it with 0
  after ``shutdown``, else (the client died) with 1, logged.

Frames are read on a daemon thread and handled in order on the asyncio loop.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from typing import Any, BinaryIO, Dict, List, Optional, Union

import attrs
import cattrs
from lsprotocol import types
from pygls.io_ import StdoutWriter
from pygls.lsp.server import LanguageServer
from pygls.protocol import JsonRPCNotification, JsonRPCRequestMessage

from fglocal.framing import FrameReader

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
SERVER_NOT_INITIALIZED = -32002

log = logging.getLogger(__name__)


class Dispatcher:
    """Checks each message against JSON-RPC and the LSP lifecycle, then hands it to pygls."""

    def __init__(self, server: LanguageServer, writer: StdoutWriter) -> None:
        self.server = server
        self.protocol = server.protocol
        self.writer = writer
        self.initialized = False
        self.shut_down = False

    def handle(self, body: bytes) -> Optional[int]:
        """Handle one message body; the exit code when it was ``exit``, else None."""
        try:
            data = json.loads(body)
        except (ValueError, RecursionError) as exc:  # not UTF-8, not JSON, or nested too deeply
            self._error(None, PARSE_ERROR, "the message body is not JSON (%s)" % _short(exc))
            return None
        if not isinstance(data, dict):
            self._error(None, INVALID_REQUEST, "a message must be a JSON object, got %s" % _json_type(data))
            return None
        method = data.get("method")
        has_id = "id" in data
        msg_id = data.get("id")
        valid_id = isinstance(msg_id, (int, str)) and not isinstance(msg_id, bool)
        if data.get("jsonrpc") != "2.0":
            return self._invalid(data, 'the "jsonrpc" member must be "2.0"')
        if method is None:
            if has_id and ("result" in data or "error" in data):
                self._pass_on(data, None, is_request=False)  # a response to one of our requests
                return None
            return self._invalid(data, 'a message needs a "method" (or is a response with "result")')
        if not isinstance(method, str):
            return self._invalid(data, 'the "method" member must be a string')
        if has_id and not valid_id:
            self._error(None, INVALID_REQUEST, "the request id must be a number or a string")
            return None
        if method == types.EXIT:
            return 0 if self.shut_down else 1
        if self.shut_down:
            return self._refuse(data, INVALID_REQUEST, "the server is shut down; only 'exit' is accepted")
        if method == types.INITIALIZE and self.initialized:
            return self._refuse(data, INVALID_REQUEST, "the server is already initialized")
        if method != types.INITIALIZE and not self.initialized:
            return self._refuse(data, SERVER_NOT_INITIALIZED, "the server is not initialized yet")
        if self._pass_on(data, method, is_request=has_id) and has_id:
            if method == types.INITIALIZE:
                self.initialized = True
            elif method == types.SHUTDOWN:
                self.shut_down = True
        return None

    def _pass_on(self, data: Dict[str, Any], method: Optional[str], is_request: bool) -> bool:
        """Structure the message with pygls' converter and let pygls handle it; False if it did not fit."""
        kind: Any = self.protocol.get_message_type(method) if method else None
        if method is not None and kind is None:
            features = self.protocol.fm
            if method not in features.features and method not in features.builtin_features:
                if is_request:
                    self._error(data["id"], METHOD_NOT_FOUND, "unknown method %r" % method[:100])
                elif not method.startswith("$/"):  # "$/" notifications may be ignored silently
                    self._log("ignored a notification of unknown method %r" % method[:100])
                return False
            kind = JsonRPCRequestMessage if is_request else JsonRPCNotification
            data = {"params": None, **data}
        if method is not None and is_request != ("id" in attrs.fields_dict(kind)):
            what = "a request: it needs an id" if not is_request else "a notification: it takes no id"
            if is_request:
                self._error(data["id"], INVALID_REQUEST, "%s is %s" % (method, what))
            else:
                self._log("ignored %s: it is %s" % (method, what))
            return False
        try:
            if kind is None:
                message = self.protocol.structure_message(data)  # a response: pygls knows its type
            else:
                message = self.protocol._converter.structure(data, kind)
        except Exception as exc:  # a cattrs validation error, reported below
            detail = _validation_detail(exc)
            if is_request:
                self._error(data["id"], INVALID_PARAMS, "invalid params for %s: %s" % (method, detail))
            else:
                self._log("ignored %s with invalid params: %s" % (method or "a response", detail))
            return False
        self.protocol.handle_message(message)
        return True

    def _invalid(self, data: Dict[str, Any], message: str) -> Optional[int]:
        msg_id = data.get("id")
        if isinstance(msg_id, (int, str)) and not isinstance(msg_id, bool):
            self._error(msg_id, INVALID_REQUEST, message)
        elif "id" in data:
            self._error(None, INVALID_REQUEST, message)
        else:
            self._log("ignored a message: %s" % message)
        return None

    def _refuse(self, data: Dict[str, Any], code: int, message: str) -> Optional[int]:
        if "id" in data:
            self._error(data["id"], code, message)
        else:
            self._log("ignored %r: %s" % (data.get("method"), message))
        return None

    def _error(self, msg_id: Union[int, str, None], code: int, message: str) -> None:
        payload = {"jsonrpc": "2.0", "id": msg_id, "error": {"code": code, "message": message}}
        body = json.dumps(payload).encode("utf-8")
        self.writer.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))

    def _log(self, message: str) -> None:
        log.warning("functiongraph language server: %s", message)
        if self.initialized:
            try:
                self.server.window_log_message(
                    types.LogMessageParams(type=types.MessageType.Warning, message=message)
                )
            except Exception:  # the transport may be closing
                pass


def serve(server: LanguageServer, stdin: BinaryIO, stdout: BinaryIO, prefix: bytes = b"") -> int:
    """Run the server over ``stdin``/``stdout`` until ``exit`` or a broken stream; the exit code.

    ``prefix``: bytes already read from ``stdin`` (by server/fast_start.py), read first.
    """
    writer = StdoutWriter(stdout)
    server.protocol.set_writer(writer)
    return asyncio.run(_serve(Dispatcher(server, writer), FrameReader(stdin.fileno(), prefix=prefix)))


async def _serve(dispatcher: Dispatcher, stdin: FrameReader) -> int:
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[Union[bytes, Exception, None]] = asyncio.Queue()

    def read() -> None:
        while True:
            try:
                body = stdin.read_frame()
            except Exception as exc:  # FramingError, or the stream itself failed
                loop.call_soon_threadsafe(queue.put_nowait, exc)
                return
            loop.call_soon_threadsafe(queue.put_nowait, body)
            if body is None:
                return

    # A daemon thread: a read blocked on stdin never keeps the process from exiting.
    threading.Thread(target=read, name="lsp-stdin", daemon=True).start()
    while True:
        item = await queue.get()
        if item is None:
            if dispatcher.shut_down:
                return 0  # shut down as asked; the client closed the pipe instead of sending 'exit'
            log.error("functiongraph language server: end of input without 'exit'; exiting with code 1")
            return 1
        if isinstance(item, Exception):
            log.error("functiongraph language server: %s; exiting with code 1", _short(item))
            return 1
        try:
            code = dispatcher.handle(item)
        except BrokenPipeError:
            log.error("functiongraph language server: the client closed the connection; exiting")
            return 1
        if code is not None:
            return code


def _validation_detail(exc: BaseException) -> str:
    cause: Optional[BaseException] = exc.__cause__ or exc
    if isinstance(cause, (cattrs.ClassValidationError, cattrs.IterableValidationError)):
        messages: List[str] = cattrs.transform_error(cause, path="params")
        return "; ".join(m.replace("@ params.params", "@ params") for m in messages)
    return _short(cause or exc)


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 200 else text[:200] + "..."


def _json_type(value: Any) -> str:
    return {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number"
    )
