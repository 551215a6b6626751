"""The human display of a result: three parts, colour only on terminals."""

import io

from fglocal.render import Style, render
from fglocal.result import InvocationResult, make_summary


def _result(**kwargs):
    summary = make_summary("rid", 128, 4.5251, 31.7664)
    return InvocationResult(request_id="rid", summary=summary, log_file="/tmp/x.log", **kwargs)


def test_summary_values_formatted_as_the_console():
    out = io.StringIO()
    render(_result(body='{"a": 1}', content_type="application/json", logs="hello\n"), out, Style(False))
    text = out.getvalue()
    assert '"a": 1' in text
    assert "Execution Duration  4.525 ms" in text
    assert "Memory Used         31.766 MB" in text
    assert "Billed Duration     5 ms" in text
    assert "full log: /tmp/x.log" in text
    assert text.rstrip().endswith("hello")


def test_colour_on_terminals_and_error_in_red():
    out = io.StringIO()
    error = {
        "errorMessage": "function invocation exception, error: x",
        "errorType": "ValueError",
        "stackTrace": [],
    }
    render(_result(error=error), out, Style(True))
    text = out.getvalue()
    assert "\033[1;31m" in text  # the error object in red
    assert "\033[1;36m== Execution summary ==" in text


def test_style_follows_no_color(monkeypatch):
    class Tty(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert Style.for_stream(Tty()).enabled
    monkeypatch.setenv("NO_COLOR", "1")
    assert not Style.for_stream(Tty()).enabled
