"""Parsing a module run by run of top-level statements gives the whole-module parse's tree and errors."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from server.analysis import chunks
from server.analysis.parsing import parse_module
from server.analysis.text import split_lines

# Every way a column-0 line can belong to the statement before it, each followed by a real start.
TRICKY = "\n".join(
    [
        '"""Module docstring.',
        "def not_a_function():",
        'x = "not code either"',
        '"""',
        "import os",
        "",
        "",
        "@decorator",
        "@other(",
        "1)",
        "def decorated():",
        "    return 1",
        "",
        "",
        "if os.sep:",
        "    a = 1",
        "elif os.name:",
        "    a = 2",
        "else:",
        "    a = 3",
        "try:",
        "    b = (1,",
        "2)",
        "except OSError:",
        "    pass",
        "finally:",
        "    c = [",
        '"]",',
        "    ]",
        "d = 1 + \\",
        "2",
        "e = 'it''s' \"a \\\" quote\" + r'\\\\' + f\"{'#'}\"  # comment with ' and \"\"\"",
        "# a column-0 comment with ''' in it",
        'f = """one',
        "line = 'two'",
        "\"\"\" + '''x'''",
        "g = {",
        "}",
        "class K:",
        "    pass",
        "",
    ]
)

STARTS = [
    '"""Module',
    "import os",
    "@decorator",
    "if os.sep",
    "try:",
    "d = 1",
    "e = ",
    "f = ",
    "g = {",
    "class K",
]


def test_statement_starts_are_only_the_lines_that_begin_a_top_level_statement():
    lines = split_lines(TRICKY)
    starts = chunks.statement_starts(TRICKY, lines)
    assert [lines[n] for n in starts] == [next(x for x in lines if x.startswith(s)) for s in STARTS]


def test_parsing_each_run_on_its_own_gives_the_whole_module_tree():
    lines = split_lines(TRICKY)
    parts = chunks.runs(TRICKY, lines, size=1)
    assert len(parts) == len(STARTS)
    body = []
    for start, end in parts:
        body += ast.parse("\n" * start + "\n".join(lines[start:end])).body
    whole = ast.parse(TRICKY)
    assert ast.dump(ast.Module(body=body, type_ignores=[]), include_attributes=True) == ast.dump(
        whole, include_attributes=True
    )


def big_module(copies: int = 20) -> str:
    return "\n".join([TRICKY] * copies) + "\ndef handler(event, context):\n    return 1\n"


def test_a_large_module_is_parsed_in_runs_into_the_same_tree():
    text = big_module()
    lines = split_lines(text)
    assert len(chunks.runs(text, lines)) > 2
    parsed = parse_module(text, lines, (3, 9))
    assert parsed.findings == [] and parsed.tree is not None
    assert ast.dump(parsed.tree, include_attributes=True) == ast.dump(
        ast.parse(text), include_attributes=True
    )


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        ("    return context.\n", "invalid syntax"),
        ('    value = event["\n', "unterminated string literal"),
        ('    doc = """never closed\n', "unterminated triple-quoted string"),
        ("    value = call(1,\n", "was never closed"),
    ],
)
def test_a_syntax_error_in_a_late_run_is_reported_on_its_line(broken: str, message: str):
    text = big_module() + "def late(event, context):\n" + broken
    lines = split_lines(text)
    error_line = len(lines) - 2 if text.endswith("\n") else len(lines) - 1
    assert lines[error_line] == broken.rstrip("\n")
    parsed = parse_module(text, lines, (3, 9))
    errors = [f for f in parsed.findings if f.code == "syntax-error"]
    assert len(errors) == 1 and message in errors[0].message, parsed.findings
    assert errors[0].span.line == error_line
    assert parsed.tree is not None and any(
        isinstance(node, ast.FunctionDef) and node.name == "handler" for node in parsed.tree.body
    )


REPO = Path(__file__).resolve().parent.parent
SOURCES = sorted(
    path
    for folder in ("fglocal", "server", "debug_adapter", "tests", "bench")
    for path in (REPO / folder).rglob("*.py")
)


def test_every_module_of_this_repository_splits_into_runs_that_parse_to_its_tree():
    checked = 0
    for path in SOURCES:
        text = path.read_text(encoding="utf-8")
        try:
            whole = ast.parse(text)
        except SyntaxError:
            continue  # a deliberately broken fixture (or Python 2 code)
        lines = split_lines(text)
        body = []
        for start, end in chunks.runs(text, lines, size=1):
            body += ast.parse("\n" * start + "\n".join(lines[start:end])).body
        tree = ast.Module(body=body, type_ignores=[])
        assert ast.dump(tree, include_attributes=True) == ast.dump(whole, include_attributes=True), path
        checked += 1
    assert checked > 50


@pytest.mark.parametrize("opening", ["'''", '"""', "'", '"'])
def test_an_unterminated_string_ending_in_a_backslash_is_split_and_reported(opening: str):
    # The backslash is the text's last character, inside a string that never ends: the string runs to
    # the end of the text (or of its line). This once made the split backtrack exponentially in the
    # words before it and never return (the suite's timeout is the limit here, not a timing assertion).
    text = "import os\nx = " + opening + "a b " * 40 + "\\"
    lines = split_lines(text)
    assert chunks.statement_starts(text, lines) == [0, 1]
    parsed = parse_module(text, lines, (3, 9))
    errors = [f for f in parsed.findings if f.code == "syntax-error"]
    assert len(errors) == 1 and errors[0].span.line == 1, parsed.findings


def test_the_line_scan_splits_inside_strings_and_brackets_only_where_a_run_then_fails():
    # likely_starts takes column-0 lines inside strings and brackets too: such a split never parses,
    # so the exact statement starts decide (and the module's tree comes out all the same).
    from server.analysis.parsing import _parse_runs

    lines = split_lines(TRICKY)
    quick = chunks.likely_starts(lines)
    assert set(chunks.statement_starts(TRICKY, lines)) < set(quick)
    with pytest.raises(SyntaxError):
        _parse_runs(lines, chunks.runs(TRICKY, lines, size=1, starts=quick), None)
    parsed = parse_module(big_module(), split_lines(big_module()), (3, 9))
    assert ast.dump(parsed.tree, include_attributes=True) == ast.dump(
        ast.parse(big_module()), include_attributes=True
    )


def test_when_every_run_of_the_line_scan_parses_the_tree_is_the_modules():
    from server.analysis.parsing import _parse_runs

    quick_trees = 0
    for path in SOURCES:
        text = path.read_text(encoding="utf-8")
        try:
            whole = ast.parse(text)
        except SyntaxError:
            continue
        lines = split_lines(text)
        parts = chunks.runs(text, lines, size=1, starts=chunks.likely_starts(lines))
        try:
            tree = _parse_runs(lines, parts, None)
        except SyntaxError:
            continue  # a split inside a string or brackets: the exact starts take over
        assert ast.dump(tree, include_attributes=True) == ast.dump(whole, include_attributes=True), path
        quick_trees += 1
    assert quick_trees > 50
