"""The three-part result of an invocation and the platform's rules for building it.

``InvocationResult.to_json()`` is the ``fglocal invoke --json`` object: the one contract between the
runtime and its callers (CLI, debug adapter, extension, tests). Keep its keys stable.
"""

from __future__ import annotations

import json
import os

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing slows every cold start
if TYPE_CHECKING:
    from typing import Any, Dict, List, Optional, Tuple

# The console shows the last 4 KB of an invocation's log.
LOG_DISPLAY_BYTES = 4096
# Synchronous request and response bodies are limited to 6 MB each.
MAX_BODY_BYTES = 6 * 1024 * 1024
JSON_CONTENT_TYPE = "application/json"

# Prefixes of the platform's runtime error messages (see the reference page).
INVOCATION_ERROR = "function invocation exception, error: "
ENTRY_ERROR = "function entry exception, error: "
INITIALIZATION_ERROR = "function initialization exception, error: "
RESULT_ERROR = "function result is invalid, error: "


def error_object(message: str, error_type: str, stack_trace: Optional[List[str]] = None) -> Dict[str, Any]:
    """The platform's error object: ``{"errorMessage", "errorType", "stackTrace"}``."""
    return {"errorMessage": message, "errorType": error_type, "stackTrace": list(stack_trace or [])}


def encode_return_value(value: Any) -> Tuple[str, Optional[str], Optional[Dict[str, Any]]]:
    """Apply the platform's return rules: returns ``(body, content_type, error)``.

    None gives an empty body, a str the string itself, anything else its JSON encoding with
    ``Content-Type: application/json``. A value JSON cannot encode, or a body over 6 MB, gives an
    error object instead (``body`` is then "").
    """
    if value is None:
        body, content_type = "", None
    elif isinstance(value, str):
        body, content_type = value, None
    else:
        try:
            # allow_nan=False: NaN/Infinity are not JSON, and the platform's encoder refuses them too
            # (assumption: it uses a strict encoder, as its Go front end would reject them anyway).
            body, content_type = json.dumps(value, allow_nan=False), JSON_CONTENT_TYPE
        except (TypeError, ValueError, RecursionError) as exc:
            message = f"{RESULT_ERROR}failed to convert the result to a JSON string, err: {exc} (the handler returned a {type(value).__name__})"
            return "", None, error_object(message, type(exc).__name__)
    size = len(body.encode("utf-8", "surrogatepass"))
    if size > MAX_BODY_BYTES and content_type is not None:
        # The platform measures the UTF-8 JSON, not its \u escapes (never longer, so measured only here).
        size = len(json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass"))
    if size > MAX_BODY_BYTES:
        message = "%sthe response body is %d bytes, over the 6 MB (%d bytes) limit" % (
            RESULT_ERROR,
            size,
            MAX_BODY_BYTES,
        )
        return "", None, error_object(message, "ResponseTooLarge")
    return body, content_type, None


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


class InvocationResult:
    """What one invocation produced: function return, execution summary and logs."""

    __slots__ = (
        "body",
        "content_type",
        "error",
        "log_file",
        "logs",
        "logs_truncated",
        "request_id",
        "summary",
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
    ) -> None:
        self.request_id = request_id
        self.body = body
        self.content_type = content_type
        self.error = error
        self.summary = summary or {}
        self.logs = logs
        self.logs_truncated = logs_truncated
        self.log_file = log_file

    @property
    def ok(self) -> bool:
        """True when the function returned normally."""
        return self.error is None

    def to_json(self) -> Dict[str, Any]:
        """The ``fglocal invoke --json`` object."""
        return {
            "requestId": self.request_id,
            "body": self.body,
            "contentType": self.content_type,
            "error": self.error,
            "summary": self.summary,
            "logs": self.logs,
            "logsTruncated": self.logs_truncated,
            "logFile": self.log_file,
        }

    def __repr__(self) -> str:
        state = "ok" if self.ok else "error={}".format((self.error or {}).get("errorType"))
        return f"<InvocationResult {self.request_id} {state}>"
