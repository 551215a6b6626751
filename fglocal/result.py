"""The three-part result of an invocation and the platform's rules for building it.

``InvocationResult.to_json()`` is the ``fglocal invoke --json`` object: the one contract between the
runtime and its callers (CLI, debug adapter, extension, tests). Keep its keys stable.
"""

from __future__ import annotations

import os

# The return rules and the error object run inside the function's process (on every runtime): they
# are defined once in the instance package.
from fglocal._instance.fgruntime.result import (
    ENTRY_ERROR,
    INITIALIZATION_ERROR,
    INVOCATION_ERROR,
    JSON_CONTENT_TYPE,
    MAX_BODY_BYTES,
    RESULT_ERROR,
    encode_return_value,
    error_object,
)

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing slows every cold start
if TYPE_CHECKING:
    from typing import Any, Dict, List, Optional, Tuple

# The console shows the last 4 KB of an invocation's log.
LOG_DISPLAY_BYTES = 4096

__all__ = [
    "ENTRY_ERROR",
    "INITIALIZATION_ERROR",
    "INVOCATION_ERROR",
    "JSON_CONTENT_TYPE",
    "LOG_DISPLAY_BYTES",
    "MAX_BODY_BYTES",
    "RESULT_ERROR",
    "InvocationResult",
    "billed_duration_ms",
    "encode_return_value",
    "error_object",
    "make_summary",
    "read_fd_tail",
]


def billed_duration_ms(duration_ms: float) -> int:
    """The platform bills the execution duration rounded up to the next whole millisecond."""
    whole = int(duration_ms)
    return max(1, whole if duration_ms - whole < 1e-9 else whole + 1)


def make_summary(
    request_id: str, memory_size: int, duration_ms: float, memory_used_mb: float
) -> Dict[str, Any]:
    """The execution summary as the console shows it (3-decimal duration and memory)."""
    return {
        "requestId": request_id,
        "memorySizeMB": memory_size,
        "durationMs": round(duration_ms, 3),
        "maxMemoryUsedMB": round(memory_used_mb, 3),
        "billedDurationMs": billed_duration_ms(duration_ms),
    }


def read_fd_tail(fd: int, limit: int = LOG_DISPLAY_BYTES) -> Tuple[str, bool]:
    """The last ``limit`` bytes of the open log ``fd`` as text, and whether anything was cut."""
    try:
        size = os.fstat(fd).st_size
        data = os.pread(fd, limit, max(0, size - limit))
    except OSError:
        return "", False
    truncated = size > limit
    if truncated:
        # Do not start in the middle of a UTF-8 character.
        start = 0
        while start < len(data) and start < 4 and (data[start] & 0xC0) == 0x80:
            start += 1
        data = data[start:]
    return data.decode("utf-8", "replace"), truncated


# The error object's keys in the platform's order. The instance builds it in that order, but a Python
# 2.7 instance's dict has no order (its JSON comes in hash order): every result puts it back.
_ERROR_KEYS = ("errorMessage", "errorType", "stackTrace")


def _in_platform_order(error: Optional[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """``error`` with the platform's keys first, in its order (other keys, as a cloud error has, after)."""
    if not error:
        return error
    ordered = {key: error[key] for key in _ERROR_KEYS if key in error}
    ordered.update(error)
    return ordered


class InvocationResult:
    """What one invocation produced: function return, execution summary and logs."""

    __slots__ = (
        "body",
        "content_type",
        "error",
        "log_file",
        "logs",
        "logs_truncated",
        "python",
        "request_id",
        "source",
        "summary",
        "warnings",
    )

    def __init__(
        self,
        request_id: str,
        body: str = "",
        content_type: Optional[str] = None,
        error: Optional[Dict[str, Any]] = None,
        summary: Optional[Dict[str, Any]] = None,
        logs: str = "",
        logs_truncated: bool = False,
        log_file: str = "",
        python: Optional[Dict[str, str]] = None,
        warnings: Optional[List[str]] = None,
        source: str = "local",
    ) -> None:
        self.request_id = request_id
        self.body = body
        self.content_type = content_type
        self.error = _in_platform_order(error)
        self.summary = summary or {}
        self.logs = logs
        self.logs_truncated = logs_truncated
        self.log_file = log_file
        self.python = python  # {"version", "path"} of the interpreter that ran it
        self.warnings = list(warnings or [])
        self.source = source  # "local", or "cloud" for fglocal invoke --cloud

    @property
    def ok(self) -> bool:
        """True when the function returned normally."""
        return self.error is None

    def to_json(self) -> Dict[str, Any]:
        """The ``fglocal invoke --json`` object (a cloud run adds ``"source": "cloud"``)."""
        obj = {
            "requestId": self.request_id,
            "body": self.body,
            "contentType": self.content_type,
            "error": self.error,
            "summary": self.summary,
            "logs": self.logs,
            "logsTruncated": self.logs_truncated,
            "logFile": self.log_file,
            "python": self.python,
            "warnings": self.warnings,
        }
        if self.source != "local":
            obj["source"] = self.source
        return obj

    def __repr__(self) -> str:
        state = "ok" if self.ok else "error={}".format((self.error or {}).get("errorType"))
        return f"<InvocationResult {self.request_id} {state}>"
