"""Credentials and user-data values never reach a message; user data must be environment variables.

Every bad input here carries a recognisable secret; each test runs the real CLI (or the Python API)
and checks the secret appears nowhere in what comes out: stdout, stderr, --json, exception text.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from runtime_support import invoke_json, run_cli

from fglocal.config import ConfigError, load_config

SECRET = "S3CR3T-7f4a9e"

ECHO_USER_DATA = (
    "import json, os\n"
    "\n"
    "def handler(event, context):\n"
    "    return {'userData': json.loads(os.environ['RUNTIME_USERDATA']),\n"
    "            'environ': {k: os.environ.get(k) for k in event.get('keys', [])}}\n"
)


@pytest.fixture
def fn(tmp_path: Path) -> Path:
    """A function folder whose handler returns the user data it was given."""
    folder = tmp_path / "fn"
    folder.mkdir()
    (folder / "index.py").write_text(ECHO_USER_DATA)
    return folder


def assert_no_secret(proc, *extra: str) -> None:
    for text in (proc.stdout, proc.stderr, *extra):
        assert SECRET not in text, text


def usage_error(proc, *fragments: str) -> None:
    """Exit 2, nothing on stdout, a message holding every fragment and no secret."""
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    for fragment in fragments:
        assert fragment in proc.stderr, proc.stderr
    assert_no_secret(proc)


def write_config(folder: Path, content) -> None:
    text = content if isinstance(content, str) else json.dumps(content)
    (folder / "fglocal.json").write_text(text, encoding="utf-8")


# ------------------------------------------------------------------ fglocal.json: credentials


@pytest.mark.parametrize(
    ("credentials", "fragment"),
    [
        pytest.param(SECRET, "expected an object with accessKey", id="a-string"),
        pytest.param([SECRET], "got a list", id="a-list"),
        pytest.param({"secretKey": [SECRET]}, "secretKey must be a string, got a list", id="list-value"),
        pytest.param({"secretKey": {"v": SECRET}}, "secretKey must be a string, got an object", id="object"),
        pytest.param({"accessKey": "ok", SECRET: "x"}, "key #2 is not one of accessKey", id="unknown-key"),
        pytest.param({"accesKey": SECRET}, "key #1 is not one of accessKey", id="typo-key"),
    ],
)
@pytest.mark.parametrize("command", ["invoke", "package"])
def test_invalid_credentials_are_named_never_shown(fn, credentials, fragment, command):
    write_config(fn, {"credentials": credentials})
    proc = run_cli(command, "--code-dir", str(fn), "--json")
    usage_error(proc, "invalid 'credentials'", fragment)
    with pytest.raises(ConfigError) as caught:
        load_config(fn)
    assert caught.value.field == "credentials"
    assert SECRET not in str(caught.value) and SECRET not in repr(caught.value)


def test_the_config_object_never_shows_secrets(fn):
    write_config(fn, {"credentials": {"secretKey": SECRET}, "userData": {"TOKEN": SECRET}})
    config = load_config(fn)
    assert config.credentials == {"secretKey": SECRET} and config.user_data == {"TOKEN": SECRET}
    assert SECRET not in repr(config)
    assert "TOKEN" in repr(config)  # the keys are shown, so the repr still says what is there


# --------------------------------------------------------------------- fglocal.json: userData


@pytest.mark.parametrize(
    ("user_data", "fragments"),
    [
        pytest.param({"PORT": 8080123}, ["the value of PORT must be a string, got a number"], id="number"),
        pytest.param({"A": {"nested": SECRET}}, ["the value of A must be a string, got an object"], id="obj"),
        pytest.param({"A": [SECRET]}, ["the value of A must be a string, got a list"], id="list"),
        pytest.param({"A": True}, ["got a boolean"], id="bool"),
        pytest.param({"A": None}, ["got null"], id="null"),
        pytest.param({"A": SECRET + "\u0000x"}, ["the value of A holds a NUL character"], id="nul-value"),
        pytest.param({"A": "\ud800" + SECRET}, ["the value of A holds a lone surrogate"], id="surrogate"),
        pytest.param({"OK": "1", "A=" + SECRET: "x"}, ["key #2 contains '='"], id="equals-key"),
        pytest.param({"": SECRET}, ["key #1 is empty"], id="empty-key"),
        pytest.param({"A\u0000" + SECRET: "x"}, ["key #1 contains a NUL character"], id="nul-key"),
        pytest.param({"1" + SECRET: "x"}, ["key #1 is not an environment variable name"], id="digit-key"),
        pytest.param({"MY KEY": SECRET}, ["key #1 is not an environment variable name"], id="space-key"),
        pytest.param(SECRET, ["expected an object of string values, got a string"], id="not-object"),
    ],
)
def test_user_data_that_no_environment_can_hold_is_a_usage_error(fn, user_data, fragments):
    write_config(fn, {"userData": user_data})
    proc = run_cli("invoke", "--code-dir", str(fn))
    usage_error(proc, "invalid 'userData'", *fragments)
    assert "exited with code" not in proc.stderr


def test_a_config_built_directly_is_checked_before_an_instance_starts(fn):
    from fglocal import invoke
    from fglocal.config import FunctionConfig

    for bad in ({"A=" + SECRET: "1"}, {"A": SECRET + "\x00"}):
        with pytest.raises(ConfigError) as caught:
            invoke(FunctionConfig(fn, user_data=bad), {})
        assert caught.value.field == "userData" and SECRET not in str(caught.value)


def test_user_data_keys_checked_through_the_python_api(fn):
    config = load_config(fn)
    for bad in ({"A=B": "1"}, {"": "1"}, {"X": "a\x00b"}, {"X": 1}):
        with pytest.raises(ConfigError) as caught:
            config.with_overrides(user_data=bad)
        assert caught.value.field == "userData"
        assert "a\x00b" not in str(caught.value)


# ------------------------------------------------------------------------------ JSON errors


@pytest.mark.parametrize(
    "text",
    [
        pytest.param('{"credentials": {"secretKey": "%s",}}' % SECRET, id="trailing-comma"),
        pytest.param('{"credentials": {"secretKey": %s}}' % SECRET, id="unquoted"),
        pytest.param('{"credentials": {"secretKey": "%s\n"}}' % SECRET, id="control-char"),
        pytest.param('{"userData": {"A": "%s"} "x": 1}' % SECRET, id="missing-comma"),
        pytest.param('{"userData": {"A": "%s"}}}' % SECRET, id="extra-data"),
        pytest.param("[" * 100_000 + SECRET, id="deep"),
        pytest.param('{"memorySize": %s, "userData": {"A": "%s"}}' % ("9" * 5000, SECRET), id="huge-int"),
    ],
)
def test_invalid_json_says_where_never_what(fn, text):
    write_config(fn, text)
    proc = run_cli("invoke", "--code-dir", str(fn))
    usage_error(proc, "invalid 'config file'", "is not valid JSON")


def test_invalid_json_names_line_and_column(fn):
    write_config(fn, '{\n  "credentials": {"secretKey": "%s",}\n}' % SECRET)
    proc = run_cli("invoke", "--code-dir", str(fn))
    usage_error(proc, "line 2, column")


def test_config_that_is_not_utf8(fn):
    (fn / "fglocal.json").write_bytes(b'{\n"credentials": {"secretKey": "%s\xff"}}' % SECRET.encode())
    proc = run_cli("invoke", "--code-dir", str(fn))
    usage_error(proc, "is not UTF-8 text (line 2)")
    with pytest.raises(ConfigError) as caught:
        load_config(fn)
    assert caught.value.__cause__ is None and caught.value.__context__ is None  # no bytes ride along


def test_config_with_a_utf8_bom_is_read(fn):
    (fn / "fglocal.json").write_bytes(b'\xef\xbb\xbf{"userData": {"A": "1"}}')
    results, proc = invoke_json("--code-dir", str(fn))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(results[0]["body"])["userData"] == {"A": "1"}


# ------------------------------------------------------------------------------ env files


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        pytest.param("A=1\n%s\n" % SECRET, "line 2", id="no-equals"),
        pytest.param('A=1\n\nB="%s\n' % SECRET, "line 3", id="unclosed-double"),
        pytest.param("B='%s\n" % SECRET, "line 1", id="unclosed-single"),
        pytest.param('B="%s" %s\n' % (SECRET, SECRET), "unexpected text after the closing quote", id="after"),
        pytest.param("1B=%s\n" % SECRET, "the key is not an environment variable name", id="bad-key"),
        pytest.param("%s-X=1\n" % SECRET, "the key is not an environment variable name", id="key-dash"),
        pytest.param("=%s\n" % SECRET, "the key is empty", id="empty-key"),
        pytest.param("A=%s\x00\n" % SECRET, "the value of A holds a NUL character", id="nul"),
    ],
)
@pytest.mark.parametrize("how", ["flag", "config"])
def test_env_file_errors_name_the_line_never_the_text(fn, text, fragment, how):
    (fn / "local.env").write_text(text, encoding="utf-8")
    if how == "flag":
        proc = run_cli("invoke", "--code-dir", str(fn), "--env-file", str(fn / "local.env"))
        field = "--env-file"
    else:
        write_config(fn, {"envFile": "local.env"})
        proc = run_cli("invoke", "--code-dir", str(fn))
        field = "envFile"
    usage_error(proc, f"invalid '{field}'", fragment, "local.env")


def test_env_file_that_is_not_utf8(fn):
    (fn / "local.env").write_bytes(b"A=1\nB=%s\xe9\n" % SECRET.encode())
    proc = run_cli("invoke", "--code-dir", str(fn), "--env-file", str(fn / "local.env"))
    usage_error(proc, "is not UTF-8 text (line 2)")


DOTENV = """\
# a comment line, then a blank line

export EXPORTED=yes
SPACED = around equals
INLINE=value # a comment after the value
HASH=a#b
HASH_FIRST=#1
EMPTY=
EMPTY_COMMENT= # nothing but a comment
SINGLE='literal $HOME \\n # kept'
SINGLE_ESC='it\\'s'
DOUBLE="tab\\there \\"quoted\\" back\\\\slash \\x kept" # comment
MULTI="first
second"
URL=postgres://u:p@h:5432/db?sslmode=require
EQUALS=a=b=c
CRLF=windows\r
LAST=no newline at the end"""

DOTENV_VALUES = {
    "EXPORTED": "yes",
    "SPACED": "around equals",
    "INLINE": "value",
    "HASH": "a#b",
    "HASH_FIRST": "#1",
    "EMPTY": "",
    "EMPTY_COMMENT": "",
    "SINGLE": "literal $HOME \\n # kept",
    "SINGLE_ESC": "it's",
    "DOUBLE": 'tab\there "quoted" back\\slash \\x kept',
    "MULTI": "first\nsecond",
    "URL": "postgres://u:p@h:5432/db?sslmode=require",
    "EQUALS": "a=b=c",
    "CRLF": "windows",
    "LAST": "no newline at the end",
}


@pytest.mark.parametrize("how", ["flag", "config"])
def test_env_files_follow_the_dotenv_conventions(fn, how):
    (fn / "local.env").write_bytes(DOTENV.encode("utf-8"))
    event = json.dumps({"keys": sorted(DOTENV_VALUES)})
    if how == "flag":
        results, proc = invoke_json(
            "--code-dir", str(fn), "--env-file", str(fn / "local.env"), "--event-json", event
        )
    else:
        write_config(fn, {"envFile": "local.env"})
        results, proc = invoke_json("--code-dir", str(fn), "--event-json", event)
    assert proc.returncode == 0, proc.stderr
    body = json.loads(results[0]["body"])
    assert body["userData"] == DOTENV_VALUES
    assert body["environ"] == DOTENV_VALUES  # and each is an environment variable of the instance


def test_env_file_with_bom_and_crlf_lines(fn):
    (fn / "local.env").write_bytes(b"\xef\xbb\xbfA=1\r\nB='two'\r\n# c\r\n")
    results, proc = invoke_json("--code-dir", str(fn), "--env-file", str(fn / "local.env"))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(results[0]["body"])["userData"] == {"A": "1", "B": "two"}


# ------------------------------------------------------------------------ --user-data flags


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        pytest.param(
            ["--user-data", "A=1", "--user-data", SECRET], "--user-data #2 expects KEY=VALUE", id="no-eq"
        ),
        pytest.param(["--user-data", "=" + SECRET], "--user-data #1: the key is empty", id="empty-key"),
        pytest.param(["--user-data", "1A=" + SECRET], "the key is not an environment variable", id="bad-key"),
        pytest.param(["--user-data=" + SECRET], "--user-data #1 expects KEY=VALUE", id="inline-no-eq"),
        pytest.param(["--user-date=TOKEN=" + SECRET], "unrecognized arguments", id="mistyped-flag"),
        pytest.param(["index.handler", "TOKEN=" + SECRET], "give one handler entry", id="second-entry"),
        pytest.param(["TOKEN=" + SECRET], "user data goes in --user-data", id="as-the-entry"),
    ],
)
@pytest.mark.parametrize("command", ["invoke", "package"])
def test_user_data_flag_errors_never_echo_the_value(fn, args, fragment, command):
    if command == "package" and fragment == "give one handler entry":
        fragment = "unrecognized arguments: TOKEN=..."  # package's ENTRY takes one word
    proc = run_cli(command, "--code-dir", str(fn), *args)
    usage_error(proc, fragment)


def test_user_data_with_secrets_leaves_no_trace_in_logs_or_json(fn, tmp_path):
    logs = tmp_path / "logs"
    (fn / "local.env").write_text("FROM_FILE=%s-file\n" % SECRET)
    results, proc = invoke_json(
        "--code-dir",
        str(fn),
        "--env-file",
        str(fn / "local.env"),
        "--user-data",
        "FROM_FLAG=%s-flag" % SECRET,
        "--log-dir",
        str(logs),
        "index.echo_nothing",
    )
    assert proc.returncode == 1  # the entry does not exist: an error object, which must not hold them
    assert results[0]["error"]["errorType"] == "AttributeError"
    assert_no_secret(proc)
    for path in logs.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path


@pytest.mark.parametrize(
    "arguments",
    [
        pytest.param({"userData": SECRET}, id="not-object"),
        pytest.param({"userData": {"A": [SECRET]}}, id="list-value"),
        pytest.param({"userData": {"A": {"v": SECRET}}}, id="object-value"),
        pytest.param({"userData": {"A=" + SECRET: "x"}}, id="equals-key"),
        pytest.param({"userData": {"A": SECRET + "\x00"}}, id="nul"),
        pytest.param({"handler": "TOKEN=" + SECRET}, id="user-data-as-entry"),
    ],
)
def test_debug_launch_errors_never_show_user_data(fn, arguments):
    from debug_adapter.launch_config import LaunchError, parse_launch

    with pytest.raises(LaunchError) as caught:
        parse_launch({"codeUri": str(fn), **arguments})
    assert SECRET not in str(caught.value)
    assert ("userData" in str(caught.value)) or ("handler" in str(caught.value))


@pytest.mark.parametrize(
    ("content", "field", "fragment"),
    [
        pytest.param({"envFile": "a\u0000b"}, "envFile", "a path cannot hold a NUL character", id="env-nul"),
        pytest.param({"codeUri": "a\u0000b"}, "codeUri", "a path cannot hold a NUL character", id="uri-nul"),
        pytest.param({"python": "a\u0000b"}, "python", "a path cannot hold a NUL character", id="python-nul"),
        pytest.param(
            {"envFile": "\ud800.env"}, "envFile", "a path cannot hold a lone surrogate", id="env-surr"
        ),
        pytest.param({"codeUri": "\udfff"}, "codeUri", "a path cannot hold a lone surrogate", id="uri-surr"),
        pytest.param({"codeUri": "\u001b[2J"}, "codeUri", "control characters", id="uri-escape"),
        pytest.param(
            {"python": "/usr/bin/\u001b[2Jpython"}, "python", "control characters", id="python-escape"
        ),
        pytest.param({"envFile": "a\nb.env"}, "envFile", "control characters", id="env-newline"),
    ],
)
def test_paths_the_system_cannot_take_are_usage_errors(fn, content, field, fragment):
    write_config(fn, content)
    proc = run_cli("invoke", "--code-dir", str(fn))
    usage_error(proc, f"invalid '{field}'", fragment)
    assert "\x1b" not in proc.stderr and "\x00" not in proc.stderr


def test_env_file_from_a_pipe_on_the_command_line(fn, tmp_path):
    import threading

    fifo = tmp_path / "pipe.env"
    os.mkfifo(fifo)

    def feed():
        with open(fifo, "w") as writer:
            writer.write("PIPED=%s\n" % SECRET)

    feeder = threading.Thread(target=feed)
    feeder.start()
    results, proc = invoke_json("--code-dir", str(fn), "--env-file", str(fifo))
    feeder.join(timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(results[0]["body"])["userData"] == {"PIPED": SECRET}  # like --env-file <(vault ...)


def test_env_file_a_config_names_must_be_a_regular_file(fn, tmp_path):
    os.mkfifo(fn / "local.env")  # nobody writes: reading it would block forever
    write_config(fn, {"envFile": "local.env"})
    proc = run_cli("invoke", "--code-dir", str(fn), timeout=60)
    usage_error(proc, "invalid 'envFile'", "is not a regular file")


def test_env_file_size_is_capped(fn):
    proc = run_cli("invoke", "--code-dir", str(fn), "--env-file", "/dev/zero", timeout=60)
    usage_error(proc, "invalid '--env-file'", "/dev/zero is over 1024 KB: not an env file")
