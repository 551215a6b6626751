"""Pure-function tests of entry inference, the fglocal.json entry edit and the project's module roles."""

from __future__ import annotations

import json
from pathlib import Path

from server.analysis.diagnostics import analyze
from server.analysis.entries import entry_choices, infer_entries, set_entry_edit, top_level_functions
from server.analysis.model import Edit, ModuleContext, Roles
from server.project import load_project
from server.settings import Settings


def apply(text: str, edit: Edit) -> str:
    lines = text.split("\n")
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)
    start = offsets[edit.span.line] + edit.span.col
    end = offsets[edit.span.end_line] + edit.span.end_col
    return text[:start] + edit.new_text + text[end:]


def test_top_level_functions_on_text_that_does_not_parse():
    text = "import x\ndef handler(event, context):\n    context.\n\nasync def main_handler(req, ctx): pass\n"
    assert top_level_functions(text) == [("handler", True), ("main_handler", True)]
    assert top_level_functions("class A:\n    def handler(self, event):\n        pass\n") == []


def test_index_handler_wins_else_every_handler_shaped_function():
    index = ("index", "def handler(event, context):\n    pass\n")
    other = ("startrds", "def handler(event, context):\n    pass\n")
    assert infer_entries([other, index]) == ("index.handler",)
    helper = ("example", "def helper(a, b):\n    pass\ndef main(event, ctx):\n    pass\n")
    shaped = ("timer_sample", "def handler(evt, context):\n    pass\n")
    assert infer_entries([shaped, helper, ("index", "X = 1\n")]) == ("example.main", "timer_sample.handler")
    assert infer_entries([("util", "def add(a, b):\n    return a + b\n")]) == ()


def test_set_entry_edit_creates_replaces_and_inserts():
    edit, create = set_entry_edit(None, "handler", "app.handler")
    assert create and json.loads(apply("", edit)) == {"handler": "app.handler"}
    text = '{\n  "handler": "index.handler",\n  "runtime": "python3.9"\n}\n'
    edit, create = set_entry_edit(text, "handler", "app.handler")
    assert not create and json.loads(apply(text, edit)) == {"handler": "app.handler", "runtime": "python3.9"}
    text = '{"runtime": "python2.7"}'
    edit, _ = set_entry_edit(text, "handler", "timer_sample.handler")
    assert json.loads(apply(text, edit)) == {"handler": "timer_sample.handler", "runtime": "python2.7"}
    edit, _ = set_entry_edit("{}", "handler", "a.b")
    assert json.loads(apply("{}", edit)) == {"handler": "a.b"}
    edit, _ = set_entry_edit("not json", "handler", "a.b")
    assert json.loads(apply("not json", edit)) == {"handler": "a.b"}


def test_project_without_config_infers_and_checks_every_handler(tmp_path: Path):
    (tmp_path / "startrds.py").write_text("def handler(event, context):\n    return 1\n")
    (tmp_path / "bad.py").write_text("def handler(event):\n    return 1\n")
    project = load_project(tmp_path, Settings())
    assert project.handler == "startrds.handler" and project.explicit_entries == ()
    assert project.candidates == ("startrds.handler",)
    entry = project.module_context(tmp_path / "startrds.py")
    assert entry.entry_roles == ("handler",) and entry.required_roles == ()
    bad = project.module_context(tmp_path / "bad.py")
    assert bad.roles.handler == "handler" and bad.entry_roles == ()
    assert [f.code for f in analyze("def handler(event):\n    return 1\n", bad)] == ["handler-signature"]
    # The entry's function missing from a module nobody named is no error.
    assert analyze("def other(x):\n    return x\n", bad) == []
    assert entry_choices(["def handler(event, context):", "    return 1"], bad, 0, 0, False) == [
        "bad.handler"
    ]


def test_explicit_entry_is_required_and_not_inferred(tmp_path: Path):
    (tmp_path / "fglocal.json").write_text('{"handler": "index.handler"}')
    (tmp_path / "startrds.py").write_text("def handler(event, context):\n    return 1\n")
    project = load_project(tmp_path, Settings())
    assert project.handler == "index.handler" and project.explicit_entries == ("handler",)
    assert project.candidates == () and project.shaped_entries == ("startrds.handler",)
    index = project.module_context(tmp_path / "index.py")
    assert index.required_roles == ("handler",)
    assert [f.code for f in analyze("X = 1\n", index)] == ["entry-not-found"]


def test_objects_built_from_credentials_are_not_secrets():
    module = ModuleContext(roles=Roles(handler="handler"), module_name="index", entry_roles=("handler",))
    text = (
        "def handler(event, context):\n"
        "    creds = BasicCredentials(context.getSecurityAccessKey(), 'sk').with_security_token(\n"
        "        context.getSecurityToken())\n"
        "    client = Client.new_builder().with_credentials(creds).build()\n"
        "    response = client.start()\n"
        "    print(response.job_id)\n"
        "    print('token %s' % context.getSecurityToken())\n"
    )
    findings = [f for f in analyze(text, module) if f.code == "sensitive-logged"]
    assert [f.span.line for f in findings] == [6]
