"""Return-value rules, the error object and the execution summary, through the CLI and the API."""

import json
import re

import pytest
from runtime_support import function_dir, invoke_one

from fglocal import invoke
from fglocal.config import load_config

BASIC = str(function_dir("basic"))
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


MODE = "cli"


@pytest.fixture(autouse=True, params=["cli", "api"])
def _mode(request):
    """Every behaviour here is checked through the CLI and through the Python API."""
    global MODE
    MODE = request.param


def run(entry, event=None):
    return invoke_one(MODE, entry, BASIC, event)


def test_dict_return_is_json_with_content_type():
    result, proc = run("index.return_dict")
    assert proc.returncode == 0
    assert result["error"] is None
    assert result["contentType"] == "application/json"
    assert json.loads(result["body"]) == {"ok": True, "n": 1}


def test_str_return_is_the_body():
    result, _ = run("index.return_str")
    assert result["body"] == "plain text"
    assert result["contentType"] is None


def test_none_return_is_an_empty_body():
    result, proc = run("index.return_none")
    assert proc.returncode == 0
    assert result["body"] == ""
    assert result["error"] is None


@pytest.mark.parametrize(
    ("entry", "type_name"), [("index.return_bytes", "bytes"), ("index.return_set", "set")]
)
def test_unencodable_return_is_an_error_naming_the_type(entry, type_name):
    result, proc = run(entry)
    assert proc.returncode == 1
    assert result["body"] == ""
    message = result["error"]["errorMessage"]
    assert message.startswith(
        "function result is invalid, error: failed to convert the result to a JSON string"
    )
    assert type_name in message


def test_nan_is_not_json():
    result, _ = run("index.return_nan")
    assert "failed to convert the result to a JSON string" in result["error"]["errorMessage"]


def test_response_over_6_mb_is_refused():
    result, _ = run("index.return_huge")
    assert result["error"]["errorType"] == "ResponseTooLarge"


def test_exception_gives_platform_error_object_with_user_frames_only():
    result, proc = run("index.raise_error")
    assert proc.returncode == 1
    error = result["error"]
    assert set(error) == {"errorMessage", "errorType", "stackTrace"}
    assert error["errorMessage"] == "function invocation exception, error: boom from helper"
    assert error["errorType"] == "ValueError"
    trace = error["stackTrace"]
    assert trace[0] == 'File "./index.py", line 47, in raise_error'
    assert trace[1].strip() == 'helper.fail("boom from helper")'
    assert trace[2] == 'File "./helper.py", line 2, in fail'
    assert not any("fglocal" in line for line in trace)


def test_summary_has_the_console_fields():
    result, _ = run("index.return_dict")
    summary = result["summary"]
    assert set(summary) == {"requestId", "memorySizeMB", "durationMs", "maxMemoryUsedMB", "billedDurationMs"}
    assert summary["requestId"] == result["requestId"]
    assert UUID.match(result["requestId"])
    assert summary["memorySizeMB"] == 128
    assert summary["durationMs"] >= 0
    assert summary["billedDurationMs"] >= summary["durationMs"]
    assert summary["billedDurationMs"] - summary["durationMs"] < 1
    assert 1 < summary["maxMemoryUsedMB"] < 128


def test_json_contract_keys():
    result, _ = run("index.return_str")
    assert set(result) == {
        "requestId",
        "body",
        "contentType",
        "error",
        "summary",
        "logs",
        "logsTruncated",
        "logFile",
        "python",
        "warnings",
    }
    assert set(result["python"]) == {"version", "path"}
    assert result["warnings"] == []


def test_python_api_returns_the_same_result():
    config = load_config(BASIC).with_overrides(handler="index.echo")
    result = invoke(config, {"a": [1, 2]})
    assert result.ok
    assert json.loads(result.body) == {"a": [1, 2]}
    assert result.to_json()["summary"]["requestId"] == result.request_id


def test_any_json_value_is_an_event():
    config = load_config(BASIC).with_overrides(handler="index.echo")
    for event in ([1, "two"], "text", 3.5, None, True):
        result = invoke(config, event)
        assert result.ok, result.error
        assert (json.loads(result.body) if result.content_type else result.body) == (
            event if event is not None else ""
        )
