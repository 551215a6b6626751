"""The .vsix's bundled Python runs the cloud commands: only bundled/libs + bundled/tool, real SDK, test API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Dict, Iterator, List

import pytest
from cloud_support import SECRETS, make_function
from fg_api_server import AK, PROJECT, SK, APIServer

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module", name="bundle")
def bundle_fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The extension's bundled/ folder, built by the same script `make vsix` runs."""
    bundle = tmp_path_factory.mktemp("bundled")
    env = dict(os.environ, FG_BUNDLE_DIR=str(bundle), PYTHON=sys.executable)
    subprocess.run(
        [str(ROOT / "vscode-extension" / "scripts" / "bundle-python.sh")],
        env=env,
        check=True,
        capture_output=True,
        timeout=600,
    )
    return bundle


@pytest.fixture(name="server")
def server_fixture() -> Iterator[APIServer]:
    with APIServer() as server:
        yield server


def bundled_env(bundle: Path, server: APIServer, home: Path) -> Dict[str, str]:
    """What the extension gives the tool: its two folders on PYTHONPATH, credentials by environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUAWEICLOUD_", "FGLOCAL_", "PYTHON"))}
    env.update(
        HOME=str(home),
        PYTHONPATH=os.pathsep.join([str(bundle / "tool"), str(bundle / "libs")]),
        NO_PROXY="127.0.0.1",
        HUAWEICLOUD_SDK_AK=AK,
        HUAWEICLOUD_SDK_SK=SK,
        HUAWEICLOUD_SDK_PROJECT_ID=PROJECT,
        FGLOCAL_FUNCTIONGRAPH_ENDPOINT=server.endpoint,
    )
    return env


def run_bundled(args: List[str], env: Dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    """`python -S`: no site-packages at all, so nothing but the bundle can be imported."""
    done = subprocess.run(
        [sys.executable, "-S", *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120
    )
    for secret in SECRETS:
        assert secret not in done.stdout and secret not in done.stderr, done
    return done


def test_bundle_holds_the_sdk_with_pure_python_yaml_and_bson(bundle: Path, tmp_path: Path) -> None:
    libs = bundle / "libs"
    assert not list(libs.glob("yaml/**/*.so")) and not list(libs.glob("bson/**/*.so"))
    assert not (libs / "pymongo").exists()
    probe = (
        "import json, bson, yaml, huaweicloudsdkcore.client, huaweicloudsdkfunctiongraph.v2 as fg;"
        "print(json.dumps([bson._USE_C, yaml.__with_libyaml__, fg.__file__, bson.__file__, yaml.__file__,"
        " bson.decode(bson.encode({'a': [1]})), yaml.safe_load('a: [1]')]))"
    )
    env = {"PYTHONPATH": str(libs), "HOME": str(tmp_path)}
    done = run_bundled(["-c", probe], env, tmp_path)
    assert done.returncode == 0, done.stderr
    use_c, libyaml, *files, decoded, loaded = json.loads(done.stdout)
    assert use_c is False and libyaml is False
    assert all(Path(f).is_relative_to(libs) for f in files), files
    assert decoded == {"a": [1]} and loaded == {"a": [1]}


def test_bundled_tool_deploys_and_invokes_in_the_cloud(
    bundle: Path, server: APIServer, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = bundled_env(bundle, server, home)
    folder = make_function(
        tmp_path / "fn", {"functionName": "echo", "timeout": 5, "memorySize": 256, "runtime": "python3.9"}
    )
    deployed = run_bundled(["-m", "fglocal", "deploy", "--code-dir", str(folder), "--json"], env, tmp_path)
    assert deployed.returncode == 0, deployed
    result = json.loads(deployed.stdout)
    assert result["created"] is True and result["functionUrn"] == server.api.urn("echo")
    assert len([c for c in server.api.calls("POST") if c.path.endswith("/fgs/functions")]) == 1
    invoke = ["invoke", "--cloud", "--code-dir", str(folder), "--event-json", '{"a": 1}', "--json"]
    invoked = run_bundled(["-m", "fglocal", *invoke], env, tmp_path)
    assert invoked.returncode == 0, invoked
    obj = json.loads(invoked.stdout)
    assert obj["source"] == "cloud" and json.loads(obj["body"]) == {"a": 1} and obj["error"] is None
    (call,) = server.api.calls("POST", "/invocations")
    assert call.json() == {"a": 1}
