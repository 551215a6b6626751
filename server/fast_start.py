"""Answer ``initialize``, and publish the first diagnostics, before pygls and lsprotocol are imported.

Importing lsprotocol (~1,000 attrs classes) is most of the server's start-up; nothing before the first
answers needs it. So ``python -m server``:

1. imports the analysis (no lsprotocol there), then starts importing :mod:`server.server` (pygls,
   lsprotocol) on a background thread;
2. reads the client's first message itself (plain JSON over stdio) and, for ``initialize``, answers at
   once with the capabilities pygls computes for our features (:mod:`server.capabilities`, generated,
   and checked equal to pygls' own answer by tests/test_server_fast_start.py);
3. while the import runs, reads (and keeps) what the client sends next; a ``didOpen`` of a Python file
   is analysed right away (:func:`server.analysis.diagnostics.analyze`, the same analysis) and its
   diagnostics published, holding the interpreter lock meanwhile so the import does not slow it
   (only a document's first didOpen: one reopened after a close, or changed, is left to pygls, so
   that what the client receives keeps the order of what it sent);
4. then hands everything read so far, and the rest of stdin, to the pygls server, dropping the one
   response it writes to the ``initialize`` already answered. From there pygls serves as usual (it
   does not publish again what was published early, but the config file's own diagnostics).

Set ``FGLS_NO_FAST_START=1`` to start pygls directly.
"""

from __future__ import annotations

import json
import os
import select
import sys
import threading
from pathlib import Path
from typing import Any, BinaryIO, Dict, List, Optional, cast
from urllib.parse import unquote, urlparse

_ENCODINGS = ("utf-8", "utf-16", "utf-32")
# (uri, version) of the documents whose diagnostics were published before pygls was ready.
_PUBLISHED: set = set()
_POLL_SECONDS = 0.005
_HANDOFF_SECONDS = 0.0005  # switch interval while the folder is read on another thread
MAX_TEXT = 2_000_000  # as server.language_server: bigger documents are not analysed


class _Message:
    """One JSON-RPC message as read: its parsed body (an empty dict when it is not a JSON object)."""

    def __init__(self, body: Dict[str, Any]) -> None:
        self.body = body


def read_message(fd: int, consumed: bytearray) -> Optional[_Message]:
    """The next LSP message on ``fd``, its bytes appended to ``consumed`` (nothing is read past it).

    None at end of input or on anything but a plain well-formed frame: the bytes read so far then go
    to :mod:`server.transport`, which applies its framing rules to them.
    """
    header = b""
    while not header.endswith(b"\r\n\r\n"):
        chunk = os.read(fd, 1)
        if not chunk:
            return None
        header += chunk
        consumed += chunk
        if len(header) > 8192:
            return None
    length = None
    for line in header.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length" and value.strip().isdigit():
            length = int(value.strip())
    if length is None or length > 64 * 1024 * 1024:
        return None
    body = b""
    while len(body) < length:
        chunk = os.read(fd, length - len(body))
        if not chunk:
            consumed += body
            return None
        body += chunk
    consumed += body
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):  # not JSON, or nested too deeply: server.transport answers it
        parsed = None
    return _Message(parsed if isinstance(parsed, dict) else {})


def write_message(stream: BinaryIO, message: Dict[str, Any]) -> None:
    """Write one LSP message (as pygls frames them)."""
    body = json.dumps(message, separators=(",", ":")).encode("utf-8")
    header = "Content-Length: %d\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n" % len(
        body
    )
    stream.write(header.encode("ascii") + body)
    stream.flush()


def position_encoding(params: Dict[str, Any]) -> str:
    """The position encoding pygls picks: the client's first supported preference, else UTF-16."""
    general = (params.get("capabilities") or {}).get("general") or {}
    for encoding in general.get("positionEncodings") or ():
        if encoding in _ENCODINGS:
            return encoding
    return "utf-16"


def initialize_result(params: Dict[str, Any]) -> Dict[str, Any]:
    """The ``initialize`` result pygls would send for our features."""
    from server import __version__
    from server.capabilities import CAPABILITIES

    capabilities = dict(CAPABILITIES)
    capabilities["positionEncoding"] = position_encoding(params)
    # pygls states willSave / willSaveWaitUntil (false: we register neither) when the client has them.
    sync = ((params.get("capabilities") or {}).get("textDocument") or {}).get("synchronization") or {}
    stated = {key: False for key in ("willSave", "willSaveWaitUntil") if sync.get(key)}
    if stated:
        capabilities["textDocumentSync"] = {**capabilities["textDocumentSync"], **stated}
    return {
        "capabilities": capabilities,
        "serverInfo": {"name": "functiongraph-language-server", "version": __version__},
    }


class _DropResponse:
    """stdout for pygls that drops its response to the ``initialize`` already answered."""

    def __init__(self, stream: BinaryIO, request_id: Any) -> None:
        self._stream = stream
        self._request_id = request_id
        self._dropped = request_id is None

    def write(self, data: bytes) -> int:
        if not self._dropped and b'"result"' in data:
            body = data.split(b"\r\n\r\n", 1)[-1]
            try:
                message = json.loads(body)
            except (ValueError, RecursionError):
                message = None
            if isinstance(message, dict) and "result" in message and message.get("id") == self._request_id:
                self._dropped = True
                return len(data)
        return self._stream.write(data)

    def flush(self) -> None:
        self._stream.flush()

    def close(self) -> None:
        self._stream.close()


class _EarlyDiagnostics:
    """Diagnostics of documents opened before pygls is ready, published as plain JSON."""

    def __init__(self, params: Dict[str, Any], out: BinaryIO) -> None:
        from server.settings import parse_settings

        self.out = out
        self.encoding = position_encoding(params)
        self.settings, _warnings = parse_settings(params.get("initializationOptions"))
        roots = [
            folder.get("uri") for folder in params.get("workspaceFolders") or () if isinstance(folder, dict)
        ]
        roots.append(params.get("rootUri"))
        self.roots = [Path(p) for p in (_fs_path(uri) for uri in roots if isinstance(uri, str)) if p]
        if isinstance(params.get("rootPath"), str):
            self.roots.append(Path(params["rootPath"]))
        # URIs a message was read for: only a URI's first didOpen is published early (see did_open).
        self.seen: set = set()

    def saw(self, params: Any) -> None:
        """Note the document a didChange / didClose (or any message naming one) was about."""
        document = params.get("textDocument") if isinstance(params, dict) else None
        if isinstance(document, dict) and isinstance(document.get("uri"), str):
            self.seen.add(document["uri"])

    def did_open(self, params: Dict[str, Any]) -> None:
        """Analyse and publish one opened document (errors: left to pygls, which publishes next)."""
        document = params.get("textDocument") or {}
        uri, text, version = document.get("uri"), document.get("text"), document.get("version")
        if document.get("languageId") != "python" or not isinstance(uri, str) or not isinstance(text, str):
            return
        if uri in self.seen:
            # Opened again after a close read here (or changed before it was opened): pygls publishes
            # it in order. Published now, its diagnostics would reach the client before the `[]` pygls
            # sends for the close it has not handled yet, and that `[]` would then hide them.
            return
        self.seen.add(uri)
        path = _fs_path(uri)
        enabled = self.settings.diagnostics.enabled_codes()
        if path is None or len(text) > MAX_TEXT or not enabled:
            return
        interval = sys.getswitchinterval()
        try:
            diagnostics = self._diagnostics(Path(path), text, enabled)
        finally:
            sys.setswitchinterval(interval)
        write_message(
            self.out,
            {
                "jsonrpc": "2.0",
                "method": "textDocument/publishDiagnostics",
                "params": {"uri": uri, "version": version, "diagnostics": diagnostics},
            },
        )
        _PUBLISHED.add((uri, version))

    def _diagnostics(self, path: Path, text: str, enabled: Any) -> List[Dict[str, Any]]:
        from fglocal.safe_read import READ_TIMEOUT, call_bounded
        from server.analysis import diagnostics
        from server.analysis.text import split_lines
        from server.project import find_project

        # Bounded, as every read of the folder: on a stuck file system pygls publishes later instead.
        # The read runs on another thread while the import thread wants the interpreter lock too: a
        # short switch interval meanwhile, so that neither the read nor this thread after it waits
        # long for the import to let go of the lock.
        sys.setswitchinterval(_HANDOFF_SECONDS)
        project = call_bounded(find_project, READ_TIMEOUT, path, self.roots, self.settings)
        sys.setswitchinterval(1.0)  # then keep the lock: the import thread waits during the analysis
        module = project.module_context(path)
        findings = diagnostics.analyze(text, module, enabled)
        lines = split_lines(text)
        findings += project.module_entry_findings(module, lines[0] if lines else "", enabled)
        findings += project.unplaced_config_findings(lines[0] if lines else "", enabled)
        return [diagnostic_json(lines, finding, self.encoding) for finding in findings]


def diagnostic_json(lines: List[str], finding: Any, encoding: str) -> Dict[str, Any]:
    """A finding as the LSP diagnostic :func:`server.lsp_convert.to_diagnostic` sends (tests keep them equal)."""
    from server.analysis.model import ERROR, HINT, INFORMATION, WARNING

    severity = {ERROR: 1, WARNING: 2, INFORMATION: 3, HINT: 4}.get(finding.severity, 1)
    diagnostic: Dict[str, Any] = {
        "range": range_json(lines, finding.span, encoding),
        "message": finding.message,
        "severity": severity,
        "code": finding.code,
        "source": "functiongraph",
    }
    if finding.deprecated:
        diagnostic["tags"] = [2]
    if finding.fixes:
        diagnostic["data"] = {
            "fixes": [
                {
                    "title": fix.title,
                    "preferred": fix.preferred,
                    "edits": [
                        {"range": range_json(lines, edit.span, encoding), "newText": edit.new_text}
                        for edit in fix.edits
                    ],
                }
                for fix in finding.fixes
            ]
        }
    return diagnostic


def range_json(lines: List[str], span: Any, encoding: str) -> Dict[str, Any]:
    """A span in characters as an LSP range in ``encoding`` units (as :func:`server.lsp_convert.to_range`)."""
    last = max(len(lines) - 1, 0)
    if span.line > last or not lines:
        return {
            "start": {"line": span.line, "character": span.col},
            "end": {"line": span.end_line, "character": span.end_col},
        }
    start_line, end_line = min(span.line, last), min(span.end_line, last)
    return {
        "start": {"line": start_line, "character": _units(lines[start_line], span.col, encoding)},
        "end": {"line": end_line, "character": _units(lines[end_line], span.end_col, encoding)},
    }


def _units(line: str, col: int, encoding: str) -> int:
    prefix = line[:col]
    if encoding == "utf-32" or prefix.isascii():
        return len(prefix)
    if encoding == "utf-8":
        return len(prefix.encode("utf-8"))
    return len(prefix.encode("utf-16-le")) // 2


def published_early(uri: str, version: Optional[int]) -> bool:
    """Whether this opened document's diagnostics were published already (once: then forgotten)."""
    if (uri, version) in _PUBLISHED:
        _PUBLISHED.discard((uri, version))
        return True
    return False


def _fs_path(uri: str) -> Optional[str]:
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None
    return unquote(parsed.path) or None


def _import_server(done: threading.Event, failure: List[BaseException]) -> None:
    try:
        import server.server  # noqa: F401  (the import is the point)
    except BaseException as error:  # reported by the main thread
        failure.append(error)
    finally:
        done.set()


def main(argv: Optional[List[str]] = None) -> None:
    """Run the server over stdio, answering first what needs no pygls (``argv`` is not used)."""
    # The analysis first (~0.1 s, no lsprotocol): a didOpen right after initialize is then analysed at
    # once, instead of waiting for modules the import thread is busy with.
    import server.analysis.diagnostics
    import server.project
    import server.settings  # noqa: F401

    done = threading.Event()
    failure: List[BaseException] = []
    threading.Thread(target=_import_server, args=(done, failure), name="fg-import", daemon=True).start()
    stdin_fd = sys.stdin.fileno()
    out = sys.stdout.buffer
    consumed = bytearray()
    first = read_message(stdin_fd, consumed)
    init_id: Any = None
    early: Optional[_EarlyDiagnostics] = None
    params = first.body.get("params") if first is not None else None
    if first is not None and first.body.get("method") == "initialize" and _answerable(first.body, params):
        assert isinstance(params, dict)
        init_id = first.body["id"]
        write_message(out, {"jsonrpc": "2.0", "id": init_id, "result": initialize_result(params)})
        early = _EarlyDiagnostics(params, out)
        while not done.is_set():
            if not select.select([stdin_fd], [], [], _POLL_SECONDS)[0]:
                continue
            message = read_message(stdin_fd, consumed)
            if message is None:
                break  # end of input or a frame for server.transport to judge
            if message.body.get("method") == "textDocument/didOpen":
                try:
                    early.did_open(message.body.get("params") or {})
                except Exception:
                    pass  # pygls analyses it again and reports any error to the client's log
            else:
                early.saw(message.body.get("params"))
    done.wait()
    if failure:
        raise failure[0]
    from server.server import run_stdio

    run_stdio(bytes(consumed), cast(BinaryIO, _DropResponse(out, init_id)))


def _answerable(message: Dict[str, Any], params: Any) -> bool:
    """An initialize request as clients send it (anything else is left to the full server to judge)."""
    if not isinstance(message.get("id"), (int, str)) or isinstance(message.get("id"), bool):
        return False
    return (
        isinstance(params, dict)
        and isinstance(params.get("capabilities"), dict)
        and "processId" in params
        and (params["processId"] is None or isinstance(params["processId"], int))
    )


__all__ = [
    "diagnostic_json",
    "initialize_result",
    "main",
    "position_encoding",
    "published_early",
    "read_message",
]
