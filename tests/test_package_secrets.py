"""`fglocal package` never packages secrets and refuses file names that break or escape when unzipped.

Through the real CLI (a subprocess): each zip is opened and checked, and each report (text and --json)
must say what was left out and why.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path
from typing import Dict

import pytest
from runtime_support import run_cli

SECRET = "S3CR3T-b81d0c"
PEM = "-----BEGIN OPENSSH PRIVATE KEY-----\n%s\n-----END OPENSSH PRIVATE KEY-----\n" % SECRET
HANDLER = "def handler(event, context):\n    return 'ok'\n"


def write(root: Path, files: Dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def package(root: Path, *args: str):
    """Run `fglocal package --json`; return the report and the zip's {name: bytes} (empty when none)."""
    proc = run_cli("package", "--code-dir", str(root), "--json", *args)
    report = json.loads(proc.stdout)
    contents = {}
    if report["zip"]:
        with zipfile.ZipFile(report["zip"]) as archive:
            contents = {info.filename: archive.read(info) for info in archive.infolist()}
    return report, contents, proc


def excluded(report) -> Dict[str, str]:
    return {item["path"]: item["reason"] for item in report["excluded"]}


def assert_no_secret_in(contents: Dict[str, bytes]) -> None:
    for name, data in contents.items():
        assert SECRET.encode() not in data, name


# ------------------------------------------------------------------------------ env files


def test_env_file_named_by_the_flag_is_left_out(tmp_path: Path):
    root = tmp_path / "fn"
    write(root, {"index.py": HANDLER, "secrets.txt": "TOKEN=%s\n" % SECRET, "conf/app.settings": "A=1\n"})
    os.symlink("secrets.txt", root / "also-secrets.txt")  # the same file under another name
    report, contents, proc = package(root, "--env-file", str(root / "secrets.txt"))
    assert proc.returncode == 0, proc.stderr
    assert sorted(contents) == ["conf/app.settings", "index.py"]
    assert excluded(report)["secrets.txt"] == "env file named by --env-file"
    assert excluded(report)["also-secrets.txt"] == "env file named by --env-file"
    # The same env file by a relative path from another working folder.
    proc = run_cli("package", "--code-dir", str(root), "--env-file", os.path.relpath(root / "secrets.txt"))
    assert proc.returncode == 0, proc.stderr
    assert "env file named by --env-file: also-secrets.txt, secrets.txt" in proc.stdout
    assert_no_secret_in(contents)


def test_env_file_named_by_the_config_is_left_out(tmp_path: Path):
    root = tmp_path / "fn"
    write(
        root,
        {
            "index.py": HANDLER,
            "conf/app.settings": "TOKEN=%s\n" % SECRET,
            "fglocal.json": json.dumps({"envFile": "conf/app.settings"}),
        },
    )
    report, contents, proc = package(root)
    assert proc.returncode == 0, proc.stderr
    assert sorted(contents) == ["index.py"]
    assert excluded(report)["conf/app.settings"] == "env file named by envFile in fglocal.json"
    assert excluded(report)["fglocal.json"] == "local config"


# ----------------------------------------------------------------------- the whole class

SECRET_FILES = {
    ".env": "env file",
    "sub/.env": "env file",
    "sub/.env.local": "env file",
    "sub/.envrc": "env file",
    "deploy/prod.env": "env file",
    "keys/server.pem": "private key",
    "keys/tls.key": "private key",
    "keys/store.p12": "private key",
    "deploy/id_ed25519": "private key",
    "deploy/id_rsa": "private key",
    "deploy/putty.ppk": "private key",
    "notes/key.txt": "private key",  # a PEM private key under a name that does not say so
    "cfg/.netrc": "credentials file",
    "cfg/.pypirc": "credentials file",
    "cfg/.npmrc": "credentials file",
    "cfg/.git-credentials": "credentials file",
    "cfg/.pgpass": "credentials file",
    "cfg/.obsutilconfig": "credentials file",
    "cfg/credentials": "credentials file",
    "cfg/credentials.json": "credentials file",
    "cfg/credentials.ini": "credentials file",
    "cfg/credentials.csv": "credentials file",
    "cfg/application_default_credentials.json": "credentials file",
    "cfg/client_secret_123.json": "credentials file",
    "cfg/secrets.json": "credentials file",
    "cfg/secrets.toml": "credentials file",
    "cfg/new_user_accessKeys.csv": "credentials file",
}
SECRET_FOLDERS = {
    "conf/.aws/": "credentials folder (AWS)",
    "lib/.huaweicloud/": "credentials folder (Huawei Cloud SDK)",
    "lib/.hcloud/": "credentials folder (Huawei Cloud KooCLI)",
    "home/.ssh/": "SSH keys folder",
    "home/.docker/": "credentials folder (Docker)",
}
KEPT = {
    "index.py": HANDLER,
    ".env.example": "TOKEN=\n",
    "sub/example.env": "TOKEN=\n",
    "credentials.py": "def load():\n    return {}\n",  # a module: the function imports it
    "keys.py": "KEY = '''%s'''\n" % PEM,  # a module holding a key: packaged, and warned about
    "data/public.txt": "-----BEGIN PUBLIC KEY-----\nMIIB\n",
}


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "fn"
    write(root, KEPT)
    for rel in SECRET_FILES:
        write(root, {rel: PEM if rel == "notes/key.txt" else "value=%s\n" % SECRET})
    for folder in SECRET_FOLDERS:
        write(root, {folder + "credentials": "[default]\nak = AK\nsk = %s\n" % SECRET})
    return root


def test_nothing_that_carries_credentials_is_packaged(tree: Path):
    report, contents, proc = package(tree)
    assert proc.returncode == 0, proc.stderr
    assert sorted(contents) == sorted(KEPT)
    left_out = excluded(report)
    for rel, reason in {**SECRET_FILES, **SECRET_FOLDERS}.items():
        assert left_out.get(rel) == reason, rel
    assert [w for w in report["warnings"] if w.startswith("keys.py holds a private key")]
    assert_no_secret_in({k: v for k, v in contents.items() if k != "keys.py"})


def test_the_text_report_says_what_it_left_out_and_why(tree: Path):
    proc = run_cli("package", "--code-dir", str(tree), "--dry-run")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "left out:" in out
    for reason in ("env file:", "private key:", "credentials file:", "credentials folder (AWS): conf/.aws/"):
        assert reason in out, reason
    assert "warning: keys.py holds a private key" in out
    assert SECRET not in out + proc.stderr


def test_config_files_are_left_out_and_say_when_they_hold_credentials(tmp_path: Path):
    root = tmp_path / "fn"
    with_credentials = json.dumps({"credentials": {"secretKey": SECRET}})
    write(
        root,
        {
            "index.py": HANDLER,
            "fglocal.json": with_credentials,
            "other/fglocal.json": json.dumps({"handler": "index.handler"}),
            "local-config.json": with_credentials,
        },
    )
    report, contents, proc = package(root)
    assert proc.returncode == 0, proc.stderr
    assert sorted(contents) == ["index.py", "local-config.json"]  # not named as a config: see below
    assert excluded(report)["fglocal.json"] == "local config (holds credentials)"
    assert excluded(report)["other/fglocal.json"] == "local config"
    # Named by --config, it is the config: left out, and fglocal.json beside it too.
    report, contents, proc = package(root, "--config", str(root / "local-config.json"))
    assert proc.returncode == 0, proc.stderr
    assert sorted(contents) == ["index.py"]
    assert excluded(report)["local-config.json"] == "local config (holds credentials)"
    assert excluded(report)["fglocal.json"] == "local config (holds credentials)"


# ---------------------------------------------------------------------------- file names


def _make(root: Path, name: bytes, data: bytes = b"x = 1\n") -> None:
    path = os.path.join(os.fsencode(root), name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


@pytest.mark.parametrize(
    ("name", "shown", "problem"),
    [
        pytest.param(b"caf\xe9.py", "caf\\xe9.py", "is not UTF-8", id="not-utf8"),
        pytest.param(
            b"sub/..\\..\\evil.py", "sub/..\\\\..\\\\evil.py", "holds a backslash", id="backslash-dotdot"
        ),
        pytest.param(b"lib\\x.py", "lib\\\\x.py", "holds a backslash", id="backslash"),
        pytest.param(b"a\x1b[2Jb.py", "a\\x1b[2Jb.py", "control or invisible", id="escape-sequence"),
        pytest.param(b"new\nline.txt", "new\\x0aline.txt", "control or invisible", id="newline"),
        pytest.param("\u202egnp.py".encode(), "\\u202egnp.py", "control or invisible", id="bidi-override"),
        pytest.param(b"dir\\sub/x.py", "dir\\\\sub", "holds a backslash", id="folder"),
    ],
)
@pytest.mark.parametrize("mode", ["json", "text"])
def test_unsafe_file_names_are_refused_and_shown_escaped(tmp_path: Path, name, shown, problem, mode):
    root = tmp_path / "fn"
    write(root, {"index.py": HANDLER})
    _make(root, name)
    args = ["package", "--code-dir", str(root)] + (["--json"] if mode == "json" else [])
    proc = run_cli(*args)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    text = proc.stdout + proc.stderr
    assert "Traceback" not in text
    assert "\x1b" not in text and "\u202e" not in text
    if mode == "json":
        problems = json.loads(proc.stdout)["problems"]
        assert [p for p in problems if shown in p and problem in p], problems
    else:
        assert "refused: " in proc.stderr and shown in proc.stderr and problem in proc.stderr
    assert not (root / "dist").exists()  # nothing written


@pytest.mark.parametrize(
    ("names", "kind"),
    [
        pytest.param(["Util.py", "util.py"], "case", id="case"),
        pytest.param(["data/Report.CSV", "data/report.csv"], "case", id="nested-case"),
        pytest.param(["caf\u00e9.py", "cafe\u0301.py"], "Unicode normalization", id="nfc-nfd"),
        pytest.param(["Lib", "lib/x.py"], "case", id="file-vs-folder"),
    ],
)
def test_names_that_collide_on_windows_or_macos_are_refused(tmp_path: Path, names, kind):
    root = tmp_path / "fn"
    write(root, {"index.py": HANDLER})
    for name in names:
        _make(root, name.encode())
    report, _, proc = package(root)
    assert proc.returncode == 1
    assert [p for p in report["problems"] if f"differ only in {kind}" in p], report["problems"]
    if kind != "case":
        assert "cafe\\u0301.py and caf\\xe9.py" in report["problems"][0]  # how each is written


def test_names_windows_cannot_create_are_warned_about(tmp_path: Path):
    root = tmp_path / "fn"
    write(root, {"index.py": HANDLER, "aux.py": "X = 1\n", "data/a:b.txt": "x", "con/x.txt": "x"})
    report, contents, proc = package(root)
    assert proc.returncode == 0, proc.stderr
    assert sorted(contents) == ["aux.py", "con/x.txt", "data/a:b.txt", "index.py"]
    warned = sorted(w.split(":", 1)[0] for w in report["warnings"] if "(fine on the platform)" in w)
    assert warned == ["aux.py", "con/x.txt", "data/a"]


def test_excluded_names_are_escaped_in_the_text_report(tmp_path: Path):
    root = tmp_path / "fn"
    write(root, {"index.py": HANDLER})
    _make(root, b".env\x1b]0;pwned\x07", b"TOKEN=x\n")
    proc = run_cli("package", "--code-dir", str(root), "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert "env file: .env\\x1b]0;pwned\\x07" in proc.stdout
    assert "\x1b" not in proc.stdout


def test_files_holding_a_copy_of_a_secret_value_are_warned_about(tmp_path: Path):
    root = tmp_path / "fn"
    write(
        root,
        {
            "index.py": HANDLER,
            "settings.py": "TOKEN = %r\nSTAGE = 'production'\n" % SECRET,
            "client.py": "SK = 'sk-%s-2'\n" % SECRET,
            "notes.md": "stage: production, other: %s-flag\n" % SECRET,
            "fglocal.json": json.dumps(
                {"envFile": "local.env", "credentials": {"secretKey": "sk-%s-2" % SECRET}}
            ),
            "local.env": "STAGE=production\nTOKEN=%s\n" % SECRET,
        },
    )
    (tmp_path / "flag.env").write_text("OTHER=%s-flag\n" % SECRET)
    report, _, proc = package(root, "--env-file", str(tmp_path / "flag.env"))
    assert proc.returncode == 0, proc.stderr
    copies = sorted(w for w in report["warnings"] if "holds the value of" in w)
    assert len(copies) == 3, copies
    assert copies[0].startswith(
        "client.py holds the value of TOKEN from local.env, the credentials' secretKey:"
    )
    assert copies[1].startswith("notes.md holds the value of OTHER from flag.env, TOKEN from local.env:")
    assert copies[2].startswith("settings.py holds the value of TOKEN from local.env:")
    assert SECRET not in proc.stdout + proc.stderr  # named, never shown
    assert "STAGE" not in proc.stdout  # a plain word is too common to be told from a coincidence


def test_env_files_that_launch_configurations_name_are_left_out(tmp_path: Path):
    workspace = tmp_path / "ws"
    root = workspace / "functions" / "orders"
    write(
        root,
        {
            "index.py": HANDLER,
            "debug.settings": "TOKEN=%s\n" % SECRET,
            "py.settings": "A=1\n",
            "src/rel.settings": "B=1\n",
            "kept.settings": "C=1\n",
        },
    )
    write(
        workspace,
        {
            ".vscode/launch.json": """{
  // JSON with comments, as VS Code writes it
  "version": "0.2.0",
  "configurations": [
    {"type": "functiongraph", "request": "launch", "name": "orders",
     "codeUri": "${workspaceFolder}/functions/orders", "envFile": "debug.settings"},
    /* the Python extension's own */
    {"type": "debugpy", "request": "launch", "name": "py",
     "envFile": "${workspaceFolder}/functions/orders/py.settings",},
    {"type": "functiongraph", "name": "rel", "codeUri": "functions/orders/src", "envFile": "rel.settings"},
    {"type": "functiongraph", "name": "unknown variable", "envFile": "${env:HOME}/kept.settings"},
  ],
}
"""
        },
    )
    report, contents, proc = package(root)
    assert proc.returncode == 0, proc.stderr
    assert sorted(contents) == ["index.py", "kept.settings"]
    reason = "env file named by envFile in .vscode/launch.json"
    left_out = excluded(report)
    assert (left_out["debug.settings"], left_out["py.settings"], left_out["src/rel.settings"]) == (
        reason,
    ) * 3
    assert_no_secret_in(contents)


def test_requirement_files_with_credentials_are_left_out_and_urls_with_passwords_warned(tmp_path: Path):
    root = tmp_path / "fn"
    write(
        root,
        {
            "index.py": HANDLER,
            "db.py": "import os\n\nDSN = 'postgres://admin:%s@db.internal/prod'\n" % SECRET,
            "requirements.txt": "--index-url https://user:%s@pypi.example.com/simple\nrequests\n" % SECRET,
            "requirements-dev.txt": "git+https://ghp_%s@github.com/acme/tool.git\n" % SECRET,
            "requirements-ssh.txt": "git+ssh://git@github.com/acme/tool.git\nrequests\n",
            "constraints.txt": "requests==2.31.0\n",
            "pip.conf": "[global]\nindex-url = https://user:%s@pypi.example.com/simple\n" % SECRET,
        },
    )
    report, contents, proc = package(root)
    assert proc.returncode == 0, proc.stderr
    assert sorted(contents) == ["constraints.txt", "db.py", "index.py", "requirements-ssh.txt"]
    left_out = excluded(report)
    reason = "requirements file with credentials in a URL"
    assert (left_out["requirements.txt"], left_out["requirements-dev.txt"]) == (reason, reason)
    assert left_out["pip.conf"] == "credentials file"
    assert [w for w in report["warnings"] if w.startswith("db.py line 3 holds a URL with a password")]
    assert SECRET not in proc.stdout + proc.stderr


def test_pip_index_credentials_are_hidden_in_what_package_prints(tmp_path: Path):
    root = tmp_path / "fn"
    write(root, {"index.py": HANDLER, "requirements.txt": "nosuchpkg-fglocal-test==1.0\n"})
    index = "https://user:%s@127.0.0.1:9/simple" % SECRET
    proc = run_cli(
        "package",
        "--code-dir",
        str(root),
        "--with-deps",
        "--pip-arg=--no-index",
        f"--pip-arg=--index-url={index}",
    )
    assert proc.returncode == 1  # nothing to install from: refused, and said so
    assert "--index-url=https://***@127.0.0.1:9/simple" in proc.stdout
    assert SECRET not in proc.stdout + proc.stderr


def test_fifos_in_the_folder_are_left_out_without_being_opened(tmp_path: Path):
    root = tmp_path / "fn"
    write(root, {"index.py": HANDLER})
    os.mkfifo(root / "notes.txt")  # opening one for reading would block: nobody writes
    os.mkfifo(root / "pipe.txt")
    (root / "sub").mkdir()
    os.mkfifo(root / "sub" / "fglocal.json")
    launch = {"configurations": [{"envFile": "${workspaceFolder}/pipe.txt"}]}
    write(root, {".vscode/launch.json": json.dumps(launch)})
    proc = run_cli("package", "--code-dir", str(root), "--json", timeout=60)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert excluded(report)["notes.txt"] == "not a regular file"
    assert excluded(report)["pipe.txt"] == "env file named by envFile in .vscode/launch.json"
    assert excluded(report)["sub/fglocal.json"] == "local config"
