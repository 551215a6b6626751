"""The function contract is defined once (fglocal/contract.py); every generated copy must match it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from fglocal import contract
from fglocal.config import ConfigError, load_config


def test_generated_copies_are_current() -> None:
    stale = contract.stale_files()
    assert stale == [], "regenerate with: python -m fglocal.contract --write (stale: %s)" % stale


def test_check_command_reports_a_stale_copy(tmp_path, monkeypatch) -> None:
    copy = tmp_path / "fglocal.schema.json"
    copy.write_text('{"stale": true}\n', encoding="utf-8")
    monkeypatch.setattr(contract, "CONFIG_SCHEMA_FILE", str(copy))
    assert contract.stale_files() == [str(copy)]
    assert contract.main(["--check"]) == 1
    assert contract.main(["--write"]) == 0
    assert json.loads(copy.read_text(encoding="utf-8")) == contract.config_schema()
    assert str(copy) not in contract.stale_files()


def test_check_command_runs_as_a_module() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "fglocal.contract", "--check"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


def test_schemas_carry_the_contracts_enums() -> None:
    with open(contract.LAUNCH_SCHEMA_FILE, encoding="utf-8") as handle:
        launch = json.load(handle)["properties"]
    with open(contract.PACKAGE_JSON_FILE, encoding="utf-8") as handle:
        manifest = json.load(handle)
    assert launch["runtime"]["enum"] == list(contract.RUNTIMES)
    assert launch["memorySize"]["enum"] == list(contract.MEMORY_SIZES)
    assert (launch["timeout"]["minimum"], launch["timeout"]["maximum"]) == contract.TIMEOUT_RANGE
    setting = manifest["contributes"]["configuration"]["properties"]["functiongraph.runtime"]
    assert setting["enum"] == ["", *contract.RUNTIMES]
    assert len(setting["enumDescriptions"]) == len(setting["enum"])
    attributes = manifest["contributes"]["debuggers"][0]["configurationAttributes"]["launch"]["properties"]
    assert attributes["runtime"]["enum"] == list(contract.RUNTIMES)
    with open(contract.TS_CONSTANTS_FILE, encoding="utf-8") as handle:
        assert "'python2.7'" not in handle.read()  # generated with JSON quoting, not hand-written


def test_every_config_field_is_in_the_schema_and_read_by_load_config(tmp_path) -> None:
    schema = contract.config_schema()["properties"]
    assert set(schema) == set(contract.FIELDS)
    (tmp_path / "index.py").write_text("def handler(event, context):\n    return 1\n")
    for name in ("memorySize", "runtime", "timeout", "initializerTimeout"):
        (tmp_path / "fglocal.json").write_text(json.dumps({name: "bad"}))
        with pytest.raises(ConfigError) as caught:
            load_config(tmp_path)
        assert caught.value.field == name


@pytest.mark.parametrize(
    ("entry", "files"),
    [
        ("index.handler", ("index.py", "index/__init__.py", "index.pyc")),
        ("pkg.sub.mod.main", ("pkg/sub/mod.py", "pkg/sub/mod/__init__.py", "pkg/sub/mod.pyc")),
    ],
)
def test_entry_files(entry: str, files: tuple, tmp_path) -> None:
    assert contract.entry_files(entry) == files
    assert contract.find_entry_file(str(tmp_path), entry) is None
    target = tmp_path.joinpath(*files[1].split("/"))
    target.parent.mkdir(parents=True)
    target.write_text("")
    assert contract.find_entry_file(str(tmp_path), entry) == os.path.join(str(tmp_path), *files[1].split("/"))


def test_runtime_versions() -> None:
    assert [contract.runtime_version(r) for r in contract.RUNTIMES] == [
        (2, 7),
        (3, 6),
        (3, 9),
        (3, 10),
        (3, 12),
    ]
    assert all(contract.runtime_name(contract.runtime_version(r)) == r for r in contract.RUNTIMES)
    with pytest.raises(ValueError):
        contract.runtime_version("nodejs14")
