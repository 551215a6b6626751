"""Which files the server watches, and what a change of them can affect (``workspace/didChangeWatchedFiles``).

What a function's analysis reads from disk (:mod:`server.project`): its ``fglocal.json`` and the
``envFile`` it names, the file list of its code root (``.py`` files, and top-level names for the
standard-library shadowing check), the text of the code root's top-level modules (the inferred entry),
and, for a document without a config, the ``.py`` files of the folders above it (which folder is
its function). Test events (``events/*.json``) give the keys completed after ``event["``. Those are
what the server asks the client to watch, with ``client/registerCapability``, so that a change made
outside the editor (``git checkout``, a formatter, another tool) reaches it.

A batch of changes is mapped to the projects and documents it touches with string comparisons of
real paths only: nothing is read or analysed here, and a change elsewhere in a big workspace costs a
few comparisons.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Set, Tuple

from fglocal.config import CONFIG_FILE_NAME
from fglocal.contract import EVENTS_DIR
from server.project import listed_under

# The globs registered for every workspace; each project's envFile is registered by its path.
WATCHED_GLOBS = ("**/*.py", "**/" + CONFIG_FILE_NAME, "**/%s/*.json" % EVENTS_DIR)
REGISTRATION_ID = "functiongraph-watched-files"
ENV_REGISTRATION_ID = "functiongraph-env-files"


@dataclass(frozen=True)
class ProjectPaths:
    """The real paths of one project that a changed file can be relevant to."""

    folder: str
    code_root: str
    config_file: str
    env_file: Optional[str]


def resolve(paths: Iterable[str]) -> List[str]:
    """Real paths of changed files (their folder resolved: a deleted file has no real path of its own)."""
    parents: Dict[str, str] = {}
    resolved = []
    for path in paths:
        parent, name = os.path.split(path)
        real_parent = parents.get(parent)
        if real_parent is None:
            real_parent = parents[parent] = os.path.realpath(parent)
        resolved.append(os.path.join(real_parent, name))
    return resolved


def is_test_event(path: str) -> bool:
    """Whether ``path`` is where a function's test event is (``<folder>/events/<name>.json``)."""
    return path.endswith(".json") and os.path.basename(os.path.dirname(path)) == EVENTS_DIR


def _within(path: str, folder: str) -> bool:
    return path.startswith(folder.rstrip(os.sep) + os.sep)


def _seen_below(path: str, folder: str) -> bool:
    """Whether ``path`` is below ``folder`` where a project's listing looks.

    Not in .venv/, a site-packages, node_modules, ...: a ``pip install`` there changes nothing the
    server reads.
    """
    if not _within(path, folder):
        return False
    return listed_under(path[len(folder.rstrip(os.sep)) + 1 :].split(os.sep)[:-1])


def affected_projects(paths: Sequence[str], projects: Mapping[str, ProjectPaths]) -> Set[str]:
    """The folders of the ``projects`` that a change of any of ``paths`` can change.

    A project reads its config and env file, and lists (and reads) files under its folder and code
    root, outside the folders its listing skips: a change there may change its file list, its
    inferred entry or its config error.
    """
    found = set()
    for folder, project in projects.items():
        for path in paths:
            if (
                path == project.config_file
                or path == project.env_file
                or _seen_below(path, project.folder)
                or _seen_below(path, project.code_root)
            ):
                found.add(folder)
                break
    return found


def affected_documents(
    paths: Sequence[str], documents: Mapping[str, Tuple[str, Optional[str]]], folders: Set[str]
) -> Set[str]:
    """The document URIs whose module context a change of ``paths`` can change.

    ``documents``: URI → (real folder of the document, folder of the project it was analysed in, or
    None when unknown). A document is affected when its project is among ``folders``, or when a
    ``.py`` file or a ``fglocal.json`` changed in its folder or a folder above it (which decides
    what its function folder is); one whose project is unknown is affected by any change.
    """
    finders = {
        os.path.dirname(p) for p in paths if p.endswith(".py") or os.path.basename(p) == CONFIG_FILE_NAME
    }
    found = set()
    for uri, (directory, project) in documents.items():
        if project is None or project in folders:
            found.add(uri)
        elif any(directory == finder or _within(directory, finder) for finder in finders):
            found.add(uri)
    return found


def paths_of(
    project_folder: Path, code_root: Path, config_file: Path, env_file: Optional[Path]
) -> ProjectPaths:
    """A project's :class:`ProjectPaths` (its folder and code root are real paths already)."""
    return ProjectPaths(
        str(project_folder), str(code_root), str(config_file), str(env_file) if env_file is not None else None
    )
