"""Human-readable display of an invocation result, as the console's test panel shows it."""

from __future__ import annotations

import json
import os

from fglocal.result import JSON_CONTENT_TYPE, LOG_DISPLAY_BYTES

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing slows every cold start
if TYPE_CHECKING:
    from typing import IO, Any

    from fglocal.result import InvocationResult


class Style:
    """ANSI styling, switched off when not on a terminal or when NO_COLOR is set."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    @classmethod
    def for_stream(cls, stream: IO[str]) -> Style:
        """Colour when ``stream`` is a terminal and the user did not ask for none (NO_COLOR)."""
        isatty = getattr(stream, "isatty", None)
        return cls(
            bool(isatty and isatty()) and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"
        )

    def _wrap(self, code: str, text: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.enabled else text

    def heading(self, text: str) -> str:
        """Bold cyan."""
        return self._wrap("1;36", text)

    def error(self, text: str) -> str:
        """Bold red."""
        return self._wrap("1;31", text)

    def dim(self, text: str) -> str:
        """Faint."""
        return self._wrap("2", text)


def encodable(text: str, stream: Any) -> str:
    """``text`` as ``stream`` can write it: what its encoding cannot show (lone surrogates too) backslash-escaped.

    What a function returns or logs may hold anything (a lone surrogate from a bad decode, text an
    ASCII or Latin-1 terminal cannot show: ``LANG=C``, ``PYTHONIOENCODING=ascii``); the display
    must never fail on it.
    """
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        text.encode(encoding)
        return text
    except UnicodeEncodeError:
        return text.encode(encoding, "backslashreplace").decode(encoding, "replace")
    except LookupError:  # an encoding Python does not know: ASCII is safe everywhere
        return text.encode("ascii", "backslashreplace").decode("ascii")


def _pretty_body(result: InvocationResult) -> str:
    if result.error is not None:
        return json.dumps(result.error, indent=2, ensure_ascii=False)
    if result.content_type == JSON_CONTENT_TYPE:
        try:
            return json.dumps(json.loads(result.body), indent=2, ensure_ascii=False)
        except ValueError:
            return result.body
    return result.body if result.body else "(empty body)"


def summary_rows(summary: dict) -> list:
    """The console's summary rows: label and formatted value."""
    return [
        ("Request ID", summary.get("requestId", "")),
        ("Memory Configured", "{} MB".format(summary.get("memorySizeMB", ""))),
        ("Execution Duration", "{:.3f} ms".format(summary.get("durationMs", 0.0))),
        ("Memory Used", "{:.3f} MB".format(summary.get("maxMemoryUsedMB", 0.0))),
        ("Billed Duration", "{} ms".format(summary.get("billedDurationMs", ""))),
    ]


def render(result: InvocationResult, stream: IO[str], style: Any = None) -> None:
    """Write the three parts of ``result``: function return, execution summary, logs."""
    style = style or Style.for_stream(stream)

    def write(text: str) -> None:
        stream.write(encodable(text, stream))

    title = "Function return" + (" (failed)" if result.error else "")
    if result.content_type:
        title += f"  Content-Type: {result.content_type}"
    write(style.heading(f"== {title} ==") + "\n")
    body = _pretty_body(result)
    write((style.error(body) if result.error else body) + "\n\n")
    write(style.heading("== Execution summary ==") + "\n")
    for label, value in summary_rows(result.summary):
        write("%-19s %s\n" % (label, value))
    if result.python:
        # Which interpreter ran it (the runtime's, or --any-python's stand-in).
        write("%-19s %s (%s)\n" % ("Python", result.python.get("version", ""), result.python.get("path", "")))
    for warning in result.warnings:
        write(style.error("warning: " + warning) + "\n")
    write("\n")
    notes = ["last %d bytes shown" % LOG_DISPLAY_BYTES] if result.logs_truncated else []
    if result.log_file:
        notes.append(f"full log: {result.log_file}")
    elif result.source == "cloud":
        notes.append("the platform returns the last 4 KB; the full log is in the function's LTS log stream")
    write(style.heading("== Logs ==") + (style.dim(" (%s)" % "; ".join(notes)) if notes else "") + "\n")
    if result.logs_truncated:
        write(style.dim("[... earlier output cut: the console shows at most 4 KB ...]") + "\n")
    write(result.logs)
    if result.logs and not result.logs.endswith("\n"):
        write("\n")
