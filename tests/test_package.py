"""`fglocal package`: zips opened and checked file by file; each refusal; warnings; determinism."""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Dict, List

import pytest

from fglocal import package
from fglocal.commands import package as package_command
from fglocal.commands.options import UsageError, add_function_options  # noqa: F401  (the plug-in uses them)


def run_cli(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(prog="fglocal")
    package_command.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["package", *argv])
    try:
        return args.run(args)
    except UsageError as exc:
        print(f"fglocal: error: {exc}", file=sys.stderr)
        return 2


def write(root: Path, files: Dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def zip_contents(path: Path) -> Dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None
        return {info.filename: archive.read(info) for info in archive.infolist()}


@pytest.fixture
def function_dir(tmp_path: Path) -> Path:
    root = tmp_path / "orders"
    write(
        root,
        {
            "index.py": "import helpers.fmt\n\ndef handler(event, context):\n    return helpers.fmt.ok()\n",
            "helpers/__init__.py": "",
            "helpers/fmt.py": "def ok():\n    return 'ok'\n",
            "data/prices.csv": "sku,price\nA,1\n",
            ".env.example": "API_KEY=\n",
            # left out:
            "fglocal.json": json.dumps({"handler": "index.handler", "envFile": "local.env"}),
            "local.env": "API_KEY=secret-from-env-file\n",
            ".env": "API_KEY=hunter2\n",
            "certs/server.pem": "-----BEGIN PRIVATE KEY-----\n",
            "deploy.key": "secret\n",
            "id_rsa": "secret\n",
            "events/apig.json": "{}",
            "__pycache__/index.cpython-311.pyc": "x",
            "helpers/__pycache__/fmt.cpython-311.pyc": "x",
            "helpers/old.pyc": "x",
            ".git/HEAD": "ref: refs/heads/main\n",
            ".vscode/launch.json": "{}",
            ".pytest_cache/v": "x",
            "myenv/pyvenv.cfg": "home = /usr/bin\n",
            "myenv/lib/python3.11/site-packages/x.py": "",
            "orders.egg-info/PKG-INFO": "x",
            "dist/orders.zip": "old",
        },
    )
    (root / "run.sh").write_text("#!/bin/sh\necho hi\n")
    (root / "run.sh").chmod(0o755)
    return root


EXPECTED = ["data/prices.csv", ".env.example", "helpers/__init__.py", "helpers/fmt.py", "index.py", "run.sh"]


def test_zip_holds_the_code_and_nothing_else(function_dir: Path, capsys):
    assert run_cli(["--code-dir", str(function_dir)]) == 0
    out = function_dir / "dist" / "orders.zip"
    contents = zip_contents(out)
    assert sorted(contents) == sorted(EXPECTED)
    for name, data in contents.items():
        assert data == (function_dir / name).read_bytes(), name
    report = capsys.readouterr().out
    assert "index.py" in report and "limits:" in report and "40 MB" in report
    assert (
        "env file:" in report
        and "private key:" in report
        and "test event" in report
        and "virtualenv" in report
    )
    assert "hunter2" not in report and "secret-from-env-file" not in report


def test_zip_metadata_is_fixed(function_dir: Path):
    out = function_dir / "out.zip"
    assert run_cli(["--code-dir", str(function_dir), "--out", str(out)]) == 0
    with zipfile.ZipFile(out) as archive:
        infos = archive.infolist()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    for info in infos:
        assert info.date_time == (1980, 1, 1, 0, 0, 0)
        assert info.compress_type == zipfile.ZIP_DEFLATED
        mode = info.external_attr >> 16
        assert mode == (0o100755 if info.filename == "run.sh" else 0o100644), info.filename
        assert not info.filename.startswith("/") and ".." not in info.filename


def test_same_input_gives_identical_bytes(function_dir: Path, tmp_path: Path):
    first = tmp_path / "a.zip"
    assert run_cli(["--code-dir", str(function_dir), "--out", str(first)]) == 0
    # Same files, created in another order and with other timestamps.
    copy = tmp_path / "copy" / "orders"
    names = sorted((p for p in function_dir.rglob("*") if p.is_file()), reverse=True)
    for path in names:
        target = copy / path.relative_to(function_dir)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        shutil.copymode(path, target)
        os.utime(target, (1_700_000_000, 1_700_000_000))
    second = tmp_path / "b.zip"
    assert run_cli(["--code-dir", str(copy), "--out", str(second)]) == 0
    assert first.read_bytes() == second.read_bytes()


def test_refuses_entry_file_missing_from_root(tmp_path: Path, capsys):
    root = tmp_path / "fn"
    write(root, {"src/index.py": "def handler(e, c):\n    return 1\n"})
    assert run_cli(["--code-dir", str(root)]) == 1
    err = capsys.readouterr().err
    assert "index.py at the root of the zip" in err and "codeUri" in err
    assert not (root / "dist").exists()
    # With codeUri pointing at src, the same folder packages fine, index.py at the root.
    (root / "fglocal.json").write_text(json.dumps({"codeUri": "src"}))
    assert run_cli(["--code-dir", str(root)]) == 0
    assert sorted(zip_contents(root / "dist" / "src.zip")) == ["index.py"]


def test_refuses_missing_initializer_file(tmp_path: Path, capsys):
    write(tmp_path, {"index.py": "def handler(e, c):\n    return 1\n"})
    assert run_cli(["--code-dir", str(tmp_path), "--initializer", "boot.init", "--dry-run"]) == 1
    assert "initializer 'boot.init' needs boot.py" in capsys.readouterr().err


def test_nested_entry_module(tmp_path: Path):
    write(tmp_path, {"app/main.py": "def handler(e, c):\n    return 1\n", "app/__init__.py": ""})
    assert run_cli(["app.main.handler", "--code-dir", str(tmp_path), "--dry-run"]) == 0


@pytest.mark.parametrize(
    ("files", "name"), [({"json.py": ""}, "json.py"), ({"logging/__init__.py": ""}, "logging/")]
)
def test_refuses_standard_library_shadowing(tmp_path: Path, capsys, files: Dict[str, str], name: str):
    write(tmp_path, {"index.py": "def handler(e, c):\n    return 1\n", **files})
    out = tmp_path / "x.zip"
    assert run_cli(["--code-dir", str(tmp_path), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert f"{name} shadows the standard library module" in err
    assert not out.exists()


def test_refuses_symlink_outside_the_folder(tmp_path: Path, capsys):
    root = tmp_path / "fn"
    write(root, {"index.py": "def handler(e, c):\n    return 1\n"})
    (tmp_path / "outside.txt").write_text("not yours")
    (root / "shared.txt").symlink_to(tmp_path / "outside.txt")
    assert run_cli(["--code-dir", str(root)]) == 1
    err = capsys.readouterr().err
    assert "symlink shared.txt points outside the function folder" in err
    assert not (root / "dist").exists()


def test_refuses_dangling_symlink(tmp_path: Path, capsys):
    write(tmp_path, {"index.py": "def handler(e, c):\n    return 1\n"})
    (tmp_path / "gone.txt").symlink_to(tmp_path / "missing.txt")
    assert run_cli(["--code-dir", str(tmp_path), "--dry-run"]) == 1
    assert "does not exist" in capsys.readouterr().err


def test_symlink_inside_the_folder_is_stored_as_its_target(tmp_path: Path):
    root = tmp_path / "fn"
    write(root, {"index.py": "def handler(e, c):\n    return 1\n", "lib_src/util.py": "X = 1\n"})
    (root / "util.py").symlink_to(root / "lib_src" / "util.py")
    (root / "vendored").symlink_to(root / "lib_src", target_is_directory=True)
    out = tmp_path / "fn.zip"
    assert run_cli(["--code-dir", str(root), "--out", str(out)]) == 0
    contents = zip_contents(out)
    assert contents["util.py"] == b"X = 1\n"
    assert contents["vendored/util.py"] == b"X = 1\n"


def test_warns_about_native_modules_for_another_platform(tmp_path: Path, capsys):
    write(tmp_path, {"index.py": "def handler(e, c):\n    return 1\n"})
    import _ctypes  # an extension module built for this interpreter

    real_so = Path(_ctypes.__file__)
    shutil.copyfile(real_so, tmp_path / real_so.name)
    (tmp_path / "fast.cpython-39-darwin.so").write_bytes(b"\xcf\xfa\xed\xfe" + b"\0" * 60)
    (tmp_path / "speed.cp39-win_amd64.pyd").write_bytes(b"MZ" + b"\0" * 60)
    arm = bytearray(b"\x7fELF\x02\x01\x01" + b"\0" * 57)
    arm[18:20] = (183).to_bytes(2, "little")
    (tmp_path / "armmod.cpython-39-aarch64-linux-gnu.so").write_bytes(bytes(arm))
    assert run_cli(["--code-dir", str(tmp_path), "--runtime", "python3.9", "--dry-run"]) == 0
    out = capsys.readouterr().out
    version = "{}.{}".format(*sys.version_info[:2])
    if version != "3.9":
        assert f"{real_so.name} was built for Python {version}, the function's runtime is Python 3.9" in out
    assert "fast.cpython-39-darwin.so is a macOS binary" in out
    assert "speed.cp39-win_amd64.pyd is a Windows binary" in out
    assert "armmod.cpython-39-aarch64-linux-gnu.so was built for aarch64" in out


def test_warns_about_requirements_and_short_timeout(tmp_path: Path, capsys):
    write(
        tmp_path, {"index.py": "def handler(e, c):\n    return 1\n", "requirements.txt": "# deps\nrequests\n"}
    )
    assert run_cli(["--code-dir", str(tmp_path), "--timeout", "1", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "requirements.txt lists 1 requirement(s)" in out and "--with-deps" in out
    assert "below the console's minimum of 3 s" in out
    assert "dry run: nothing written" in out
    assert not (tmp_path / "dist").exists()


def test_size_limits():
    assert package.size_problems(10 * package.MB) == ([], [])
    refused, warned = package.size_problems(45 * package.MB)
    assert not refused and "40 MB" in warned[0]
    refused, warned = package.size_problems(120 * package.MB)
    assert not refused and "OBS" in warned[0]
    refused, warned = package.size_problems(301 * package.MB)
    assert "300 MB" in refused[0]


def test_json_report(function_dir: Path, capsys):
    out = function_dir / "o.zip"
    assert run_cli(["--code-dir", str(function_dir), "--out", str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert sorted(f["path"] for f in report["files"]) == sorted(EXPECTED)
    assert report["zip"] == str(out) and report["zipSize"] == out.stat().st_size
    assert {"path": ".env", "reason": "env file"} in report["excluded"]
    assert {"path": "local.env", "reason": "env file named by envFile in fglocal.json"} in report["excluded"]
    assert {"path": "fglocal.json", "reason": "local config"} in report["excluded"]
    assert {"path": "deploy.key", "reason": "private key"} in report["excluded"]
    assert report["problems"] == []


def _tiny_wheel(directory: Path, name: str, module_files: Dict[str, str]) -> Path:
    """Write a minimal pure-Python wheel, so pip can install it without the network."""
    dist_info = f"{name}-1.0.dist-info"
    files = dict(module_files)
    files[dist_info + "/METADATA"] = f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n"
    files[dist_info + "/WHEEL"] = (
        "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(text.encode())}")
    record.append(dist_info + "/RECORD,,")
    files[dist_info + "/RECORD"] = "\n".join(record) + "\n"
    wheel = directory / (f"{name}-1.0-py3-none-any.whl")
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
    return wheel


def test_with_deps_vendors_requirements(tmp_path: Path):
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    _tiny_wheel(wheels, "tinydep", {"tinydep/__init__.py": "VALUE = 42\n"})
    root = tmp_path / "fn"
    write(root, {"index.py": "import tinydep\n\ndef handler(e, c):\n    return tinydep.VALUE\n"})
    (root / "requirements.txt").write_text("tinydep==1.0\n")
    pip = ["--pip-arg=--no-index", f"--pip-arg=--find-links={wheels}"]
    outs = []
    for name in ("a.zip", "b.zip"):
        outs.append(tmp_path / name)
        assert run_cli(["--code-dir", str(root), "--with-deps", "--out", str(outs[-1]), *pip]) == 0
    contents = zip_contents(outs[0])
    assert contents["tinydep/__init__.py"] == b"VALUE = 42\n"
    assert "tinydep-1.0.dist-info/METADATA" in contents
    assert "index.py" in contents and "requirements.txt" in contents
    assert not [n for n in contents if n.endswith(".pyc") or n.startswith("bin/")]
    assert outs[0].read_bytes() == outs[1].read_bytes()
    # The vendored package imports from the unpacked zip as it would on the platform.
    unpacked = tmp_path / "unpacked"
    with zipfile.ZipFile(outs[0]) as archive:
        archive.extractall(unpacked)
    done = subprocess.run(
        [sys.executable, "-c", "import index; print(index.handler({}, None))"],
        cwd=unpacked,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.stdout.strip() == "42", done.stderr


def test_with_deps_failure_is_reported(tmp_path: Path, capsys):
    write(
        tmp_path,
        {"index.py": "def handler(e, c):\n    return 1\n", "requirements.txt": "no-such-dist-xyz==9\n"},
    )
    out = tmp_path / "x.zip"
    argv = ["--code-dir", str(tmp_path), "--with-deps", "--out", str(out), "--pip-arg=--no-index"]
    assert run_cli(argv) == 1
    err = capsys.readouterr().err
    assert "pip could not install requirements.txt for Python 3.9" in err
    assert not out.exists()


def test_with_deps_needs_requirements(tmp_path: Path, capsys):
    write(tmp_path, {"index.py": "def handler(e, c):\n    return 1\n"})
    assert run_cli(["--code-dir", str(tmp_path), "--with-deps"]) == 2
    assert "requirements.txt" in capsys.readouterr().err


def test_real_command_exit_codes(function_dir: Path, tmp_path: Path):
    out = tmp_path / "real.zip"
    command = [sys.executable, "-m", "fglocal", "package", "--code-dir", str(function_dir), "--out", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert sorted(zip_contents(out)) == sorted(EXPECTED)
    (function_dir / "os.py").write_text("")
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "os.py shadows the standard library module 'os'" in done.stderr
    bad = [sys.executable, "-m", "fglocal", "package", "--code-dir", str(tmp_path / "nope")]
    done = subprocess.run(bad, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "does not exist" in done.stderr


def test_dependency_that_shadows_the_standard_library_is_refused(tmp_path: Path, capsys):
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    _tiny_wheel(wheels, "enum34", {"enum/__init__.py": "# a backport\n"})
    root = tmp_path / "fn"
    write(root, {"index.py": "def handler(e, c):\n    return 1\n", "requirements.txt": "enum34==1.0\n"})
    out = tmp_path / "x.zip"
    argv = ["--code-dir", str(root), "--with-deps", "--out", str(out), "--pip-arg=--no-index"]
    assert run_cli([*argv, f"--pip-arg=--find-links={wheels}"]) == 1
    err = capsys.readouterr().err
    assert "enum/ shadows the standard library module 'enum'" in err
    assert "comes from requirements.txt" in err
    assert not out.exists()


def test_python27_non_ascii_without_coding_line_warns(tmp_path: Path, capsys):
    write(
        tmp_path,
        {
            "index.py": "# -*- coding: utf-8 -*-\n# 中文注释\ndef handler(e, c):\n    return 1\n",
            "util.py": "# 中文注释\nX = 1\n",
            "plain.py": "X = 1\n",
        },
    )
    assert run_cli(["--code-dir", str(tmp_path), "--runtime", "python2.7", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert (
        "warning: util.py: Python 2.7 refuses to import it (SyntaxError: Non-ASCII character '\\xe4' in file "
        "util.py on line 1, but no encoding declared" in out
    )
    assert "add '# -*- coding: utf-8 -*-' as its first line" in out
    assert "index.py:" not in out and "plain.py:" not in out
    assert run_cli(["--code-dir", str(tmp_path), "--runtime", "python3.9", "--dry-run"]) == 0
    assert "non-ASCII" not in capsys.readouterr().out


def test_unwritable_output_is_reported(tmp_path: Path, capsys):
    write(tmp_path, {"index.py": "def handler(e, c):\n    return 1\n", "blocker": "a file, not a folder"})
    assert run_cli(["--code-dir", str(tmp_path), "--out", str(tmp_path / "blocker" / "x.zip")]) == 1
    assert "cannot write the zip" in capsys.readouterr().err
