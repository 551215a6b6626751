"""Turn one ``fglocal --json`` result object into Debug Console output, as the console's test result."""

from __future__ import annotations

import json
from typing import Any, Dict, List, Mapping

RESULT_EVENT = "functiongraph/result"
_RULE = "─" * 12


def _section(title: str) -> str:
    return "%s %s %s\n" % (_RULE, title, _RULE)


def format_body(result: Mapping[str, Any]) -> str:
    """The function return as text: pretty JSON when it is JSON, the string otherwise."""
    body = result.get("body")
    if body is None or body == "":
        return "(empty response body)"
    if not isinstance(body, str):
        return json.dumps(body, indent=2, ensure_ascii=False)
    try:
        parsed = json.loads(body)
    except ValueError:
        return body
    if isinstance(parsed, (dict, list)) or result.get("contentType") == "application/json":
        return json.dumps(parsed, indent=2, ensure_ascii=False)
    return body


def format_summary(summary: Mapping[str, Any], python: Any = None) -> str:
    """The execution summary in the console's words, and the Python that ran it (as ``fglocal invoke``)."""
    rows = [
        ("Request ID", summary.get("requestId", "")),
        ("Memory Configured", "%s MB" % summary.get("memorySizeMB", "?")),
        ("Execution Duration", _number(summary.get("durationMs"), 3) + " ms"),
        ("Memory Used", _number(summary.get("maxMemoryUsedMB"), 3) + " MB"),
        ("Billed Duration", "%s ms" % summary.get("billedDurationMs", "?")),
    ]
    if isinstance(python, Mapping) and python.get("version"):
        rows.append(("Python", "%s (%s)" % (python.get("version"), python.get("path", ""))))
    width = max(len(name) for name, _ in rows)
    return "".join("%-*s  %s\n" % (width, name, value) for name, value in rows)


def _number(value: Any, decimals: int) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return "%.*f" % (decimals, value)
    return "?"


def output_events(result: Mapping[str, Any], label: str = "") -> List[Dict[str, Any]]:
    """DAP ``output`` event bodies for one invocation: return (or error), summary, logs."""
    events: List[Dict[str, Any]] = []

    def emit(category: str, text: str) -> None:
        if not text.endswith("\n"):
            text += "\n"
        events.append({"category": category, "output": text})

    heading = "Function return" + (" (%s)" % label if label else "")
    error = result.get("error")
    if error:
        emit("stderr", _section(heading + ": error") + json.dumps(error, indent=2, ensure_ascii=False))
    else:
        emit("console", _section(heading) + format_body(result))
    emit(
        "console",
        _section("Execution summary") + format_summary(result.get("summary") or {}, result.get("python")),
    )
    for warning in result.get("warnings") or []:
        emit("stderr", "warning: %s" % warning)
    logs = result.get("logs") or ""
    log_file = result.get("logFile")
    note = ""
    if result.get("logsTruncated"):
        note = "(last 4 KB shown; full log: %s)" % log_file
    elif log_file:
        note = "(full log: %s)" % log_file
    emit("console", _section("Logs") + (logs if logs.endswith("\n") or not logs else logs + "\n") + note)
    return events
