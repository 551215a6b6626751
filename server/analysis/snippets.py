"""The FunctionGraph snippets, defined once: the server offers them (the extension ships none).

Top level (an empty file, or a word starting with ``fg`` at column 0): a handler, an initializer, an
APIG handler, named as the config names them. Inside a function (a word starting with ``fg``): an APIG
response, the logger and a user-data read, written with the function's own Context parameter name.
"""

from __future__ import annotations

import re
from typing import List, Sequence

from server.analysis.context_inference import CONTEXT, ScopeIndex
from server.analysis.model import CompletionData, Roles
from server.analysis.text import indentation, is_code_line, line_at

PREFIX = "fg"


def snippets_at(
    lines: Sequence[str], line: int, col: int, roles: Roles, index: ScopeIndex
) -> List[CompletionData]:
    """The snippets that fit at (line, col); empty when the cursor is not on a fresh word."""
    current = line_at(lines, line)
    prefix = current[:col]
    word = prefix.lstrip(" \t")
    if not re.fullmatch(r"[A-Za-z_-]*", word):
        return []
    if prefix == word:  # column 0: a new top-level definition
        empty_file = not any(is_code_line(text) for number, text in enumerate(lines) if number != line)
        return top_level(roles) if word.startswith(PREFIX) or (not word and empty_file) else []
    if not word.startswith(PREFIX):
        return []
    functions = index.enclosing(line)
    if not functions or indentation(prefix) <= functions[0].indent:
        return []
    names = [n for n, kind in index.bindings(functions[0]).items() if kind == CONTEXT]
    return in_function(names[0] if names else "context")


def top_level(roles: Roles) -> List[CompletionData]:
    """A handler, an initializer and an APIG handler, named as the config names them."""
    handler = roles.handler or "handler"
    initializer = roles.initializer or "initializer"
    return [
        _snippet(
            "fg-handler",
            "FunctionGraph handler",
            "def ${1:%s}(event, context):\n"
            '    """Handle one FunctionGraph event."""\n'
            "    logger = context.getLogger()\n"
            '    logger.info("request %%s", context.getRequestID())\n'
            '    ${0:return {"ok": True\\}}\n' % handler,
            "0",
        ),
        _snippet(
            "fg-initializer",
            "FunctionGraph initializer",
            "def ${1:%s}(context):\n"
            '    """Run once per instance, before its first event: open clients and connections here."""\n'
            "    ${0:pass}\n" % initializer,
            "1",
        ),
        _snippet(
            "fg-apig-handler",
            "FunctionGraph handler for an APIG trigger",
            "import base64\n"
            "import json\n\n\n"
            "def ${1:%s}(event, context):\n"
            '    """Answer an API Gateway (APIG) request."""\n'
            '    body = event.get("body") or ""\n'
            '    if event.get("isBase64Encoded"):\n'
            '        body = base64.b64decode(body).decode("utf-8")\n'
            '    result = {${2:"received": body}}\n'
            "    return {\n"
            '        "statusCode": ${3:200},\n'
            '        "headers": {"Content-Type": "application/json"},\n'
            '        "body": json.dumps(result),\n'
            '        "isBase64Encoded": False,\n'
            "    }\n" % handler,
            "2",
        ),
    ]


def in_function(context: str) -> List[CompletionData]:
    """An APIG response, the logger and a user-data read, with the Context called ``context``."""
    return [
        _snippet(
            "fg-apig-response",
            "An APIG trigger response: statusCode, headers, body, isBase64Encoded",
            "return {\n"
            '    "statusCode": ${1:200},\n'
            '    "headers": {"Content-Type": "${2:application/json}"},\n'
            '    "body": json.dumps(${3:{"message": "ok"\\}}),\n'
            '    "isBase64Encoded": False,\n'
            "}",
            "3",
        ),
        _snippet(
            "fg-logger",
            "Log through the FunctionGraph logger (time, request ID, level, message)",
            'logger = %s.getLogger()\nlogger.${1|info,warning,error,debug|}("${2:message}")' % context,
            "4",
        ),
        _snippet(
            "fg-userdata",
            "Read a user data value (an environment variable configured on the function)",
            '${1:value} = %s.getUserData("${2:KEY}", ${3:None})' % context,
            "5",
        ),
    ]


def _snippet(label: str, detail: str, body: str, order: str) -> CompletionData:
    shown = re.sub(r"\$\{\d+\|([^,|]*)[^}]*\|\}", r"\1", body)
    shown = re.sub(r"\$\{\d+:([^}]*)\}", r"\1", shown).replace("$0", "").replace("\\}", "}")
    return CompletionData(
        label=label,
        kind="snippet",
        detail=detail,
        documentation="```python\n%s\n```" % shown.rstrip("\n"),
        insert_text=body,
        is_snippet=True,
        sort_text="9" + order,
        filter_text=label,
    )
