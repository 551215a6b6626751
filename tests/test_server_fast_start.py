"""The fast start (server/fast_start.py): the same answers as pygls, before pygls is imported.

Real processes over stdio: ``python -m server`` (fast start) against ``FGLS_NO_FAST_START=1`` (pygls
from the first message); and the early diagnostics' JSON against lsp_convert's for the same findings.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
from lsprotocol import types
from pygls.protocol import default_converter
from pygls.workspace import TextDocument
from pytest_lsp import client_capabilities

from server.analysis import diagnostics
from server.analysis.model import ModuleContext, Roles
from server.analysis.text import split_lines
from server.capabilities import CAPABILITIES
from server.capabilities_gen import computed
from server.fast_start import diagnostic_json
from server.lsp_convert import to_diagnostic

REPO = Path(__file__).resolve().parents[1]
TIMEOUT = 60  # a safety net against a hung server, not a timing assertion


def test_generated_capabilities_are_up_to_date():
    assert CAPABILITIES == computed(), "run: python -m server.capabilities_gen"


class Session:
    """A server process and a plain JSON-RPC client over its stdio."""

    def __init__(self, fast: bool, cwd: Path) -> None:
        env = dict(os.environ)
        env.pop("FGLS_NO_FAST_START", None)
        if not fast:
            env["FGLS_NO_FAST_START"] = "1"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "server"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=str(REPO),
            env=env,
        )
        self.cwd = cwd

    def send(self, message: Dict[str, Any]) -> None:
        body = json.dumps(message).encode()
        assert self.process.stdin is not None
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.process.stdin.flush()

    def receive(self) -> Dict[str, Any]:
        stream = self.process.stdout
        assert stream is not None
        length = 0
        while True:
            line = stream.readline()
            assert line, "the server closed its output: %s" % self.process.stderr.read().decode()  # type: ignore[union-attr]
            if line in (b"\r\n", b"\n"):
                break
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        return json.loads(stream.read(length))

    def until(self, predicate) -> List[Dict[str, Any]]:
        seen = []
        while True:
            message = self.receive()
            seen.append(message)
            if predicate(message):
                return seen

    def close(self) -> None:
        self.send({"jsonrpc": "2.0", "id": 999, "method": "shutdown"})
        self.until(lambda m: m.get("id") == 999)
        self.send({"jsonrpc": "2.0", "method": "exit"})
        self.process.wait(TIMEOUT)


def initialize_params(root: Path, capabilities: Any) -> Dict[str, Any]:
    return {
        "processId": os.getpid(),
        "rootUri": root.as_uri(),
        "workspaceFolders": [{"uri": root.as_uri(), "name": "ws"}],
        "capabilities": capabilities,
        "initializationOptions": {"runtime": "python3.9"},
    }


VSCODE = default_converter().unstructure(client_capabilities("visual-studio-code"))
UTF8 = {"general": {"positionEncodings": ["utf-8", "utf-16"]}}


@pytest.mark.parametrize("capabilities", [VSCODE, UTF8, {}], ids=["vscode", "utf-8-first", "none"])
def test_initialize_answer_is_pygls_answer(tmp_path: Path, capabilities: Any):
    answers = []
    for fast in (True, False):
        session = Session(fast, tmp_path)
        try:
            session.send(
                {
                    "jsonrpc": "2.0",
                    "id": 1,
                    "method": "initialize",
                    "params": initialize_params(tmp_path, capabilities),
                }
            )
            answers.append(session.receive())
            session.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
        finally:
            session.close()
    assert answers[0] == answers[1]
    assert answers[0]["result"]["capabilities"]["completionProvider"]["triggerCharacters"] == [".", '"', "'"]


TEXT = "# 注释 — comment\ndef handler(event, context):\n    return context.getRequestId()\n"


def test_requests_right_after_initialize_are_all_answered_once(tmp_path: Path):
    (tmp_path / "fglocal.json").write_text('{"handler": "index.handler"}')
    uri = (tmp_path / "index.py").as_uri()
    session = Session(True, tmp_path)
    try:
        session.send(
            {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": initialize_params(tmp_path, VSCODE)}
        )
        session.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
        session.send(
            {
                "jsonrpc": "2.0",
                "method": "textDocument/didOpen",
                "params": {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": TEXT}},
            }
        )
        position = {"line": 2, "character": len("    return context.")}
        session.send(
            {
                "jsonrpc": "2.0",
                "id": 2,
                "method": "textDocument/completion",
                "params": {"textDocument": {"uri": uri}, "position": position},
            }
        )
        seen = session.until(lambda m: m.get("id") == 2)
    finally:
        session.close()
    answers = [m.get("id") for m in seen if "id" in m and "method" not in m]  # not the server's requests
    assert answers == [1, 2]  # one initialize answer, then the completion
    labels = [item["label"] for item in seen[-1]["result"]["items"]]
    assert "getRequestID" in labels
    published = [
        m["params"]
        for m in seen
        if m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] == uri
    ]
    assert published, "no diagnostics before the completion answer"
    for params in published:  # early (fast start) and pygls' own, when both came: the same
        assert params["version"] == 1
        assert [d["code"] for d in params["diagnostics"]] == ["unknown-method"]
    assert all(p["diagnostics"] == published[0]["diagnostics"] for p in published)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8", "utf-32"])
def test_early_diagnostics_are_lsp_convert_diagnostics(encoding: str):
    module = ModuleContext(
        roles=Roles(handler="handler"),
        module_name="index",
        entry_roles=("handler",),
        required_roles=("handler",),
    )
    text = "# 注释\ndef handler(event):\n    return 1\ndef h(event, context):\n    return '😀' + context.getRequestId()\n"
    findings = diagnostics.analyze(text, module)
    assert {f.code for f in findings} >= {"handler-signature", "unknown-method"}
    kind = {
        "utf-16": types.PositionEncodingKind.Utf16,
        "utf-8": types.PositionEncodingKind.Utf8,
        "utf-32": types.PositionEncodingKind.Utf32,
    }
    document = TextDocument("file:///ws/index.py", source=text, position_codec=_codec(kind[encoding]))
    converter = default_converter()
    lines = split_lines(text)
    for finding in findings:
        expected = converter.unstructure(to_diagnostic(document, finding))
        expected = {k: v for k, v in expected.items() if v is not None}
        assert diagnostic_json(lines, finding, encoding) == expected


def _codec(kind: Optional[types.PositionEncodingKind]):
    from pygls.workspace.position_codec import PositionCodec

    return PositionCodec(encoding=kind)
