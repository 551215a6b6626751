"""Loading errors: each gives the platform's error object with a message that says what to fix."""

import pytest
from runtime_support import function_dir, invoke_json, invoke_one

BASIC = str(function_dir("basic"))
MODE = "cli"


@pytest.fixture(autouse=True, params=["cli", "api"])
def _mode(request):
    """Every loading error is checked through the CLI and through the Python API."""
    global MODE
    MODE = request.param


def error_of(entry, code_dir=BASIC):
    result, proc = invoke_one(MODE, entry, code_dir)
    assert proc.returncode == 1, proc.stderr
    return result["error"]


def test_missing_file():
    error = error_of("nofile.handler")
    assert error["errorType"] == "ModuleNotFoundError"
    assert "file 'nofile.py'" in error["errorMessage"]
    assert error["errorMessage"].startswith("function entry exception, error: ")


def test_missing_function_suggests_a_near_name():
    error = error_of("index.handlr")
    assert error["errorType"] == "AttributeError"
    assert "handler 'handlr' not found in module 'index'" in error["errorMessage"]
    assert "did you mean 'handler'?" in error["errorMessage"]


def test_not_callable():
    error = error_of("index.NOT_CALLABLE")
    assert error["errorType"] == "TypeError"
    assert "is a int, not a function" in error["errorMessage"]


def test_too_few_parameters():
    error = error_of("index.one_param")
    assert "calls it with 2 (event, context)" in error["errorMessage"]


def test_too_many_required_parameters():
    error = error_of("index.three_params")
    assert "takes 3 required parameters" in error["errorMessage"]


def test_optional_extra_parameter_is_fine():
    results, proc = invoke_json("index.optional_third", "--code-dir", BASIC)
    assert proc.returncode == 0
    assert results[0]["body"] == "fine"


def test_async_handler_is_refused_with_the_fix():
    error = error_of("index.async_handler")
    assert "async def" in error["errorMessage"]
    assert "asyncio.run" in error["errorMessage"]


def test_syntax_error_in_platform_format():
    error = error_of("index.handler", str(function_dir("syntax_error")))
    assert error["errorType"] == "SyntaxError"
    assert error["errorMessage"].startswith("Syntax error in module 'index'(")
    assert "index.py, line " in error["errorMessage"]
    assert error["stackTrace"][0].startswith('File "./index.py", line ')


def test_import_error_names_module_and_line():
    error = error_of("index.handler", str(function_dir("import_error")))
    assert error["errorType"] == "ModuleNotFoundError"
    assert "not_installed_anywhere" in error["errorMessage"]
    assert error["stackTrace"][0] == 'File "./index.py", line 1, in <module>'


def test_module_shadowing_the_standard_library():
    error = error_of("index.handler", str(function_dir("shadowing")))
    assert error["errorType"] == "ImportError"
    assert "'json.py'" in error["errorMessage"]
    assert "standard library module 'json'" in error["errorMessage"]


def test_nested_package_entry(tmp_path):
    pkg = tmp_path / "pkg" / "sub"
    pkg.mkdir(parents=True)
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "mod.py").write_text("def go(event, context):\n    return 'nested'\n")
    results, proc = invoke_json("pkg.sub.mod.go", "--code-dir", str(tmp_path))
    assert proc.returncode == 0, results
    assert results[0]["body"] == "nested"


def test_loading_error_repeats_for_each_event():
    results, _proc = invoke_json("index.handlr", "--code-dir", BASIC, "--repeat", "2")
    assert [r["error"]["errorType"] for r in results] == ["AttributeError", "AttributeError"]
