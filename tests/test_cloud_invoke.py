"""fglocal invoke --cloud end to end: the real command and SDK against the signature-checking test API."""

from __future__ import annotations

import json
from urllib.parse import unquote

from cloud_support import cloud_fixture, make_function  # noqa: F401

LOCAL_KEYS = {"requestId", "body", "contentType", "error", "summary", "logs", "logsTruncated", "logFile", "python", "warnings"}  # fmt: skip


def _deployed(cloud, tmp_path, **config):
    folder = make_function(
        tmp_path / "fn", {"functionName": "echo", "timeout": 5, "memorySize": 256, **config}
    )
    assert cloud.run("deploy", "--code-dir", str(folder)).returncode == 0
    return folder


def test_success_has_the_local_contract_plus_source(cloud, tmp_path):
    folder = _deployed(cloud, tmp_path)
    run = cloud.run("invoke", "--cloud", "--code-dir", str(folder), "--event-json", '{"a": 1}', "--json")
    assert run.returncode == 0, run
    obj = run.json()
    assert LOCAL_KEYS <= set(obj) and obj["source"] == "cloud"
    assert json.loads(obj["body"]) == {"a": 1} and obj["contentType"] == "application/json"
    assert obj["error"] is None
    summary = obj["summary"]
    assert summary == {
        "requestId": obj["requestId"],
        "memorySizeMB": 256,
        "durationMs": 12.5,
        "maxMemoryUsedMB": 30.5,
        "billedDurationMs": 13,
    }
    assert "hello from the cloud" in obj["logs"] and "Finish invoke request" in obj["logs"]
    (call,) = cloud.api.calls("POST", "/invocations")
    assert call.headers["x-cff-log-type"] == "tail" and call.headers["x-cff-request-version"] == "v1"
    assert call.json() == {"a": 1}
    assert unquote(call.path).endswith(cloud.api.urn("echo") + "/invocations")


def test_text_output_has_the_three_parts(cloud, tmp_path):
    folder = _deployed(cloud, tmp_path)
    run = cloud.run("invoke", "--cloud", "--code-dir", str(folder), "--event-json", '{"b": 2}')
    assert run.returncode == 0, run
    for part in (
        "Invoked in the cloud",
        "== Function return",
        "== Execution summary ==",
        "== Logs ==",
        "Billed Duration",
    ):
        assert part in run.stdout
    assert '"b": 2' in run.stdout


def test_summary_from_the_log_when_the_header_is_missing(cloud, tmp_path):
    folder = _deployed(cloud, tmp_path)
    cloud.api.invoke_outcome["echo"] = {"result": "plain text", "summary_header": False, "duration": 40.25}
    obj = cloud.run("invoke", "--cloud", "--code-dir", str(folder), "--json").json()
    assert obj["body"] == "plain text" and obj["contentType"] is None
    assert obj["summary"]["durationMs"] == 40.25 and obj["summary"]["billedDurationMs"] == 41
    assert obj["summary"]["maxMemoryUsedMB"] == 30.5 and obj["summary"]["memorySizeMB"] == 256


def test_function_error(cloud, tmp_path):
    folder = _deployed(cloud, tmp_path)
    error = {
        "errorMessage": "division by zero",
        "errorType": "ZeroDivisionError",
        "stackTrace": ["index.py:2"],
    }
    cloud.api.invoke_outcome["echo"] = {"error": error, "func_err_code": 1}
    run = cloud.run("invoke", "--cloud", "--code-dir", str(folder), "--json")
    assert run.returncode == 1, run
    obj = run.json()
    assert obj["error"] == error and obj["source"] == "cloud" and obj["body"] == ""
    text = cloud.run("invoke", "--cloud", "--code-dir", str(folder))
    assert text.returncode == 1 and "(failed)" in text.stdout and "ZeroDivisionError" in text.stdout


def test_timeout(cloud, tmp_path):
    folder = _deployed(cloud, tmp_path)
    error = {
        "errorMessage": "invocation timeout more than 5 seconds",
        "errorType": "FunctionTimeout",
        "stackTrace": [],
    }
    cloud.api.invoke_outcome["echo"] = {"error": error, "duration": 5000.0}
    obj = cloud.run("invoke", "--cloud", "--code-dir", str(folder), "--json").json()
    assert obj["error"]["errorType"] == "FunctionTimeout" and obj["summary"]["durationMs"] == 5000.0


def test_not_deployed_and_api_errors(cloud, tmp_path):
    folder = make_function(tmp_path / "fn", {"functionName": "nowhere"})
    run = cloud.run("invoke", "--cloud", "--code-dir", str(folder))
    assert run.returncode == 1 and "not deployed" in run.stderr and "fglocal deploy" in run.stderr
    folder = _deployed(cloud, tmp_path)
    cloud.api.fail_next("POST", "/invocations$", 503, "FSS.0503", "busy", times=4)
    run = cloud.run("invoke", "--cloud", "--code-dir", str(folder), "--json")
    assert run.returncode == 1 and run.json()["error"]["errorCode"] == "FSS.0503"
    assert len(cloud.api.calls("POST", "/invocations")) == 1  # a 5xx invocation is never retried


def test_an_invocation_answered_5xx_is_not_run_again(cloud, tmp_path):
    """The platform ran it and answered 502: a retry would run the function a second time."""
    folder = _deployed(cloud, tmp_path)
    cloud.api.fail_after_next("POST", "/invocations$", 502, "FSS.0502", "bad gateway")
    run = cloud.run("invoke", "--cloud", "--code-dir", str(folder), "--json")
    assert run.returncode == 1, run
    assert len(cloud.api.calls("POST", "/invocations")) == 1
    error = run.json()["error"]
    assert error["status"] == 502 and error["errorCode"] == "FSS.0502"
    assert "not retried: the function may or may not have run" in error["message"]
    assert error["requestId"].startswith("req-") and error["requestId"] in error["message"]
    assert "retries" not in error["message"] and "check before running it again" in error["hint"]
    cloud.api.fail_after_next("POST", "/invocations$", 500, "FSS.0500")
    text = cloud.run("invoke", "--cloud", "--code-dir", str(folder), "--repeat", "3")
    assert text.returncode == 1 and "the function may or may not have run" in text.stderr
    assert len(cloud.api.calls("POST", "/invocations")) == 2  # --repeat stops at the first


def test_a_throttled_invocation_is_retried(cloud, tmp_path):
    """A 429 was not executed: it is retried, and the function runs once."""
    folder = _deployed(cloud, tmp_path)
    cloud.api.fail_next("POST", "/invocations$", 429, "FSS.0429", "too many requests", times=2)
    run = cloud.run("invoke", "--cloud", "--code-dir", str(folder), "--event-json", '{"x": 1}', "--json")
    assert run.returncode == 0, run
    assert json.loads(run.json()["body"]) == {"x": 1}
    assert len(cloud.api.calls("POST", "/invocations")) == 3
    cloud.api.fail_next("POST", "/invocations$", 429, "FSS.0429", "too many requests", times=4)
    run = cloud.run("invoke", "--cloud", "--code-dir", str(folder), "--json")
    assert run.returncode == 1 and "(after 3 retries)" in run.json()["error"]["message"]
    assert "throttling" in run.json()["error"]["hint"]


def test_event_from_stdin_and_file(cloud, tmp_path):
    folder = _deployed(cloud, tmp_path)
    event = tmp_path / "e.json"
    event.write_text('{"from": "file"}')
    run = cloud.run("invoke", "--cloud", "--code-dir", str(folder), "--event", str(event), "--json")
    assert json.loads(run.json()["body"]) == {"from": "file"}
    run = cloud.run("invoke", "-", "--cloud", "--code-dir", str(folder), "--json", stdin='{"from": "stdin"}')
    assert json.loads(run.json()["body"]) == {"from": "stdin"}


def test_an_invocation_whose_answer_is_lost_says_it_may_have_run(cloud, tmp_path):
    """The connection drops after the request arrived: not retried, and the error says so."""
    folder = _deployed(cloud, tmp_path)
    reached, release = cloud.api.stall_next("POST", "/invocations$")
    try:
        proc = cloud.start("invoke", "--cloud", "--code-dir", str(folder), "--json")
        assert reached.wait(60)
    finally:
        release.set()  # the server drops it: never answered
    run = cloud.finish(proc)
    assert run.returncode == 1, run
    error = run.json()["error"]
    assert "cannot reach FunctionGraph" in error["message"]
    assert "the function may or may not have run" in error["message"]
    assert "check before running it again" in error["hint"]
    assert cloud.api.calls("POST", "/invocations") == []  # the dropped one is not recorded: no second try
