"""Choosing the debugpy release from the debuggee's Python version, and finding debugpy 1.5.1."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from debug_adapter import debugpy_releases
from debug_adapter.debugpy_releases import (
    CURRENT_MIN_PYTHON,
    LEGACY_ENV,
    LEGACY_VERSION,
    ReleaseError,
    current_release,
    find_legacy,
    legacy_supports,
    read_version,
    release_for,
)
from fglocal.contract import RUNTIMES, runtime_version


def test_the_installed_legacy_release_declares_python_2_7_and_3_5_to_3_9() -> None:
    """`make` installs 1.5.1 beside the venv; its own metadata is the claim this project relies on."""
    release = find_legacy()
    assert release.version == LEGACY_VERSION and release.legacy
    metadata = (Path(release.folder) / ("debugpy-%s.dist-info" % LEGACY_VERSION) / "METADATA").read_text()
    declared = {
        line.split("::")[-1].strip()
        for line in metadata.splitlines()
        if line.startswith("Classifier: Programming Language :: Python :: ")
    }
    assert declared == {"2.7", "3.5", "3.6", "3.7", "3.8", "3.9"}
    assert all(legacy_supports(tuple(int(p) for p in v.split("."))) for v in declared)  # type: ignore[arg-type]
    assert not legacy_supports((3, 10)) and not legacy_supports((3, 4))


def test_every_runtime_is_debugged_by_a_release_that_declares_its_python() -> None:
    release = current_release()
    metadata = (Path(release.folder) / ("debugpy-%s.dist-info" % release.version) / "METADATA").read_text()
    required = re.search(r"^Requires-Python: >=(\d+)\.(\d+)$", metadata, re.M)
    assert required is not None, metadata[:500]
    minimum = (int(required.group(1)), int(required.group(2)))
    versions = [runtime_version(r) for r in RUNTIMES]
    below = {v for v in versions if not release_for(v).legacy and v < minimum}
    assert below == set(), "debugpy %s declares Python >= %d.%d" % (release.version, *minimum)
    assert minimum <= CURRENT_MIN_PYTHON  # what release_for relies on


@pytest.mark.parametrize(
    ("runtime", "legacy"),
    [((2, 7), True), ((3, 6), True), ((3, 9), False), ((3, 10), False), ((3, 12), False)],
)
def test_each_runtime_gets_the_release_that_supports_it(runtime: tuple, legacy: bool) -> None:
    release = release_for(runtime)
    assert release.legacy is legacy
    assert read_version(release.folder) == release.version
    if not legacy:
        import debugpy

        assert release.version == debugpy.__version__


def test_a_python_no_release_supports_is_refused() -> None:
    with pytest.raises(ReleaseError, match=r"no debugpy release debugs Python 3\.4"):
        release_for((3, 4))


def test_the_environment_variable_names_the_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = Path(find_legacy().folder)
    link = tmp_path / "elsewhere"
    link.symlink_to(real, target_is_directory=True)
    monkeypatch.setenv(LEGACY_ENV, str(link))
    assert find_legacy().folder == str(link)


def test_missing_legacy_release_says_how_to_provide_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(LEGACY_ENV, str(tmp_path / "nothing-here"))
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "venv"))
    monkeypatch.setattr(debugpy_releases, "__file__", str(tmp_path / "a" / "b" / "debugpy_releases.py"))
    with pytest.raises(ReleaseError) as caught:
        release_for((2, 7))
    message = str(caught.value)
    assert "Python 2.7 function needs debugpy 1.5.1" in message
    assert 'pip install --target "%s" debugpy==1.5.1' % (tmp_path / "venv" / "debugpy-1.5.1") in message
    assert LEGACY_ENV in message and str(tmp_path / "nothing-here") in message
