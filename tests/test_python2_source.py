"""Python 2's refusal of non-ASCII source without a coding line: invoke reports it, package warns.

The check (fglocal/py2source.py) is compared with a real Python 2.7 where one is installed; `invoke`
under the python2.7 runtime on this Python 3 reports the error object the platform's Python 2 loader
gives, for the entry module, the user modules it imports, packages and imports made in the handler.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from runtime_matrix import require
from runtime_support import invoke_json, run_cli

from fglocal.py2source import python2_message, undeclared_non_ascii

PEP_263 = "but no encoding declared; see http://python.org/dev/peps/pep-0263/ for details"

# Sources and what Python 2.7.18 does with them (checked against the real interpreter below).
SOURCES = {
    "plain": b"x = 1\n",
    "comment_line3": b"def handler(e, c):\n    return 1\n# \xe4\xb8\xad\xe6\x96\x87\n",
    "string_line1": b's = "\xe4"',
    "declared_line1": b"# -*- coding: utf-8 -*-\n# \xe4\xb8\xad\n",
    "declared_same_line": b"# -*- coding: utf-8 -*- \xe4\n",
    "declared_line2": b"#!/usr/bin/env python\n# coding=utf-8\n# \xe4\n",
    "declared_after_blank": b"\n# vim: set fileencoding=utf-8 :\n# \xe4\n",
    "declared_after_code": b"x = 1\n# coding: utf-8\n# \xe4\n",  # line 2 only counts after a comment
    "non_ascii_before_decl": b"# \xe4\n# -*- coding: utf-8 -*-\n",
    "shebang_non_ascii": b"#!/usr/bin/python \xe4\n# coding: utf-8\n",
    "declared_line3": b"#!/usr/bin/env python\n\n# coding: utf-8\n# \xe4\n",
    "bom": b"\xef\xbb\xbf# \xe4\xb8\xad\n",
    "crlf": b"x = 1\r\n# \xc3\xa9\r\n",
    "latin1_declared": b"# coding: latin-1\n# \xe9\n",
    "indented_decl": b"  # coding: utf-8\n# \xe4\n",
}


def _python27() -> str:
    """Runtime python2.7's interpreter, as fglocal finds it (a missing one fails, and the summary says so)."""
    return require("python2.7").path


PROBE = """
import json, sys
sys.path.insert(0, sys.argv[1])
out = {}
for name in sys.argv[2:]:
    try:
        __import__(name)
        out[name] = None
    except SyntaxError as exc:
        out[name] = [exc.args[0], exc.lineno]
print(json.dumps(out))
"""


def test_the_check_agrees_with_python27(tmp_path: Path):
    python27 = _python27()
    for name, data in SOURCES.items():
        (tmp_path / (name + ".py")).write_bytes(data)
    proc = subprocess.run(
        [python27, "-c", PROBE, str(tmp_path), *SOURCES], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    real = json.loads(proc.stdout)
    ours = {}
    for name, data in SOURCES.items():
        found = undeclared_non_ascii(data)
        ours[name] = (
            None if found is None else [python2_message(str(tmp_path / (name + ".py")), *found), found[1]]
        )
    assert ours == real
    assert sum(1 for v in real.values() if v) >= 6  # the matrix holds refusals, not only passes


def test_expected_outcomes_without_python27():
    refused = {name for name, data in SOURCES.items() if undeclared_non_ascii(data)}
    assert refused == {
        "comment_line3",
        "string_line1",
        "declared_after_code",
        "non_ascii_before_decl",
        "shebang_non_ascii",
        "declared_line3",
        "crlf",
    }
    assert undeclared_non_ascii(SOURCES["comment_line3"]) == (0xE4, 3)


@pytest.fixture
def fn(tmp_path: Path) -> Path:
    folder = tmp_path / "fn"
    (folder / "pkg").mkdir(parents=True)
    (folder / "entry_bad.py").write_bytes(
        b"def handler(event, context):\n    return 1\n# \xe4\xb8\xad\xe6\x96\x87\n"
    )
    (folder / "imports_bad.py").write_bytes(b"import helper\n\ndef handler(event, context):\n    return 1\n")
    (folder / "helper.py").write_bytes(b"X = 1\n# \xe5\x8f\x82\xe6\x95\xb0\n")
    (folder / "imports_pkg.py").write_bytes(b"import pkg\n\ndef handler(event, context):\n    return 1\n")
    (folder / "pkg" / "__init__.py").write_bytes(b"# \xe4\xb8\xad\n")
    (folder / "lazy.py").write_bytes(
        b"def handler(event, context):\n    import helper\n    return helper.X\n"
    )
    (folder / "declared.py").write_bytes(
        b"# -*- coding: utf-8 -*-\n# \xe4\xb8\xad\ndef handler(event, context):\n    return u'\xe4\xb8\xad'\n"
    )
    (folder / "init_bad.py").write_bytes(
        b"def initializer(context):\n    pass\n\ndef handler(event, context):\n    return 1\n# \xe4\n"
    )
    return folder


@pytest.fixture(params=["python3-any-python", "python2.7"])
def on(request) -> list:
    """How the python2.7 function runs: on this Python 3 (--any-python, the import hook) or a real 2.7."""
    if request.param == "python2.7":
        return ["--python", _python27()]
    return ["--python", sys.executable, "--any-python"]


def _result(fn: Path, entry: str, *more: str) -> dict:
    results, proc = invoke_json(entry, "--code-dir", str(fn), *more)
    assert len(results) == 1, proc.stderr
    return results[0]


def test_invoke_refuses_the_entry_module_as_python2_loads_it(fn: Path, on):
    result = _result(fn, "entry_bad.handler", "--runtime", "python2.7", *on)
    assert result["python"]["version"].startswith("2.7" if on[1] != sys.executable else "3.")
    path = str(fn.resolve() / "entry_bad.py")
    assert result["error"] == {
        "errorMessage": "Syntax error in module 'entry_bad'(Non-ASCII character '\\xe4' in file %s on line 3, %s "
        "(entry_bad.py, line 3))" % (path, PEP_263),
        "errorType": "SyntaxError",
        "stackTrace": ['File "./entry_bad.py", line 3'],
    }


@pytest.mark.parametrize(
    ("entry", "bad_file", "line"),
    [("imports_bad.handler", "helper.py", 2), ("imports_pkg.handler", "pkg/__init__.py", 1)],
)
def test_invoke_refuses_user_modules_the_entry_imports(fn: Path, on, entry, bad_file, line):
    error = _result(fn, entry, "--runtime", "python2.7", *on)["error"]
    module = entry.split(".")[0]
    path = str(fn.resolve() / bad_file)
    assert error["errorType"] == "SyntaxError"
    assert error["errorMessage"].startswith(
        "Syntax error in module '%s'(Non-ASCII character '\\x" % module
    ), error
    assert "in file %s on line %d, %s" % (path, line, PEP_263) in error["errorMessage"]
    assert error["stackTrace"] == ['File "./%s", line %d' % (bad_file, line)]


def test_an_import_inside_the_handler_fails_the_invocation(fn: Path, on):
    error = _result(fn, "lazy.handler", "--runtime", "python2.7", *on)["error"]
    assert error["errorType"] == "SyntaxError"
    assert error["errorMessage"].startswith(
        "function invocation exception, error: Non-ASCII character '\\xe5'"
    )
    assert error["stackTrace"] == ['File "./lazy.py", line 2, in handler', "    import helper"]


def test_the_initializer_module_is_checked_too(fn: Path, on):
    result = _result(
        fn, "declared.handler", "--runtime", "python2.7", "--initializer", "init_bad.initializer", *on
    )
    assert result["error"]["errorType"] == "SyntaxError"
    assert "Syntax error in module 'init_bad'(Non-ASCII character '\\xe4'" in result["error"]["errorMessage"]


def test_declared_files_load_and_python3_runtimes_are_not_checked(fn: Path, on):
    assert _result(fn, "declared.handler", "--runtime", "python2.7", *on)["body"] == "中"
    for entry in ("entry_bad.handler", "imports_bad.handler", "imports_pkg.handler", "lazy.handler"):
        result = _result(fn, entry, "--runtime", "python3.9", "--python", sys.executable, "--any-python")
        assert result["error"] is None, result["error"]


def test_package_warns_about_the_same_files_with_the_same_message(fn: Path, tmp_path: Path):
    (fn / "index.py").write_text("def handler(event, context):\n    return 1\n")
    proc = run_cli("package", "--code-dir", str(fn), "--runtime", "python2.7", "--dry-run", "--json")
    assert proc.returncode == 0, proc.stderr
    warnings = [w for w in json.loads(proc.stdout)["warnings"] if "Python 2.7 refuses" in w]
    warned = sorted(w.split(":", 1)[0] for w in warnings)
    assert warned == ["entry_bad.py", "helper.py", "init_bad.py", "pkg/__init__.py"]
    helper = next(w for w in warnings if w.startswith("helper.py"))
    assert python2_message("helper.py", 0xE5, 2) in helper
    proc = run_cli("package", "--code-dir", str(fn), "--runtime", "python3.9", "--dry-run", "--json")
    assert not [w for w in json.loads(proc.stdout)["warnings"] if "Python 2.7" in w]
