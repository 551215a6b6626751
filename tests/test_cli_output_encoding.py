"""Every command prints through a terminal that cannot encode its text without crashing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pyenv39 = sorted((Path.home() / ".pyenv" / "versions").glob("3.9.*/bin/python3.9"))


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONIOENCODING="ascii", LANG="C", LC_ALL="C")
    return subprocess.run(
        [sys.executable, "-m", "fglocal", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        timeout=120,
        encoding="ascii",
        errors="strict",  # what reaches the terminal is plain ASCII
    )


@pytest.mark.skipif(not pyenv39, reason="needs pyenv's Python 3.9 to name through a non-ASCII path")
def test_fglocal_python_with_a_non_ascii_interpreter_path_on_an_ascii_terminal(tmp_path: Path) -> None:
    folder = tmp_path / "函数"
    folder.mkdir()
    (folder / "index.py").write_text("def handler(event, context):\n    return 'ok'\n")
    link = tmp_path / "解释器"
    link.symlink_to(pyenv39[0])
    proc = run(["python", "--code-dir", str(folder), "--python", str(link)], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "\\u89e3\\u91ca\\u5668" in proc.stdout  # the path, escaped rather than mangled or fatal


def test_invoke_output_with_non_ascii_logs_on_an_ascii_terminal(tmp_path: Path) -> None:
    (tmp_path / "index.py").write_text(
        "def handler(event, context):\n    print('报告')\n    return '结果'\n", encoding="utf-8"
    )
    proc = run(["invoke", "--code-dir", str(tmp_path), "--any-python"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
