"""The Context a handler receives, the instance environment and the credentials' handling."""

import json
import re

from runtime_support import function_dir, invoke_json

from fglocal.catalog import CONTEXT_METHODS
from fglocal.context import Context

BASIC = str(function_dir("basic"))


def values(*extra, env=None):
    results, proc = invoke_json("index.context_values", "--code-dir", BASIC, *extra, env=env)
    assert proc.returncode == 0, proc.stderr + json.dumps(results)
    return json.loads(results[0]["body"]), results[0]


def test_context_has_all_platform_methods():
    names = {m.name for m in CONTEXT_METHODS}
    assert names == {
        "getRequestID",
        "getRemainingTimeInMilliSeconds",
        "getAccessKey",
        "getSecretKey",
        "getSecurityAccessKey",
        "getSecuritySecretKey",
        "getSecurityToken",
        "getUserData",
        "getFunctionName",
        "getRunningTimeInSeconds",
        "getVersion",
        "getMemorySize",
        "getCPUNumber",
        "getPackage",
        "getToken",
        "getLogger",
        "getAlias",
        "getProjectID",
    }
    for method in CONTEXT_METHODS:
        assert len(method.doc) > 30, method.name
    deprecated = {m.name: m.deprecated_by for m in CONTEXT_METHODS if m.deprecated_by}
    assert deprecated == {"getAccessKey": "getSecurityAccessKey", "getSecretKey": "getSecuritySecretKey"}
    sensitive = {m.name for m in CONTEXT_METHODS if m.sensitive}
    assert {"getToken", "getSecurityToken", "getSecurityAccessKey", "getSecuritySecretKey"} <= sensitive


def test_defaults():
    body, result = values("--memory", "512", "--timeout", "10", "--user-data", "color=blue")
    assert body["requestId"] == result["requestId"]
    assert 0 < body["remaining"] <= 10000
    assert body["running"] == 10
    assert body["memory"] == 512
    assert body["cpu"] == 600  # 512 / 128 * 100 + 200
    assert body["name"] == "basic"
    assert body["version"] == "latest"
    assert body["alias"] == ""
    assert body["package"] == "default"
    assert body["userData"] == "blue"
    assert body["missing"] is None
    assert body["missingDefault"] == "fallback"
    assert body["ak"] == body["sk"] == body["securityToken"] == body["token"] == ""


def test_instance_environment_and_paths():
    body, _ = values("--user-data", "color=red")
    env = body["env"]
    assert env["RUNTIME_FUNC_NAME"] == "basic"
    assert env["RUNTIME_MEMORY"] == "128"
    assert env["RUNTIME_CPU"] == "300"
    assert env["RUNTIME_TIMEOUT"] == "3"
    assert env["RUNTIME_HANDLER"] == "index.context_values"
    assert env["RUNTIME_CODE_ROOT"] == BASIC
    assert json.loads(env["RUNTIME_USERDATA"]) == {"color": "red"}
    assert env["color"] == "red"
    assert body["cwd"] == BASIC
    assert body["path0"] == BASIC


def test_credentials_come_from_the_environment_and_never_leak():
    secret = "AKSECRET-0123456789"
    env = {
        "FGLOCAL_SECURITY_ACCESS_KEY": secret,
        "FGLOCAL_SECURITY_SECRET_KEY": "sk-x",
        "FGLOCAL_SECURITY_TOKEN": "st-x",
        "FGLOCAL_TOKEN": "tok-x",
    }
    body, result = values(env=env)
    assert (body["ak"], body["sk"], body["securityToken"], body["token"]) == (secret, "sk-x", "st-x", "tok-x")
    assert body["credentialEnv"] == []  # not visible in the function's os.environ
    assert secret not in result["logs"]
    assert secret not in json.dumps(body["env"])


def test_deprecated_methods_answer_and_warn_once_per_invocation():
    results, _proc = invoke_json(
        "index.deprecated_keys",
        "--code-dir",
        BASIC,
        env={"FGLOCAL_SECURITY_ACCESS_KEY": "ak1", "FGLOCAL_SECURITY_SECRET_KEY": "sk1"},
    )
    assert json.loads(results[0]["body"]) == ["ak1", "ak1", "sk1"]
    logs = results[0]["logs"]
    assert logs.count("getAccessKey() is deprecated") == 1
    assert logs.count("getSecretKey() is deprecated") == 1
    assert "getSecurityAccessKey()" in logs
    assert "ak1" not in logs


def test_request_ids_are_new_per_invocation():
    results, _ = invoke_json("index.context_values", "--code-dir", BASIC, "--repeat", "3")
    ids = {r["requestId"] for r in results}
    assert len(ids) == 3


def test_handler_runs_off_the_main_thread_like_the_platform():
    results, _ = invoke_json("index.asyncio_loop", "--code-dir", BASIC)
    assert results[0]["body"] == "own loop"


def test_logger_line_format_in_process():
    lines = []
    context = Context(request_id="rid-1", write_log=lines.append)
    context.getLogger().info("x=%s", 5)
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z rid-1 INFO x=5\n$", lines[0])


def test_credentials_repr_hides_values():
    from fglocal.context import Credentials

    assert "secret" not in repr(Credentials("secret", "secret"))
