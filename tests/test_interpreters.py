"""Which Python runs a function: resolution order, version check, the refusal, --any-python, reporting.

Real interpreters only (the runtimes' pyenv Pythons, through symlinked stand-ins for the other
discovery places); nothing here fakes an interpreter's answer.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from runtime_matrix import require
from runtime_support import REPO, WRAPPER, switchable_python
from test_serve import Serve

from fglocal.config import load_config
from fglocal.interpreters import ENV_VARIABLE, InterpreterError, resolve_interpreter

HANDLER = "import sys\n\ndef handler(event, context):\n    return list(sys.version_info[:2])\n"


@pytest.fixture()
def function(tmp_path: Path) -> Path:
    folder = tmp_path / "fn"
    folder.mkdir()
    (folder / "index.py").write_text(HANDLER)
    return folder


def _config(folder: Path, **fields):
    (folder / "fglocal.json").write_text(json.dumps(fields))
    return load_config(folder)


def _isolated_env(tmp_path: Path, path_dirs=(), **extra) -> dict:
    """An environment in which discovery sees only what a test puts there."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {
        "PATH": os.pathsep.join(str(d) for d in path_dirs) or str(tmp_path / "empty-path"),
        "HOME": str(home),
    }
    env["PYENV_ROOT"] = str(tmp_path / "no-pyenv")
    env.update(extra)
    return env


def _link(target: str, link: Path) -> Path:
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(target)
    return link


def _cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = dict(os.environ)
    full_env.pop(ENV_VARIABLE, None)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "fglocal", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=str(REPO),
        timeout=120,
    )


def test_resolution_order_cli_then_config_then_environment_then_discovery(function: Path, tmp_path: Path):
    py36, py39 = require("python3.6"), require("python3.9")
    env = _isolated_env(tmp_path)
    # Discovery (here: pyenv under PYENV_ROOT) when nothing names an interpreter.
    pyenv = tmp_path / "pyenv"
    _link(py36.path, pyenv / "versions" / "3.6.15" / "bin" / "python3.6")
    _link(py36.path, pyenv / "versions" / "3.6.9" / "bin" / "python3.6")
    env["PYENV_ROOT"] = str(pyenv)
    config = _config(function, runtime="python3.6")
    found = resolve_interpreter(config, environ=env)
    assert (found.source, found.path) == ("pyenv", str(pyenv / "versions" / "3.6.15" / "bin" / "python3.6"))
    assert found.version[:2] == (3, 6)
    # FGLOCAL_PYTHON beats discovery, "python" in fglocal.json beats it, --python beats everything.
    other = str(_link(py36.path, tmp_path / "elsewhere" / "py"))
    env[ENV_VARIABLE] = other
    assert resolve_interpreter(config, environ=env).source == ENV_VARIABLE
    config = _config(function, runtime="python3.6", python="../elsewhere/py")  # relative to fglocal.json
    chosen = resolve_interpreter(config, environ=env)
    assert (chosen.source, chosen.path) == ("fglocal.json", other)
    assert resolve_interpreter(config, cli_python=py36.path, environ=env).source == "--python"
    # The version of a named interpreter is checked: a 3.9 for python3.6 is refused, naming both.
    with pytest.raises(InterpreterError) as caught:
        resolve_interpreter(config, cli_python=py39.path, environ=env)
    assert (
        "Python 3.9" in str(caught.value)
        and "python3.6" in str(caught.value)
        and "--any-python" in str(caught.value)
    )
    warned = resolve_interpreter(config, cli_python=py39.path, any_python=True, environ=env)
    assert warned.path == py39.path and "differences from the cloud are hidden" in warned.warning


@pytest.mark.parametrize("place", ["PATH", "uv", "asdf", "conda", "conda base"])
def test_each_discovery_place(place: str, function: Path, tmp_path: Path):
    py310 = require("python3.10")
    config = _config(function, runtime="python3.10")
    home = tmp_path / "home"
    env = _isolated_env(tmp_path)
    if place == "PATH":
        folder = tmp_path / "bin"
        expected = _link(py310.path, folder / "python3.10")
        shims = tmp_path / "pyenv-root" / "shims"  # version-manager shims are skipped
        _link(sys.executable, shims / "python3.10")
        env["PATH"] = os.pathsep.join([str(shims), str(folder)])
    elif place == "uv":
        expected = _link(
            py310.path, home / ".local/share/uv/python/cpython-3.10.13-linux-x86_64-gnu/bin/python3.10"
        )
    elif place == "asdf":
        expected = _link(py310.path, home / ".asdf/installs/python/3.10.13/bin/python3.10")
    elif place == "conda":
        expected = _link(py310.path, home / "miniconda3/envs/fg/bin/python3.10")
    else:
        expected = _link(py310.path, home / "miniconda3/bin/python3.10")
    found = resolve_interpreter(config, environ=env)
    assert (found.source, found.path, found.version[:2]) == (place.split()[0], str(expected), (3, 10))


def test_a_wrong_version_found_by_discovery_is_passed_over(function: Path, tmp_path: Path):
    py39, py310 = require("python3.9"), require("python3.10")
    folder = tmp_path / "bin"
    _link(py39.path, folder / "python3.10")  # misnamed: the version check catches it
    env = _isolated_env(tmp_path, [folder])
    right = _link(py310.path, tmp_path / "home/.asdf/installs/python/3.10.13/bin/python3.10")
    assert resolve_interpreter(_config(function, runtime="python3.10"), environ=env).path == str(right)


def test_missing_interpreter_is_refused_with_where_and_how(function: Path, tmp_path: Path):
    _config(function, runtime="python3.6")
    env = _isolated_env(tmp_path)
    done = _cli("invoke", "--code-dir", str(function), env=env)
    assert done.returncode == 2 and done.stdout == ""
    message = done.stderr.strip()
    assert len(message.splitlines()) == 1, message
    assert message.startswith("fglocal: error: the runtime python3.6 needs Python 3.6, and none was found")
    for place in (
        "python3.6 on PATH",
        str(tmp_path / "no-pyenv" / "versions"),
        "uv:",
        "asdf:",
        "conda environments",
        str(tmp_path / "home" / "miniconda3" / "envs" / "*" / "bin" / "python3.6"),
        str(tmp_path / "home" / "miniconda3" / "bin" / "python3.6"),  # the base is looked at too
    ):
        assert place in message
    for fix in (
        "pyenv install 3.6",
        "--python PATH",
        '"python" in fglocal.json',
        ENV_VARIABLE,
        "--any-python",
    ):
        assert fix in message
    # The query command gives the same refusal, and a JSON answer for tools.
    done = _cli("python", "--code-dir", str(function), "--json", env=env)
    assert done.returncode == 2
    answer = json.loads(done.stdout)
    assert (
        answer["runtime"] == "python3.6"
        and answer["python"] is None
        and "python3.6 on PATH" in answer["searched"]
    )


def test_any_python_runs_on_the_tool_with_a_warning_in_both_outputs(function: Path, tmp_path: Path):
    _config(function, runtime="python3.6")
    env = _isolated_env(tmp_path)
    done = _cli("invoke", "--code-dir", str(function), "--any-python", "--json", env=env)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert json.loads(result["body"]) == list(sys.version_info[:2])
    assert result["python"] == {"version": "%d.%d.%d" % sys.version_info[:3], "path": sys.executable}
    assert len(result["warnings"]) == 1 and "python3.6 needs Python 3.6" in result["warnings"][0]
    assert "--any-python" in result["warnings"][0]
    human = _cli("invoke", "--code-dir", str(function), "--any-python", env=env)
    assert human.returncode == 0
    assert "warning: the runtime python3.6 needs Python 3.6" in human.stdout
    assert "Python              %d.%d.%d (%s)" % (*sys.version_info[:3], sys.executable) in human.stdout


def test_python_query_command(function: Path):
    py312 = require("python3.12")
    _config(function, runtime="python3.12")
    done = _cli("python", "--code-dir", str(function), "--json")
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["runtime"] == "python3.12" and answer["warnings"] == []
    assert answer["python"] == {"version": py312.version_text, "path": py312.path}
    assert answer["source"] in ("fglocal", "PATH", "pyenv", "uv", "asdf", "conda")
    human = _cli("python", "--code-dir", str(function), "--python", py312.path)
    assert human.stdout.strip() == "python3.12: Python %s (%s, from --python)" % (
        py312.version_text,
        py312.path,
    )


def test_the_python_field_is_never_packaged(function: Path, tmp_path: Path):
    py39 = require("python3.9")
    _config(function, runtime="python3.9", python=py39.path, timeout=5)
    out = tmp_path / "fn.zip"
    done = _cli("package", "--code-dir", str(function), "--out", str(out))
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(out) as archive:
        assert "fglocal.json" not in archive.namelist()  # the function config itself stays local
    # Nor is the folder's fglocal.json when another config file describes the function.
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"runtime": "python3.9", "codeUri": "fn"}))
    done = _cli("package", "--code-dir", str(function), "--config", str(other), "--out", str(out), "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert "fglocal.json" not in [f["path"] for f in report["files"]]
    assert "fglocal.json" in [e["path"] for e in report["excluded"]]


def test_with_deps_builds_dependencies_with_the_runtimes_python(function: Path, tmp_path: Path):
    """A source-only requirement is built by the runtime's own Python (here 2.7), not fglocal's."""
    py27 = require("python2.7")
    dep = tmp_path / "whichpython"
    dep.mkdir()
    (dep / "setup.py").write_text(
        "import sys\nfrom setuptools import setup\n"
        "open('whichpython.py', 'w').write('BUILT_WITH = %r\\n' % (list(sys.version_info[:2]),))\n"
        "setup(name='whichpython', version='1.0', py_modules=['whichpython'])\n"
    )
    (function / "requirements.txt").write_text(str(dep) + "\n")
    _config(function, runtime="python2.7")
    out = tmp_path / "deps.zip"
    done = _cli(
        "package", "--code-dir", str(function), "--with-deps", "--out", str(out), "--pip-arg=--no-index"
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Python %s's own pip" % py27.version_text in done.stdout
    with zipfile.ZipFile(out) as archive:
        assert archive.read("whichpython.py").decode() == "BUILT_WITH = [2, 7]\n"


def test_serve_runs_on_the_runtimes_python(tmp_path: Path):
    py36 = require("python3.6")
    folder = tmp_path / "web"
    folder.mkdir()
    (folder / "index.py").write_text(
        "import json, sys\n\ndef handler(event, context):\n"
        "    return {'statusCode': 200, 'body': json.dumps(list(sys.version_info[:2]))}\n"
    )
    (folder / "fglocal.json").write_text(json.dumps({"runtime": "python3.6"}))
    serve = Serve("--quiet", code_dir=folder)
    try:
        assert "python3.6 on Python %s (%s" % (py36.version_text, py36.path) in serve.output()
        status, _, body = serve.request("GET", "/")
        assert (status, json.loads(body)) == (200, [3, 6])
    finally:
        assert serve.stop() == 0


def test_a_named_interpreter_that_is_not_one_is_refused(function: Path, tmp_path: Path):
    _config(function, runtime="python3.9", python="./no-such-python")
    done = _cli("invoke", "--code-dir", str(function))
    assert done.returncode == 2
    assert (
        '"python" in fglocal.json names ./no-such-python, which is not an executable Python interpreter'
        in done.stderr
    )
    not_python = tmp_path / "not-python"
    not_python.write_text("#!/bin/sh\necho hello\n")
    not_python.chmod(0o755)
    done = _cli("invoke", "--code-dir", str(function), "--python", str(not_python))
    assert done.returncode == 2
    assert "--python names %s, which does not run as a Python interpreter" % not_python in done.stderr


def test_with_deps_without_the_runtimes_python_selects_wheels_for_it(function: Path, tmp_path: Path):
    """No interpreter for the runtime: fglocal's pip installs Linux x86_64 wheels for that Python version."""
    from test_package import _tiny_wheel

    wheels = tmp_path / "wheels"
    wheels.mkdir()
    _tiny_wheel(wheels, "tinydep", {"tinydep/__init__.py": "VALUE = 36\n"})
    (function / "requirements.txt").write_text("tinydep==1.0\n")
    _config(function, runtime="python3.6")
    out = tmp_path / "deps.zip"
    env = _isolated_env(tmp_path)
    pip = ["--pip-arg=--no-index", "--pip-arg=--find-links=%s" % wheels]
    done = _cli("package", "--code-dir", str(function), "--with-deps", "--out", str(out), *pip, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (
        "fglocal's pip, selecting Linux x86_64 wheels for Python 3.6 (the runtime's interpreter was not found)"
        in done.stdout
    )
    assert "--platform manylinux2014_x86_64" in done.stdout and "--python-version 3.6" in done.stdout
    with zipfile.ZipFile(out) as archive:
        assert archive.read("tinydep/__init__.py") == b"VALUE = 36\n"


def test_only_fglocals_own_interpreter_is_forked(function: Path, tmp_path: Path):
    """A venv's python and its base are one binary, not one environment: the base is spawned."""
    from fglocal.interpreters import tool_interpreter

    assert tool_interpreter("python3.9").is_tool
    base = os.path.realpath(sys.executable)
    named = resolve_interpreter(_config(function, runtime="python3.9"), cli_python=base, any_python=True)
    in_venv = sys.prefix != sys.base_prefix
    assert named.is_tool is (not in_venv or base == os.path.abspath(sys.executable))
    if in_venv:  # how the suite runs (make test uses .venv): the base runs in its own process
        (function / "index.py").write_text(
            "import sys\n\ndef handler(event, context):\n    return sys.prefix\n"
        )
        done = _cli("invoke", "--code-dir", str(function), "--python", base, "--any-python", "--json")
        result = json.loads(done.stdout)
        assert result["python"]["path"] == base and result["body"] == sys.base_prefix


def _cache_folder(tmp_path: Path) -> Path:
    return tmp_path / "tmp" / ("fglocal-%d" % os.getuid()) / "interpreters"


def test_the_version_check_runs_an_interpreter_once_per_binary(tmp_path: Path, monkeypatch):
    """Cached per interpreter (path, real path, size, mtime) in a file of its own; another binary is asked."""
    from fglocal.interpreters import interpreter_version

    py39, py312 = (
        require("python3.9"),
        require("python3.12"),
    )  # before: their checks have a cache of their own
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    python = _link(py39.path, tmp_path / "bin" / "python")  # as a venv's python is
    other = _link(py312.path, tmp_path / "bin" / "python3")
    assert interpreter_version(str(python)) == py39.version
    assert interpreter_version(str(other)) == py312.version
    files = sorted(_cache_folder(tmp_path).iterdir())
    assert len(files) == 2  # one small file per interpreter, not one for all
    # The next check reads the entry, not the interpreter: an entry made to say otherwise is believed.
    entry = next(f for f in files if json.loads(f.read_text())["path"] == str(python))
    data = json.loads(entry.read_text())
    entry.write_text(json.dumps({**data, "version": [3, 9, 0]}))
    assert interpreter_version(str(python)) == (3, 9, 0)
    # Another binary behind the same path (the link pointed elsewhere): asked again.
    python.unlink()
    python.symlink_to(py312.path)
    assert interpreter_version(str(python)) == py312.version


def test_a_wrapper_scripts_version_is_asked_every_time(tmp_path: Path, monkeypatch):
    """A ``#!`` wrapper's target can change while the script does not (``pyenv local``): never cached."""
    from fglocal.interpreters import interpreter_version

    py39, py312 = (
        require("python3.9"),
        require("python3.12"),
    )  # before: their checks have a cache of their own
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    wrapper, target = switchable_python(tmp_path, py39.path)
    assert interpreter_version(str(wrapper)) == py39.version
    target.write_text(py312.path)
    assert interpreter_version(str(wrapper)) == py312.version
    # Edited to exec another Python, with its size and modification time kept: still asked.
    stat = wrapper.stat()
    wrapper.write_text(WRAPPER.replace("cat", "tac") % target)  # the same size (a one-line file)
    os.utime(wrapper, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    target.write_text(py39.path)
    assert interpreter_version(str(wrapper)) == py39.version
    # An entry an older fglocal wrote for the wrapper (no "native" mark) is not believed, and goes.
    cache = _cache_folder(tmp_path)
    cache.mkdir(parents=True, exist_ok=True)
    stale = cache / (str(wrapper).replace("/", "%2F") + ".json")
    stamp = [wrapper.stat().st_size, wrapper.stat().st_mtime_ns]
    stale.write_text(
        json.dumps({"path": str(wrapper), "real": str(wrapper), "stamp": stamp, "version": [3, 12, 1]})
    )
    assert interpreter_version(str(wrapper)) == py39.version
    assert list(cache.iterdir()) == []


def test_a_wrapper_switched_to_another_python_is_refused_and_reported_as_it(function: Path, tmp_path: Path):
    """`fglocal invoke --python WRAPPER`: the ``python`` field and the refusal name the Python it runs now."""
    py39, py312 = require("python3.9"), require("python3.12")
    wrapper, target = switchable_python(tmp_path, py39.path)
    env = {"TMPDIR": str(tmp_path)}  # its own version cache
    _config(function, runtime="python3.9")
    args = ("invoke", "--code-dir", str(function), "--python", str(wrapper), "--json")
    done = _cli(*args, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout)
    assert result["python"] == {"version": py39.version_text, "path": str(wrapper)}
    assert json.loads(result["body"]) == [3, 9]  # and it is what ran
    target.write_text(py312.path)  # `pyenv local 3.12`, say
    done = _cli(*args, env=env)
    assert done.returncode != 0
    assert "--python names Python %s (%s), but the runtime python3.9 runs Python 3.9" % (
        py312.version_text,
        wrapper,
    ) in (done.stdout + done.stderr)
    _config(function, runtime="python3.12")
    done = _cli(*args, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout)
    assert result["python"] == {"version": py312.version_text, "path": str(wrapper)}
    assert json.loads(result["body"]) == [3, 12]
