"""server/watched_files.py: which projects and documents a batch of changed files affects (no client)."""

from __future__ import annotations

import os
from pathlib import Path

from server.watched_files import (
    WATCHED_GLOBS,
    ProjectPaths,
    affected_documents,
    affected_projects,
    is_test_event,
    resolve,
)

FN = ProjectPaths("/ws/fn", "/ws/fn/src", "/ws/fn/fglocal.json", "/ws/shared/dev.env")
OTHER = ProjectPaths("/ws/other", "/ws/other", "/ws/other/fglocal.json", None)
PROJECTS = {"/ws/fn": FN, "/ws/other": OTHER}


def test_a_change_affects_the_projects_whose_files_it_is():
    assert affected_projects(["/ws/fn/src/app.py"], PROJECTS) == {"/ws/fn"}
    assert affected_projects(["/ws/fn/fglocal.json"], PROJECTS) == {"/ws/fn"}
    assert affected_projects(["/ws/shared/dev.env"], PROJECTS) == {"/ws/fn"}  # its envFile, outside it
    assert affected_projects(["/ws/other/pkg/deep/mod.py", "/ws/fn/x.py"], PROJECTS) == {
        "/ws/fn",
        "/ws/other",
    }
    # Elsewhere in the workspace, or a folder that only starts with the same name: nothing.
    assert affected_projects(["/ws/notes.py", "/ws/fnord/app.py", "/ws/shared/other.env"], PROJECTS) == set()


def test_a_change_where_the_listing_does_not_look_affects_no_project():
    # A pip install into a venv inside the function, a vendored node_modules, caches: nothing the
    # server reads (the project listing skips those folders, server/project.py).
    skipped = [
        "/ws/fn/.venv/lib/python3.12/site-packages/six.py",
        "/ws/fn/venv/lib/python3.12/site-packages/six.py",
        "/ws/fn/src/node_modules/x/y.py",
        "/ws/fn/src/__pycache__/app.py",
        "/ws/other/lib/site-packages/six.py",
        "/ws/other/a/b/c/d/e/too_deep.py",
    ]
    assert affected_projects(skipped, PROJECTS) == set()
    assert affected_projects(["/ws/other/a/b/c/d/deep_enough.py"], PROJECTS) == {"/ws/other"}
    assert affected_projects(
        ["/ws/fn/.config/dev.env"],
        {"/ws/fn": ProjectPaths("/ws/fn", "/ws/fn", "/ws/fn/fglocal.json", "/ws/fn/.config/dev.env")},
    ) == {"/ws/fn"}  # its envFile, wherever it is


def test_a_document_is_affected_through_its_project_or_a_folder_above_it():
    documents = {
        "file:///ws/fn/src/app.py": ("/ws/fn/src", "/ws/fn"),
        "file:///ws/loose/deep/mod.py": ("/ws/loose/deep", "/ws/loose/deep"),
        "file:///ws/unknown.py": ("/ws", None),  # published before its project was known
    }
    # A .py (or fglocal.json) in a folder above a document can make that folder its function.
    assert affected_documents(["/ws/loose/index.py"], documents, set()) == {
        "file:///ws/loose/deep/mod.py",
        "file:///ws/unknown.py",
    }
    assert affected_documents(["/ws/loose/fglocal.json"], documents, set()) == {
        "file:///ws/loose/deep/mod.py",
        "file:///ws/unknown.py",
    }
    # A test event or an env file above it does not; its own project's change does.
    assert affected_documents(["/ws/loose/events/a.json"], documents, set()) == {"file:///ws/unknown.py"}
    assert affected_documents(["/ws/shared/dev.env"], documents, {"/ws/fn"}) == {
        "file:///ws/fn/src/app.py",
        "file:///ws/unknown.py",
    }
    # Below the document (not above it): only a project change could matter.
    assert affected_documents(["/ws/loose/deep/sub/x.py"], {"u": ("/ws/loose/deep", "/p")}, set()) == set()


def test_changed_paths_are_resolved_through_their_folder(tmp_path: Path):
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    # A deleted file has no real path of its own: its folder's is used.
    assert resolve([str(tmp_path / "link" / "gone.py")]) == [os.path.join(os.path.realpath(real), "gone.py")]


def test_test_events_and_the_registered_globs():
    assert is_test_event("file:///ws/fn/events/apig.json")
    assert not is_test_event("file:///ws/fn/fglocal.json")
    assert not is_test_event("file:///ws/fn/events/deep/apig.json")
    assert WATCHED_GLOBS == ("**/*.py", "**/fglocal.json", "**/events/*.json")
