"""Credentials, region and endpoint resolution and error mapping of the cloud commands (real SDK, test API)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from fg_api_server import AK, PROJECT, SK, TOKEN, APIServer, FunctionGraphAPI
from huaweicloudsdkfunctiongraph.v2 import ListFunctionsRequest

from fglocal.cloud.session import CloudError, connect, resolve_region
from fglocal.config import FunctionConfig

ROOT = Path(__file__).resolve().parent.parent
SDK_ENV = (
    "HUAWEICLOUD_SDK_AK",
    "HUAWEICLOUD_SDK_SK",
    "HUAWEICLOUD_SDK_SECURITY_TOKEN",
    "HUAWEICLOUD_SDK_PROJECT_ID",
    "HUAWEICLOUD_SDK_REGION",
    "HUAWEICLOUD_SDK_CREDENTIALS_FILE",
)


@pytest.fixture
def server(monkeypatch, tmp_path):
    for name in SDK_ENV:
        monkeypatch.delenv(name, raising=False)
    # No credentials file of the user's: HOME is an empty folder.
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setenv("FGLOCAL_CLOUD_RETRY_BASE_MS", "1")
    with APIServer() as srv:
        monkeypatch.setenv("FGLOCAL_FUNCTIONGRAPH_ENDPOINT", srv.endpoint)
        yield srv


def _env_credentials(monkeypatch, sk=SK):
    monkeypatch.setenv("HUAWEICLOUD_SDK_AK", AK)
    monkeypatch.setenv("HUAWEICLOUD_SDK_SK", sk)
    monkeypatch.setenv("HUAWEICLOUD_SDK_PROJECT_ID", PROJECT)


def _list(cloud):
    return cloud.call("list_functions", ListFunctionsRequest(), "listing the functions")


def test_env_credentials_sign_requests_the_server_accepts(server, monkeypatch, tmp_path):
    _env_credentials(monkeypatch)
    assert _list(connect(FunctionConfig(tmp_path))).count == 0
    request = server.api.requests[-1]
    assert request.headers["authorization"].startswith("SDK-HMAC-SHA256 Access=" + AK)
    assert request.headers["x-project-id"] == PROJECT


def test_security_token_is_sent(monkeypatch, tmp_path):
    for name in SDK_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    with APIServer(FunctionGraphAPI(token=TOKEN)) as srv:
        monkeypatch.setenv("FGLOCAL_FUNCTIONGRAPH_ENDPOINT", srv.endpoint)
        _env_credentials(monkeypatch)
        with pytest.raises(CloudError) as caught:
            _list(connect(FunctionConfig(tmp_path)))
        assert caught.value.status == 401
        monkeypatch.setenv("HUAWEICLOUD_SDK_SECURITY_TOKEN", TOKEN)
        assert _list(connect(FunctionConfig(tmp_path))).count == 0
        assert srv.api.requests[-1].headers["x-security-token"] == TOKEN


def test_credentials_file(server, monkeypatch, tmp_path):
    credentials = tmp_path / "creds"
    credentials.write_text(f"[basic]\nak = {AK}\nsk = {SK}\nproject_id = {PROJECT}\n")
    monkeypatch.setenv("HUAWEICLOUD_SDK_CREDENTIALS_FILE", str(credentials))
    assert _list(connect(FunctionConfig(tmp_path))).count == 0


def test_default_credentials_file_in_home(server, tmp_path):
    folder = tmp_path / ".huaweicloud"
    folder.mkdir()
    (folder / "credentials").write_text(f"[basic]\nak = {AK}\nsk = {SK}\n")
    # The project ID may come from fglocal.json instead.
    assert _list(connect(FunctionConfig(tmp_path, project_id=PROJECT))).count == 0


def test_no_credentials_says_what_to_set(server, tmp_path):
    with pytest.raises(CloudError) as caught:
        connect(FunctionConfig(tmp_path))
    assert "HUAWEICLOUD_SDK_AK" in caught.value.hint
    assert server.api.requests == []


def test_no_project_id_says_what_to_set(server, monkeypatch, tmp_path):
    _env_credentials(monkeypatch)
    monkeypatch.delenv("HUAWEICLOUD_SDK_PROJECT_ID")
    with pytest.raises(CloudError) as caught:
        connect(FunctionConfig(tmp_path))
    assert "HUAWEICLOUD_SDK_PROJECT_ID" in caught.value.hint


def test_region_order(monkeypatch, tmp_path):
    monkeypatch.setenv("HUAWEICLOUD_SDK_REGION", "env-region")
    assert resolve_region("cli-region", FunctionConfig(tmp_path, region="file-region")) == "cli-region"
    assert resolve_region(None, FunctionConfig(tmp_path, region="file-region")) == "file-region"
    assert resolve_region(None, FunctionConfig(tmp_path)) == "env-region"


def test_region_endpoint_without_override(monkeypatch, tmp_path):
    _env_credentials(monkeypatch)
    monkeypatch.delenv("FGLOCAL_FUNCTIONGRAPH_ENDPOINT", raising=False)
    cloud = connect(FunctionConfig(tmp_path, region="cn-north-4"))
    assert cloud.region == "cn-north-4"
    with pytest.raises(CloudError, match="unknown region"):
        connect(FunctionConfig(tmp_path, region="nowhere-9"))
    with pytest.raises(CloudError, match="no region"):
        connect(FunctionConfig(tmp_path))


@pytest.mark.parametrize(
    ("status", "code", "hint"),
    [
        (401, "APIGW.0301", "credentials"),
        (403, "FSS.0403", "permission"),
        (404, "FSS.1051", "function name"),
        (429, "FSS.0429", "throttling"),
        (500, "FSS.0500", "server error"),
        (503, "FSS.0503", "server error"),
    ],
)
def test_error_classes(server, monkeypatch, tmp_path, status, code, hint):
    _env_credentials(monkeypatch)
    server.api.fail_next("GET", "functions$", status, code, "the platform says no", times=10)
    with pytest.raises(CloudError) as caught:
        _list(connect(FunctionConfig(tmp_path)))
    error = caught.value
    assert (error.status, error.error_code) == (status, code)
    assert error.request_id.startswith("req-")
    assert error.request_id in str(error) and code in str(error) and "the platform says no" in str(error)
    assert hint in error.hint
    retried = status == 429 or status >= 500
    assert len(server.api.requests) == (4 if retried else 1)


def test_retry_then_success(server, monkeypatch, tmp_path):
    _env_credentials(monkeypatch)
    server.api.fail_next("GET", "functions$", 429, "FSS.0429", times=2)
    assert _list(connect(FunctionConfig(tmp_path))).count == 0
    assert len(server.api.requests) == 3


def test_wrong_secret_key_is_refused_and_never_shown(server, monkeypatch, tmp_path):
    _env_credentials(monkeypatch, sk="not-the-secret-key-XYZ")
    with pytest.raises(CloudError) as caught:
        _list(connect(FunctionConfig(tmp_path)))
    assert caught.value.status == 401
    assert "not-the-secret-key-XYZ" not in str(caught.value) + caught.value.hint


def test_local_invoke_does_not_import_the_sdk():
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "fglocal", "invoke", "--code-dir", "examples/hello",
         "--event", "examples/hello/events/hello.json"],
        cwd=ROOT, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "fglocal.cli" in proc.stderr
    assert "huaweicloudsdk" not in proc.stderr and "fglocal.cloud" not in proc.stderr


def test_unreachable_endpoint_is_said_without_the_sdk_log(monkeypatch, tmp_path):
    import socket

    from cloud_support import ROOT as root

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUAWEICLOUD_", "FGLOCAL_"))}
    env.update(
        HOME=str(tmp_path), PYTHONPATH=str(root), NO_PROXY="127.0.0.1", HUAWEICLOUD_SDK_AK=AK,
        HUAWEICLOUD_SDK_SK=SK, HUAWEICLOUD_SDK_PROJECT_ID=PROJECT,
        FGLOCAL_FUNCTIONGRAPH_ENDPOINT=f"http://127.0.0.1:{port}",
    )  # fmt: skip
    (tmp_path / "index.py").write_text("def handler(event, context):\n    return 1\n")
    proc = subprocess.run(
        [sys.executable, "-m", "fglocal", "deploy", "--code-dir", str(tmp_path)],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 1
    assert "cannot reach FunctionGraph" in proc.stderr and "FGLOCAL_FUNCTIONGRAPH_ENDPOINT" in proc.stderr
    assert "ConnectionException occurred" not in proc.stderr  # the SDK's own log stays quiet
    assert SK not in proc.stderr + proc.stdout


def _without_sdk(command, pythonpath, tmp_path):
    """`python -S`: no site-packages, so the SDK cannot be imported; the command's result."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUAWEICLOUD_", "FGLOCAL_", "PYTHON"))}
    env.update(HOME=str(tmp_path), PYTHONPATH=os.pathsep.join(map(str, pythonpath)))
    function = tmp_path / "fn"
    function.mkdir(exist_ok=True)
    (function / "index.py").write_text("def handler(event, context):\n    return 1\n")
    (function / "fglocal.json").write_text('{"functionName": "f", "region": "cn-north-4"}')
    return subprocess.run(
        [sys.executable, "-S", "-m", "fglocal", *command, "--code-dir", str(function), "--json"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def _bundle(tmp_path):
    """The extension's layout: bundled/tool/fglocal and bundled/libs (here damaged: without the SDK)."""
    import shutil

    bundle = tmp_path / "ext" / "bundled"
    shutil.copytree(
        ROOT / "fglocal", bundle / "tool" / "fglocal", ignore=shutil.ignore_patterns("__pycache__")
    )
    (bundle / "libs").mkdir()
    return bundle


@pytest.mark.parametrize("command", [["deploy"], ["invoke", "--cloud"], ["events", "pull"]])
def test_sdk_missing_on_the_command_line_says_pip_install(command, tmp_path):
    done = _without_sdk(command, [ROOT], tmp_path)
    assert done.returncode == 1, done
    error = __import__("json").loads(done.stdout)["error"]
    assert "no module huaweicloudsdk" in error["message"]
    assert error["hint"].startswith("pip install 'functiongraph-devkit[cloud]'")
    assert "pip install 'functiongraph-devkit[cloud]'" in done.stderr and "extension" not in done.stderr


@pytest.mark.parametrize("command", [["deploy"], ["invoke", "--cloud"], ["events", "push"]])
def test_sdk_missing_in_the_extension_says_reinstall_it(command, tmp_path):
    bundle = _bundle(tmp_path)
    # What the extension gives the tool (vscode-extension/src/bundle.ts): tool and libs on PYTHONPATH.
    done = _without_sdk(command, [bundle / "tool", bundle / "libs"], tmp_path)
    assert done.returncode == 1, done
    error = __import__("json").loads(done.stdout)["error"]
    assert "bundled with the FunctionGraph extension" in error["message"] and str(bundle) in error["message"]
    assert "reinstall the FunctionGraph extension" in error["hint"]
    assert "pip install" not in done.stderr + done.stdout
    # The same copy run without the extension's libs on PYTHONPATH is a command-line install.
    done = _without_sdk(command, [bundle / "tool"], tmp_path)
    assert "pip install 'functiongraph-devkit[cloud]'" in done.stderr and "extension" not in done.stderr


def test_a_gateway_error_page_is_reduced_to_its_text(server, monkeypatch, tmp_path):
    _env_credentials(monkeypatch)
    page = (
        "<html><head><title>502 Bad Gateway</title><style>body { color: red }</style></head>"
        "<body><h1>502 Bad Gateway</h1><p>" + "upstream unavailable " * 200 + "</p></body></html>"
    )
    server.api.fail_next("GET", "/functions$", 502, None, page, times=4)
    with pytest.raises(CloudError) as caught:
        _list(connect(FunctionConfig(tmp_path)))
    text = str(caught.value)
    assert caught.value.status == 502 and "502 Bad Gateway 502 Bad Gateway upstream unavailable" in text
    assert "<" not in text and "color" not in text and len(text) < 500 and "... (request ID req-" in text
    assert "retried with backoff" in caught.value.hint
