"""fglocal deploy end to end: the real command and SDK against the signature-checking test API."""

from __future__ import annotations

import base64
import hashlib
import json

from cloud_support import cloud_fixture, make_function, requests_text  # noqa: F401
from fg_api_server import SK

CONFIG = {
    "functionName": "hello",
    "app": "demo",
    "runtime": "python3.9",
    "handler": "index.handler",
    "initializer": "index.init",
    "initializerTimeout": 5,
    "memorySize": 256,
    "timeout": 10,
    "userData": {"GREETING": "hi"},
    "envFile": "local.env",
    "python": "/opt/my-local/python3.9",
    "credentials": {"accessKey": "LOCAL-AGENCY-AK-1234", "secretKey": "LOCAL-AGENCY-SK-5678"},
}
CODE = "def init(context):\n    pass\n\n\ndef handler(event, context):\n    return event\n"


def _function(tmp_path, **changes):
    config = dict(CONFIG, **changes)
    folder = make_function(tmp_path / "fn", config, CODE)
    (folder / "local.env").write_text("DB_PASSWORD=from-the-env-file\n")
    return folder


def _deploy(cloud, folder, *extra):
    return cloud.run("deploy", "--code-dir", str(folder), "--json", *extra)


def test_create_sends_the_config_and_the_package_bytes(cloud, tmp_path):
    folder = _function(tmp_path)
    run = _deploy(cloud, folder)
    assert run.returncode == 0, run
    report = run.json()
    assert report["created"] and report["codeUpdated"] and report["configUpdated"]
    assert report["functionUrn"] == cloud.api.urn("hello", "demo")
    assert report["version"] is None
    (create,) = cloud.api.calls("POST", "/fgs/functions")
    body = create.json()
    assert body["func_name"] == "hello" and body["package"] == "demo"
    assert body["runtime"] == "Python3.9" and body["handler"] == "index.handler"
    assert body["memory_size"] == 256 and body["timeout"] == 10
    assert body["initializer_handler"] == "index.init" and body["initializer_timeout"] == 5
    assert json.loads(body["user_data"]) == {"GREETING": "hi", "DB_PASSWORD": "from-the-env-file"}
    assert body["code_type"] == "zip" and body["code_filename"] == "hello.zip"
    # The same bytes as fglocal package.
    out = tmp_path / "pkg.zip"
    assert cloud.run("package", "--code-dir", str(folder), "--out", str(out)).returncode == 0
    assert base64.b64decode(body["func_code"]["file"]) == out.read_bytes()
    # Local-only fields are never sent.
    sent = create.body.decode()
    for local in (
        "python",
        "codeUri",
        "envFile",
        "/opt/my-local",
        "local.env",
        "LOCAL-AGENCY",
        "credentials",
    ):
        assert local not in json.dumps(sorted(body)) and local not in sent.replace("python3", "")


def test_nothing_changed_uploads_nothing(cloud, tmp_path):
    folder = _function(tmp_path)
    assert _deploy(cloud, folder).returncode == 0
    before = len(cloud.api.requests)
    run = _deploy(cloud, folder)
    assert run.returncode == 0, run
    report = run.json()
    assert not report["created"] and not report["codeUpdated"] and not report["configUpdated"]
    # list, show config, show code: nothing written
    assert [r.method for r in cloud.api.requests[before:]] == ["GET", "GET", "GET"]


def test_code_only(cloud, tmp_path):
    folder = _function(tmp_path)
    assert _deploy(cloud, folder).returncode == 0
    (folder / "index.py").write_text(CODE + "# changed\n")
    report = _deploy(cloud, folder).json()
    assert report["codeUpdated"] and not report["configUpdated"]
    (put,) = cloud.api.calls("PUT")
    assert put.path.endswith("/code")
    assert b"# changed" in _unzipped(cloud.api.code[cloud.api.urn("hello", "demo")])


def test_config_only(cloud, tmp_path):
    folder = _function(tmp_path)
    assert _deploy(cloud, folder).returncode == 0
    _function(tmp_path, memorySize=512, userData={"GREETING": "hello"})
    run = cloud.run("deploy", "--code-dir", str(folder))
    assert run.returncode == 0, run
    assert "code unchanged" in run.stdout
    assert "configuration updated: memorySize, userData" in run.stdout
    assert "hello" not in run.stdout.replace("function urn", "").split("\n", 1)[1]  # no user-data value
    (put,) = cloud.api.calls("PUT")
    assert put.path.endswith("/config")
    body = put.json()
    assert body["memory_size"] == 512 and json.loads(body["user_data"])["GREETING"] == "hello"
    assert "func_code" not in body and "python" not in body


def test_publish(cloud, tmp_path):
    folder = _function(tmp_path)
    report = _deploy(cloud, folder, "--publish", "first release").json()
    assert report["version"] == "1"
    (post,) = cloud.api.calls("POST", "/versions")
    zip_bytes = cloud.api.code[cloud.api.urn("hello", "demo")]
    assert post.json() == {"digest": hashlib.sha512(zip_bytes).hexdigest(), "description": "first release"}
    run = cloud.run("deploy", "--code-dir", str(folder), "--publish")
    assert run.returncode == 0 and "published version 2" in run.stdout


def test_half_done_is_said(cloud, tmp_path):
    folder = _function(tmp_path)
    assert _deploy(cloud, folder).returncode == 0
    _function(tmp_path, timeout=20)
    (folder / "index.py").write_text(CODE + "# new\n")
    cloud.api.fail_next("PUT", "/config$", 403, "FSS.0403", "no permission to update")
    run = cloud.run("deploy", "--code-dir", str(folder))
    assert run.returncode == 1
    assert "NOT finished: the code was uploaded" in run.stderr
    assert "FSS.0403" in run.stderr and "no permission to update" in run.stderr and "permission" in run.stderr
    cloud.api.fail_next("PUT", "/config$", 403, "FSS.0403", "no permission to update")
    report = _deploy(cloud, folder).json()
    assert report["codeUpdated"] is False and report["configUpdated"] is False
    assert report["error"]["status"] == 403 and report["error"]["requestId"].startswith("req-")


def test_refusals_send_nothing(cloud, tmp_path):
    folder = _function(tmp_path, timeout=2)
    run = _deploy(cloud, folder)
    assert run.returncode == 1 and "3-900" in run.stderr
    folder = _function(tmp_path, handler="missing.handler")
    run = _deploy(cloud, folder)
    assert run.returncode == 1 and "nothing was deployed" in run.stderr
    assert cloud.api.requests == []


def test_errors_and_no_credentials_anywhere(cloud, tmp_path):
    folder = _function(tmp_path)
    for status, code in ((401, "APIGW.0301"), (404, "FSS.1051"), (429, "FSS.0429"), (500, "FSS.0500")):
        cloud.api.fail_next("GET", "/functions$", status, code, times=4 if status >= 429 else 1)
        run = cloud.run("deploy", "--code-dir", str(folder))
        assert run.returncode == 1 and code in run.stderr and "what to do:" in run.stderr, run
    cloud.env["HUAWEICLOUD_SDK_SK"] = "a-wrong-secret-key-" + "Q" * 8
    run = _deploy(cloud, folder)
    assert run.returncode == 1 and run.json()["error"]["status"] == 401
    assert "QQQQQQQQ" not in run.stdout + run.stderr
    # The secret key signs requests; it never travels in one.
    assert not any(SK in text or "QQQQQQQQ" in text for text in requests_text(cloud))


def test_a_zip_over_the_api_limit_is_refused_before_sending(cloud, tmp_path):
    import os

    from fglocal.package import API_ZIP_LIMIT

    folder = _function(tmp_path)
    (folder / "blob.bin").write_bytes(os.urandom(API_ZIP_LIMIT + 1024))  # incompressible
    run = _deploy(cloud, folder)
    assert run.returncode == 1, run
    assert "over the 50.0 MB the API accepts" in run.json()["error"]["message"]
    assert "OBS" in run.json()["error"]["hint"]
    assert cloud.api.requests == []


def test_cancel_midway_says_what_was_done(cloud, tmp_path):
    """SIGTERM is what the extension's Cancel sends; Ctrl+C (SIGINT) takes the same path."""
    import signal

    folder = _function(tmp_path)
    assert _deploy(cloud, folder).returncode == 0
    _function(tmp_path, timeout=20)
    (folder / "index.py").write_text(CODE + "# new\n")
    for sig, extra in ((signal.SIGTERM, ()), (signal.SIGINT, ("--json",))):
        reached, release = cloud.api.stall_next("PUT", "/config$")
        proc = cloud.start("deploy", "--code-dir", str(folder), *extra)
        assert reached.wait(60)
        proc.send_signal(sig)
        run = cloud.finish(proc)
        release.set()
        assert run.returncode == 130, run
        assert "interrupted while updating the configuration (the platform may or may not have done it)" in (
            run.stderr
        )
        assert "NOT finished: the code was uploaded" in run.stderr and "run the command again" in run.stderr
        if extra:
            error = run.json()["error"]
            assert error["done"] == "the code was uploaded" and run.json()["codeUpdated"] is True
        (folder / "index.py").write_text(CODE + "# newer\n")


def _unzipped(data: bytes) -> bytes:
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return b"".join(archive.read(name) for name in archive.namelist())


def test_with_deps_uploads_the_bytes_package_writes(cloud, tmp_path):
    from test_package import _tiny_wheel

    wheels = tmp_path / "wheels"
    wheels.mkdir()
    _tiny_wheel(wheels, "tinydep", {"tinydep/__init__.py": "VALUE = 42\n"})
    folder = _function(tmp_path)
    # --with-deps runs the runtime's pip: drop the made-up interpreter path of CONFIG.
    config = {k: v for k, v in CONFIG.items() if k != "python"}
    (folder / "fglocal.json").write_text(json.dumps(config))
    (folder / "requirements.txt").write_text("tinydep==1.0\n")
    pip = ["--pip-arg=--no-index", f"--pip-arg=--find-links={wheels}"]
    # Without --with-deps the upload lacks the dependency, and the deploy says so (package's warning).
    plain = _deploy(cloud, folder)
    assert plain.returncode == 0, plain
    assert any("--with-deps" in w for w in plain.json()["warnings"])
    assert "tinydep/__init__.py" not in _names(cloud.api.code[cloud.api.urn("hello", "demo")])
    run = _deploy(cloud, folder, "--with-deps", *pip)
    assert run.returncode == 0, run
    report = run.json()  # stdout is the one JSON object; pip's progress went to stderr
    assert report["codeUpdated"] and not report["configUpdated"] and report["warnings"] == []
    assert "installing dependencies" in run.stderr
    uploaded = cloud.api.code[cloud.api.urn("hello", "demo")]
    assert "tinydep/__init__.py" in _names(uploaded)
    out = tmp_path / "pkg.zip"
    packaged = cloud.run(
        "package", "--code-dir", str(folder), "--with-deps", "--out", str(out), "--json", *pip
    )
    assert packaged.returncode == 0, packaged
    assert json.loads(packaged.stdout)["zip"] == str(out)  # --json: only the report on stdout
    assert out.read_bytes() == uploaded
    # The same bytes again: nothing uploaded.
    assert not _deploy(cloud, folder, "--with-deps", *pip).json()["codeUpdated"]
    # pip's failure refuses the deploy before anything is sent.
    before = len(cloud.api.requests)
    failed = cloud.run("deploy", "--code-dir", str(folder), "--with-deps", "--pip-arg=--no-index")
    assert failed.returncode == 1 and "pip could not install" in failed.stderr
    assert "nothing was deployed" in failed.stderr and len(cloud.api.requests) == before


def test_deploy_and_package_share_the_packaging_options():
    from fglocal.cli import build_parser

    def options(command):
        (sub,) = [a for a in build_parser()._actions if a.dest == "command"]
        parser = sub.choices[command]
        return {flag for action in parser._actions for flag in action.option_strings}

    only_package = {"--out", "--dry-run"}  # where to write; deploy uploads
    assert options("package") - only_package <= options("deploy")


def test_publish_followed_by_an_entry_is_refused(cloud, tmp_path):
    folder = _function(tmp_path)
    (folder / "other.py").write_text("def main(event, context):\n    return 1\n")
    run = cloud.run("deploy", "--code-dir", str(folder), "--publish", "other.main")
    assert run.returncode == 2, run
    assert "fglocal deploy other.main --publish" in run.stderr and "DESCRIPTION" in run.stderr
    assert cloud.api.requests == []
    # ENTRY first: that entry is deployed and published, with no description.
    run = _deploy(cloud, folder, "other.main", "--publish")
    assert run.returncode == 0 and run.json()["version"] == "1", run
    assert cloud.api.functions[cloud.api.urn("hello", "demo")]["handler"] == "other.main"
    assert cloud.api.calls("POST", "/versions")[-1].json()["description"] == ""
    # With ENTRY given, a description that reads like an entry is a description.
    run = _deploy(cloud, folder, "other.main", "--publish", "index.handler")
    assert run.returncode == 0 and cloud.api.calls("POST", "/versions")[-1].json()["description"] == (
        "index.handler"
    )
    # A description that names no handler of the folder is a description, ENTRY or not.
    run = _deploy(cloud, folder, "--publish", "release.candidate")
    assert run.returncode == 0 and cloud.api.calls("POST", "/versions")[-1].json()["description"] == (
        "release.candidate"
    )
    assert "--publish ENTRY reads ENTRY as the DESCRIPTION" in " ".join(
        cloud.run("deploy", "--help").stdout.split()
    )


def test_every_optional_value_option_is_checked_against_entry():
    """The class of `--publish ENTRY`: every option whose value may be left out, in every command."""
    import argparse

    from fglocal.cli import build_parser

    def parsers(parser):
        yield parser
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub in action.choices.values():
                    yield from parsers(sub)

    found = []
    for parser in parsers(build_parser()):
        checked = {dest for _, _, dest, _ in parser.get_default("optional_values") or ()}
        for action in parser._actions:
            if action.option_strings and action.nargs == "?":
                found.append(action.dest)
                assert action.dest in checked, f"{parser.prog} {action.option_strings}: not checked"
    assert "publish" in found


def _names(data: bytes) -> list:
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.namelist()


def test_a_create_performed_but_answered_5xx_continues_as_an_update(cloud, tmp_path):
    """The retry of the create is refused (409 FSS.0409): the function is read back and compared."""
    folder = _function(tmp_path)
    cloud.api.fail_after_next("POST", "/fgs/functions$", 502, "FSS.0502", "bad gateway")
    run = _deploy(cloud, folder)
    assert run.returncode == 0, run
    report = run.json()
    assert report["created"] and report["functionUrn"] == cloud.api.urn("hello", "demo")
    (note,) = report["notes"]
    assert "the create request was answered HTTP 502 FSS.0502 (request ID req-" in note
    assert "had been performed" in note and "read back and compared" in note
    assert len(cloud.api.calls("POST", "/fgs/functions")) == 2 and len(cloud.api.functions) == 1
    # Read back: the same digest and configuration, so nothing is sent again.
    assert cloud.api.calls("PUT") == []
    assert [r.method for r in cloud.api.requests[-3:]] == ["GET", "GET", "GET"]
    # In text, the note is said.
    _function(tmp_path, functionName="second")
    cloud.api.fail_after_next("POST", "/fgs/functions$", 500, "FSS.0500")
    text = cloud.run("deploy", "--code-dir", str(folder))
    assert text.returncode == 0 and "note: the create request was answered HTTP 500" in text.stdout


def test_a_create_refused_as_existing_without_a_5xx_is_an_error(cloud, tmp_path):
    """Only a retry after a 5xx can be its own earlier attempt: a first 409 is reported."""
    folder = _function(tmp_path)
    cloud.api.fail_next("POST", "/fgs/functions$", 409, "FSS.0409", "The specified resource already exists.")
    run = _deploy(cloud, folder)
    assert run.returncode == 1 and run.json()["error"]["errorCode"] == "FSS.0409"
    assert run.json()["created"] is False and len(cloud.api.calls("POST", "/fgs/functions")) == 1


def test_a_code_upload_performed_but_answered_5xx_is_checked_by_its_digest(cloud, tmp_path):
    """The platform refuses the package it already has (409 FSS.0409): after a 5xx, the upload was done."""
    folder = _function(tmp_path)
    assert _deploy(cloud, folder).returncode == 0
    (folder / "index.py").write_text(CODE + "# changed\n")
    cloud.api.fail_after_next("PUT", "/code$", 503, "FSS.0503", "busy")
    run = _deploy(cloud, folder)
    assert run.returncode == 0, run
    report = run.json()
    assert report["codeUpdated"] and not report["configUpdated"]
    (note,) = report["notes"]
    assert "the code upload was answered HTTP 503 FSS.0503" in note and "digest was checked" in note
    assert len(cloud.api.calls("PUT", "/code")) == 2
    assert b"# changed" in _unzipped(cloud.api.code[cloud.api.urn("hello", "demo")])
    # A configuration update answered 5xx is retried as it is: the same body twice is one change.
    _function(tmp_path, memorySize=1024)
    cloud.api.fail_after_next("PUT", "/config$", 500, "FSS.0500")
    report = _deploy(cloud, folder).json()
    assert report["configUpdated"] and report["changedFields"] == ["memorySize"] and report["notes"] == []
    assert len(cloud.api.calls("PUT", "/config")) == 2
    assert cloud.api.functions[cloud.api.urn("hello", "demo")]["memory_size"] == 1024


def test_a_publish_answered_5xx_is_not_retried(cloud, tmp_path):
    """A retried publish could publish a second version: it is reported, saying what may have happened."""
    folder = _function(tmp_path)
    assert _deploy(cloud, folder).returncode == 0
    cloud.api.fail_after_next("POST", "/versions$", 500, "FSS.0500", "internal error")
    run = _deploy(cloud, folder, "--publish", "v1")
    assert run.returncode == 1, run
    error = run.json()["error"]
    assert "not retried: a version may or may not have been published" in error["message"]
    assert error["requestId"] in error["message"] and "check before running it again" in error["hint"]
    assert len(cloud.api.calls("POST", "/versions")) == 1
    assert len(cloud.api.versions[cloud.api.urn("hello", "demo")]) == 1  # performed once, never twice
    # Throttled (not performed): retried, one version more.
    cloud.api.fail_next("POST", "/versions$", 429, "FSS.0429", "slow down")
    report = _deploy(cloud, folder, "--publish", "v2").json()
    assert report["version"] == "2" and len(cloud.api.calls("POST", "/versions")) == 3
