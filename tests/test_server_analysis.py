"""Unit tests of the pure analysis functions (no client, no server process)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fglocal.catalog import CONTEXT_METHODS
from server.analysis import sdk
from server.analysis.completion import complete
from server.analysis.context_inference import CONTEXT, LOGGER, ScopeIndex, parse_header
from server.analysis.diagnostics import CODES, analyze
from server.analysis.model import ModuleContext, Roles, Span
from server.analysis.parsing import parse_module
from server.analysis.signature_help import signature_help
from server.analysis.text import char_column, code_scan, split_lines
from server.project import find_project, list_folder
from server.settings import Settings, parse_settings

HANDLER_MODULE = ModuleContext(
    roles=Roles(handler="handler"),
    module_name="index",
    module_file="index.py",
    entry_roles=("handler",),
    required_roles=("handler",),
)


def codes_of(text: str, module: ModuleContext = HANDLER_MODULE) -> list:
    return [f.code for f in analyze(text, module)]


# -- context inference ------------------------------------------------------------------------------


def test_parse_header_of_multiline_and_half_typed_defs():
    lines = split_lines(
        "def handler(\n    event,  # the event\n    context: 'Context' = None,\n):\n    pass\n"
    )
    header = parse_header(lines, 0)
    assert [p.name for p in header.params] == ["event", "context"]
    assert header.params[1].annotation == "'Context'"
    assert header.body_line == 4
    typing = parse_header(["def handler(event, ctx, *, flag=1"], 0)
    assert [(p.name, p.kind) for p in typing.params] == [
        ("event", "positional"),
        ("ctx", "positional"),
        ("flag", "keyword"),
    ]


def test_scope_index_kinds_follow_scopes():
    text = (
        "def handler(event, context):\n"
        "    log = context.getLogger()\n"
        "    alias = context\n"
        "    def inner():\n"
        "        return alias\n"
        "    return 1\n"
        "\n"
        "def other(event, thing, more):\n"
        "    return thing\n"
    )
    index = ScopeIndex(split_lines(text), Roles(handler="handler"))
    assert index.kind_of("log", 5) == LOGGER
    assert index.kind_of("alias", 4) == CONTEXT  # from the enclosing function
    assert index.kind_of("context", 8) is None  # another function
    assert index.kind_of("thing", 8) is None  # three parameters: not handler-shaped


def test_blank_line_inside_function_keeps_scope():
    lines = split_lines("def handler(event, context):\n    x = 1\n\n    \n")
    assert ScopeIndex(lines).kind_of("context", 2) == CONTEXT
    assert ScopeIndex(lines).kind_of("context", 3) == CONTEXT


# -- completion, signature help -------------------------------------------------------------------


def test_completion_without_snippet_support_inserts_names():
    items = complete(split_lines("def handler(event, context):\n    context."), 1, 12, snippets=False)
    assert {i.insert_text for i in items} == {m.name for m in CONTEXT_METHODS}
    assert not any(i.is_snippet for i in items)


@pytest.mark.parametrize(
    ("prefix", "inside"),
    [
        ("x = 'a", True),
        ('x = "a" + b', False),
        ("x = '''a", True),
        ("# c", True),
        ("x = 'a#b' + c", False),
        (r"x = 'a\'", True),
    ],
)
def test_in_string_or_comment(prefix, inside):
    assert code_scan(prefix)[1] is inside


def test_signature_help_ignores_nested_brackets_and_strings():
    text = "def handler(event, context):\n    context.getUserData(key(1, 2), '(,', "
    found = signature_help(split_lines(text), 1, len(split_lines(text)[1]))
    assert found is not None and found.active_parameter == 2
    assert (
        signature_help(split_lines("def handler(event, context):\n    context.getUserData([1, "), 1, 29)
        is None
    )


# -- SDK text comes from the catalog --------------------------------------------------------------


def test_sdk_helpers_are_derived_from_the_catalog():
    info = sdk.method(CONTEXT, "getUserData")
    assert info is not None and sdk.call_snippet(info) == "getUserData(${1:key})"
    assert sdk.suggestions(CONTEXT, "getrequestid")[0] == "getRequestID"
    assert sdk.suggestions(CONTEXT, "getUserDta")[0] == "getUserData"
    assert sdk.suggestions(CONTEXT, "zzzz") == []
    assert "Deprecated" in sdk.method_markdown(CONTEXT, sdk.method(CONTEXT, "getAccessKey"))


# -- parsing ----------------------------------------------------------------------------------------


def test_syntax_error_columns_are_characters_not_bytes():
    text = "def handler(event, context):\n    s = '中文' +\n    return s\n"
    parsed = parse_module(text, split_lines(text), (3, 9))
    assert [(f.code, f.span.line) for f in parsed.findings] == [("syntax-error", 1)]
    assert char_column("    s = '中文'", len("    s = '中文'".encode())) == len("    s = '中文'")


def test_only_the_first_syntax_error_is_reported_and_the_rest_still_analysed():
    text = "def handler(event, context:\n    return context.getRequestId()\n"
    found = codes_of(text)
    assert found.count("syntax-error") == 1


def test_python2_module_under_python3_reports_each_statement():
    text = 'def handler(event, context):\n    print "a"\n    print "b"\n    return 1\n'
    assert codes_of(text).count("python2-syntax") == 2


@pytest.mark.parametrize(
    ("source", "runtime", "expected"),
    [
        ("def f(a, /):\n    pass\n", (3, 6), ["runtime-syntax"]),
        ("def f(a, /):\n    pass\n", (3, 9), []),
        ("with (open('a') as a, open('b') as b):\n    pass\n", (3, 6), ["runtime-syntax"]),
        (
            "def f(a: int) -> int:\n    nonlocal_x = 1\n    return a\n",
            (2, 7),
            ["runtime-syntax", "runtime-syntax"],
        ),
        ("x = 1\n", (3, 12), []),
    ],
)
def test_runtime_version_syntax(source, runtime, expected):
    module = ModuleContext(runtime=runtime)
    assert codes_of(source, module) == expected


# -- checks -----------------------------------------------------------------------------------------


def test_handler_signature_checks():
    assert codes_of("def handler(*args):\n    pass\n") == []
    assert codes_of("def handler(event, context, *, flag):\n    pass\n") == ["handler-signature"]
    assert codes_of("def handler():\n    pass\n") == ["handler-signature"]
    initializer = ModuleContext(
        roles=Roles(initializer="init"),
        initializer_entry="index.init",
        entry_roles=("initializer",),
        required_roles=("initializer",),
    )
    assert codes_of("def init(context):\n    pass\n", initializer) == []
    assert codes_of("def init(a, b):\n    pass\n", initializer) == ["initializer-signature"]
    assert codes_of("def other():\n    pass\n", initializer) == ["entry-not-found"]


def test_handler_defined_in_try_block_or_imported_is_found():
    assert (
        codes_of(
            "try:\n    import ujson as json\nexcept ImportError:\n    import json\n\nif True:\n    def handler(event, context):\n        return json.dumps({})\n"
        )
        == []
    )


def test_sensitive_values_through_names_and_containers():
    text = (
        "def handler(event, context):\n"
        "    creds = {'ak': context.getSecurityAccessKey()}\n"
        "    logger = context.getLogger()\n"
        "    logger.info('creds %s' % creds)\n"
        "    logger.info('has token: %s', context.getToken() != '')\n"
    )
    findings = [f for f in analyze(text, HANDLER_MODULE) if f.code == "sensitive-logged"]
    assert [f.span for f in findings] == [Span(3, 29, 3, 34)]


def test_return_checks_only_in_handlers_and_not_nested_functions():
    text = (
        "def handler(event, context):\n"
        "    def inner():\n"
        "        return {1}\n"
        "    return [inner(), (x for x in [])]\n"
    )
    findings = [f for f in analyze(text, HANDLER_MODULE) if f.code == "return-not-json"]
    assert [f.span.line for f in findings] == [3]
    assert "generator" in findings[0].message


def test_enabled_codes_filter_and_order():
    text = "def handler(event, context):\n    context.getAccessKey()\n    return {1}\n"
    assert codes_of(text) == ["deprecated-method", "return-not-json"]
    assert [f.code for f in analyze(text, HANDLER_MODULE, {"return-not-json"})] == ["return-not-json"]
    assert set(CODES) >= {"deprecated-method", "return-not-json"}


def test_shadowing_package_and_own_module_name():
    module = ModuleContext(module_name="os.helpers", folder_entries=(("os", True),))
    assert codes_of("import json\n", module) == ["stdlib-shadowing"]
    entry = ModuleContext(
        roles=Roles(handler="handler"),
        module_name="index",
        folder_entries=(("logging.py", False), ("test.py", False)),
        entry_roles=("handler",),
    )
    findings = analyze("def handler(event, context):\n    return 1\n", entry)
    assert [(f.code, f.span.line) for f in findings] == [("stdlib-shadowing", 0)]
    assert "logging.py" in findings[0].message and "test.py" not in findings[0].message


# -- settings and projects ----------------------------------------------------------------------


def test_settings_parse_and_fall_back():
    settings, warnings = parse_settings(
        {"functiongraph": {"runtime": "python2.7", "initializer": "index.init"}}
    )
    assert (settings.runtime, settings.initializer, warnings) == ("python2.7", "index.init", [])
    settings, warnings = parse_settings(["not", "an", "object"])
    assert settings == Settings() and len(warnings) == 1
    settings, warnings = parse_settings({"diagnostics": {"enabled": "yes", "disabledCodes": "all"}})
    assert settings.diagnostics.enabled is True and len(warnings) == 2


def test_project_with_code_uri_and_nested_modules(tmp_path: Path):
    (tmp_path / "src" / "pkg").mkdir(parents=True)
    (tmp_path / "src" / "pkg" / "mod.py").write_text("def main(event, context):\n    return 1\n")
    (tmp_path / "fglocal.json").write_text(
        json.dumps({"codeUri": "src", "handler": "pkg.mod.main", "runtime": "python3.6"})
    )
    project = find_project(tmp_path / "src" / "pkg" / "mod.py", [tmp_path], Settings())
    module = project.module_context(tmp_path / "src" / "pkg" / "mod.py")
    assert (module.module_name, module.roles.handler, module.runtime) == ("pkg.mod", "main", (3, 6))
    assert project.py_files == ("pkg/mod.py",)
    assert list_folder(tmp_path / "missing") == ((), ())


def test_project_with_broken_config_uses_defaults(tmp_path: Path):
    (tmp_path / "fglocal.json").write_text("{not json")
    project = find_project(tmp_path / "index.py", [tmp_path], Settings(runtime="python3.10"))
    assert project.config_error is not None
    assert (project.handler, project.runtime) == ("index.handler", "python3.10")


def test_project_without_config_is_the_folder_of_the_handler_module(tmp_path: Path):
    (tmp_path / "fn_a" / "pkg").mkdir(parents=True)
    (tmp_path / "fn_a" / "index.py").write_text("def handler(event, context):\n    return 1\n")
    (tmp_path / "fn_a" / "json.py").write_text("")
    project = find_project(tmp_path / "fn_a" / "pkg" / "util.py", [tmp_path], Settings())
    assert project.folder == (tmp_path / "fn_a").resolve()
    assert project.module_context(tmp_path / "fn_a" / "pkg" / "util.py").module_name == "pkg.util"
    assert ("json.py", False) in project.folder_entries
    assert find_project(tmp_path / "other.py", [tmp_path], Settings()).folder == tmp_path.resolve()


def test_snippets_are_defined_once():
    # The extension contributes no snippets of its own (VS Code would offer both, with different bodies).
    package = json.loads(
        (Path(__file__).resolve().parents[1] / "vscode-extension" / "package.json").read_text()
    )
    assert "snippets" not in package["contributes"]


def test_value_before_follows_the_catalog_return_types():
    from fglocal.catalog import context_method
    from server.analysis.context_inference import CONTEXT, LOGGER, ScopeIndex, value_before

    assert context_method("getLogger").returns == "Logger"  # the fact value_before relies on
    lines = split_lines("def handler(event, ctx):\n    ctx.getLogger().inf\n    ctx.getRequestID().x\n")
    index = ScopeIndex(lines)
    assert value_before("    ctx.getLogger().inf", 1, index) == (LOGGER, "inf", 20)
    assert value_before("    ctx . ", 1, index) == (CONTEXT, "", 10)
    assert value_before("    ctx.getRequestID().", 2, index) is None  # returns str: not ours
    assert value_before("    'ctx.", 1, index) is None


def test_the_analysis_leaves_the_garbage_collector_as_it_found_it():
    import ast
    import gc

    from server.analysis.tree_index import TreeIndex

    text = "def handler(event, context):\n    context.getUserDat('x')\n    return {1}\n"
    assert gc.isenabled()
    assert [f.code for f in analyze(text, HANDLER_MODULE)] == ["unknown-method", "return-not-json"]
    assert gc.isenabled()
    gc.disable()
    try:
        analyze(text, HANDLER_MODULE)
        assert not gc.isenabled()
    finally:
        gc.enable()
    # The one walk lists every call and attribute in source order, as ast.walk finds them.
    tree = ast.parse(text * 3)
    nodes = TreeIndex(tree)
    key = lambda n: (n.lineno, n.col_offset)  # noqa: E731
    assert nodes.calls == sorted((n for n in ast.walk(tree) if isinstance(n, ast.Call)), key=key)
    assert nodes.attributes == sorted((n for n in ast.walk(tree) if isinstance(n, ast.Attribute)), key=key)
    assert len(nodes.functions) == 3
