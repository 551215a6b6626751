"""The distribution as a user gets it: a wheel built from a clean checkout, installed into fresh venvs.

Everything else in the suite runs the editable install, which reads the checkout itself, so a file the
wheel leaves out goes unnoticed there. These tests build the wheel from ``git archive HEAD`` (untracked
files cannot hide a missing one; uncommitted edits are not in it), install it into a fresh venv with
``[tools]`` and without, and run the CLI, the language server and the debug adapter from those venvs,
from a folder outside the checkout and with no PYTHONPATH, so only the installed copy can be imported.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Dict, Iterator, List

import pytest
from dap_client import DAPClient
from debug_helpers import bp
from lsprotocol import types
from server_support import close_document, codes, make_client, open_document, position_of, start

import fglocal
from fglocal.distribution import MIN_TOOLS_PYTHON, TOOLS_EXTRA, TOOLS_INSTALL

try:
    import tomllib
except ImportError:  # Python 3.10: pip's own copy of the same parser
    from pip._vendor import tomli as tomllib  # type: ignore[no-redef]

REPO = Path(__file__).resolve().parent.parent
OLDEST_PYTHON = "3.8"  # pyproject.toml's requires-python: fglocal installs and runs there, the tools do not
PACKAGES = ("fglocal", "server", "debug_adapter")
# Files under the package folders that are not the kit: its docs, and the DAP test client's npm project.
NOT_SHIPPED = (".md",)
NOT_SHIPPED_FOLDERS = ("debug_adapter/node-test/",)

pytestmark = pytest.mark.timeout(900)  # builds a wheel and installs its dependencies (from pip's cache)


def run(argv: List[str], cwd: Path, env: Dict[str, str], stdin: str = "") -> subprocess.CompletedProcess:
    """Run ``argv`` to its end, capturing text output."""
    return subprocess.run(
        argv, cwd=str(cwd), env=env, input=stdin, capture_output=True, text=True, timeout=600
    )


def checked(argv: List[str], cwd: Path, env: Dict[str, str]) -> subprocess.CompletedProcess:
    """Run ``argv`` and fail with its output if it fails."""
    done = run(argv, cwd, env)
    assert done.returncode == 0, "%s failed (%d):\n%s\n%s" % (argv, done.returncode, done.stdout, done.stderr)
    return done


@pytest.fixture(scope="module")
def clean_env() -> Dict[str, str]:
    """This environment without anything that would put the checkout on sys.path."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The committed tree (HEAD) of this repository, unpacked into a temporary folder."""
    target = tmp_path_factory.mktemp("checkout")
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", "--format=tar", "HEAD"], capture_output=True, check=False
    )
    assert archive.returncode == 0, "git archive HEAD failed (the suite needs a git checkout): %s" % (
        archive.stderr.decode(errors="replace")
    )
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    return target


@pytest.fixture(scope="module")
def wheel(checkout: Path, tmp_path_factory: pytest.TempPathFactory, clean_env: Dict[str, str]) -> Path:
    """The wheel built from the clean checkout (pip, with the build backend pyproject.toml names)."""
    out = tmp_path_factory.mktemp("wheel")
    checked(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", str(out), str(checkout)],
        out,
        clean_env,
    )
    (built,) = out.glob("functiongraph_devkit-*.whl")
    return built


def make_venv(folder: Path, specs: List[str], env: Dict[str, str]) -> Path:
    """A fresh venv at ``folder`` with ``specs`` installed (by this venv's pip); returns its python."""
    checked([sys.executable, "-m", "venv", "--without-pip", str(folder)], folder.parent, env)
    python = folder / "bin" / "python"
    checked(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", *specs],
        folder.parent,
        env,
    )
    return python


@pytest.fixture(scope="module")
def tools_python(wheel: Path, tmp_path_factory: pytest.TempPathFactory, clean_env: Dict[str, str]) -> Path:
    """The python of a fresh venv holding the wheel with the ``tools`` extra."""
    return make_venv(tmp_path_factory.mktemp("tools") / "venv", ["%s[tools]" % wheel], clean_env)


@pytest.fixture(scope="module")
def bare_python(wheel: Path, tmp_path_factory: pytest.TempPathFactory, clean_env: Dict[str, str]) -> Path:
    """The python of a fresh venv holding the wheel alone (no extras: no dependencies at all)."""
    return make_venv(tmp_path_factory.mktemp("bare") / "venv", [str(wheel)], clean_env)


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A working folder outside the checkout (``python -m`` puts the working folder on sys.path)."""
    return tmp_path


def wheel_names(path: Path) -> List[str]:
    """The file names in the wheel at ``path``, without its .dist-info metadata."""
    with zipfile.ZipFile(path) as archive:
        return sorted(n for n in archive.namelist() if ".dist-info/" not in n)


def test_wheel_ships_every_file_of_the_packages(wheel: Path, checkout: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    shipped = wheel_names(wheel)
    expected = sorted(
        str(path.relative_to(checkout))
        for package in PACKAGES
        for path in (checkout / package).rglob("*")
        if path.is_file()
        and not path.name.endswith(NOT_SHIPPED)
        and not str(path.relative_to(checkout)).startswith(NOT_SHIPPED_FOLDERS)
    )
    assert shipped == expected
    # The ones a regular install once lost, and the data the kit reads at run time.
    for name in (
        "server/analysis/completion.py",
        "fglocal/templates/apig.json",
        "debug_adapter/launch-schema.json",
        "fglocal/launcher/launcher.c",  # the runtime server compiles the native launcher from it
    ):
        assert name in shipped
    assert len(names) == len(set(names))
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)


def test_make_dist_builds_the_same_wheel_and_no_stale_build_folder_reaches_it(
    wheel: Path, tmp_path: Path, clean_env: Dict[str, str]
) -> None:
    """`make dist` in a clone that has been built before: a removed module left in build/ stays out."""
    clone = tmp_path / "clone"
    head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True)
    checked(["git", "clone", "--quiet", "--no-checkout", str(REPO), str(clone)], tmp_path, clean_env)
    checked(["git", "-C", str(clone), "checkout", "--quiet", head.stdout.strip()], tmp_path, clean_env)
    stale = clone / "build" / "lib" / "fglocal" / "removed_module.py"
    stale.parent.mkdir(parents=True)
    stale.write_text("REMOVED = True\n")
    done = checked(["make", "--no-print-directory", "dist", "PYTHON=" + sys.executable], clone, clean_env)
    built = Path(done.stdout.strip().splitlines()[-1])
    assert built.parent == clone / "dist" and built.name == wheel.name, done.stdout
    assert wheel_names(built) == wheel_names(wheel)
    assert "fglocal/removed_module.py" not in wheel_names(built)
    # Nothing else is written into the checkout: git sees only the (ignored) build/ and dist/ folders.
    status = subprocess.run(
        ["git", "-C", str(clone), "status", "--porcelain", "--ignored"], capture_output=True, text=True
    )
    assert sorted(status.stdout.split()) == ["!!", "!!", "build/", "dist/"], status.stdout


def test_wheel_built_from_the_sdist_ships_the_same(
    wheel: Path, checkout: Path, tmp_path: Path, clean_env: Dict[str, str]
) -> None:
    # pip builds a wheel from the sdist wherever no wheel is published: nothing may get lost on the way.
    with open(checkout / "pyproject.toml", "rb") as source:
        requires = tomllib.load(source)["build-system"]["requires"]
    backend = make_venv(tmp_path / "backend", requires, clean_env)
    source_tree = tmp_path / "src"  # the backend writes its egg-info beside the sources
    shutil.copytree(checkout, source_tree)
    sdist = checked(
        [
            str(backend),
            "-c",
            "from setuptools import build_meta as b; print(b.build_sdist(%r))" % str(tmp_path),
        ],
        source_tree,
        clean_env,
    ).stdout.split()[-1]
    out = tmp_path / "from-sdist"
    checked(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", str(out), str(tmp_path / sdist)],
        tmp_path,
        clean_env,
    )
    (rebuilt,) = out.glob("functiongraph_devkit-*.whl")
    assert wheel_names(rebuilt) == wheel_names(wheel)


def test_every_part_reports_the_version_of_the_distribution(
    wheel: Path, tools_python: Path, outside: Path, clean_env: Dict[str, str]
) -> None:
    version = wheel.name.split("-")[1]
    assert version == fglocal.__version__
    fglocal_cli = checked([str(tools_python.parent / "fglocal"), "--version"], outside, clean_env)
    assert fglocal_cli.stdout.split() == ["fglocal", version]
    server = checked([str(tools_python), "-m", "server", "--version"], outside, clean_env)
    assert server.stdout.split() == ["functiongraph-language-server", version]


def test_installed_copy_is_the_one_imported(
    tools_python: Path, outside: Path, clean_env: Dict[str, str]
) -> None:
    done = checked(
        [
            str(tools_python),
            "-c",
            "import fglocal, server, debug_adapter, server.analysis as a; print(a.__file__)",
        ],
        outside,
        clean_env,
    )
    assert Path(done.stdout.strip()).is_relative_to(tools_python.parent.parent)


def test_fglocal_invoke_runs_the_hello_example(
    tools_python: Path, checkout: Path, outside: Path, clean_env: Dict[str, str]
) -> None:
    hello = checkout / "examples" / "hello"
    fglocal = tools_python.parent / "fglocal"
    done = checked(
        [
            str(fglocal),
            "invoke",
            "--code-dir",
            str(hello),
            "--event",
            str(hello / "events" / "hello.json"),
            "--json",
        ],
        outside,
        clean_env,
    )
    result = json.loads(done.stdout)
    assert result["error"] is None
    response = json.loads(result["body"])
    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == {"message": "Hello, FunctionGraph!"}
    assert "instance of hello initialized" in result["logs"]


def test_the_installed_runtime_server_builds_the_native_launcher(
    bare_python: Path, checkout: Path, outside: Path, clean_env: Dict[str, str]
) -> None:
    """From the installed copy (its launcher.c, needs cc): FGLOCAL_LAUNCHER runs an invoke via the server."""
    server = subprocess.Popen(
        [
            str(bare_python.parent / "fglocal"),
            "runtime-server",
            "--until-stdin-closes",
            "--runtime",
            "python3.12",
        ],
        cwd=str(outside),
        env=clean_env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None and server.stdin is not None and server.stderr is not None
    try:
        lines = [server.stdout.readline()]
        while lines[-1] and not lines[-1].startswith("set "):
            lines.append(server.stdout.readline())
        variables = dict(line.strip().split("=", 1) for line in lines if line.startswith("FGLOCAL_"))
        assert "FGLOCAL_LAUNCHER" in variables, (lines, server.stderr.read() if not lines[-1] else "")
        with open(os.path.join(variables["FGLOCAL_RUNTIME_SERVER"], "bin", "launcher_config.h")) as handle:
            assert '"%s"' % (bare_python.parent / "fglocal") in handle.read()  # falls back to this install
        hello = checkout / "examples" / "hello"
        env = dict(clean_env, FGLOCAL_RUNTIME_SERVER=variables["FGLOCAL_RUNTIME_SERVER"])
        event = ["--event", str(hello / "events" / "hello.json")]
        command = [variables["FGLOCAL_LAUNCHER"], "--code-dir", str(hello), "--runtime", "python3.12", *event]
        done = checked([*command, "--json"], outside, env)
        result = json.loads(done.stdout)
        assert result["error"] is None and result["python"]["version"].startswith("3.12")
        # Served, not fallen back (a fallback gives the same output): the launcher itself waits while
        # a run the warm supervisor forked runs the command.
        (supervisor,) = [
            int(line.rsplit("pid", 1)[1]) for line in lines if line.startswith("serving fglocal")
        ]
        _served_by(supervisor, variables["FGLOCAL_LAUNCHER"], outside, env)
    finally:
        server.stdin.close()
        assert server.wait(timeout=120) == 0


def _served_by(supervisor: int, launcher: str, outside: Path, env: Dict[str, str]) -> None:
    """The launcher running a handler that sleeps: it waits itself, for a new run of ``supervisor``."""
    import signal
    import threading

    function = outside / "sleeper"
    function.mkdir(exist_ok=True)
    marker = function / "started"
    (function / "index.py").write_text(
        "import time\n\ndef handler(event, context):\n"
        "    open(%r, 'w').write('x')\n    time.sleep(300)\n" % str(marker)
    )

    def runs() -> List[int]:  # the supervisor's children that run a command watch it from a thread
        with open("/proc/%d/task/%d/children" % (supervisor, supervisor)) as handle:
            children = [int(pid) for pid in handle.read().split()]
        return [
            pid
            for pid in children
            if os.path.exists("/proc/%d/task" % pid) and len(os.listdir("/proc/%d/task" % pid)) > 1
        ]

    before = runs()
    proc = subprocess.Popen(
        [launcher, "index.handler", "--runtime", "python3.12", "--timeout", "300"],
        cwd=str(function),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        for _ in range(1200):
            if marker.exists():
                break
            threading.Event().wait(0.05)
        assert marker.exists(), "the handler never started"
        assert os.readlink("/proc/%d/exe" % proc.pid) == launcher  # no exec of the Python fglocal
        assert len([pid for pid in runs() if pid not in before]) == 1
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
    assert proc.returncode == 130


async def test_language_server_completes_and_diagnoses(
    tools_python: Path, checkout: Path, outside: Path, clean_env: Dict[str, str]
) -> None:
    root = outside / "projects"
    shutil.copytree(checkout / "tests" / "fixtures" / "server" / "projects", root)
    client = make_client()
    await client.start_io(str(tools_python), "-m", "server", env=clean_env, cwd=str(outside))
    try:
        await start(client, root)
        path = root / "py39" / "index.py"
        text = "def handler(event, context):\n    context.\n"
        await open_document(client, path, text)
        completion = await client.text_document_completion_async(
            types.CompletionParams(
                text_document=types.TextDocumentIdentifier(uri=path.as_uri()),
                position=position_of(text, "context."),
            )
        )
        await close_document(client, path)
        assert completion is not None
        assert "getRequestID" in [item.label for item in completion.items]

        diagnostics = await open_document(client, path, "def handler(event):\n    return 1\n")
        assert "handler-signature" in codes(diagnostics)
        await close_document(client, path)
        await client.shutdown_session()
    finally:
        await client.stop()


@pytest.fixture
def tools_dap(tools_python: Path, outside: Path, clean_env: Dict[str, str]) -> Iterator[DAPClient]:
    client = DAPClient([str(tools_python), "-m", "debug_adapter"], cwd=outside, env=clean_env)
    yield client
    client.close()


def test_debug_adapter_stops_at_a_breakpoint(tools_dap: DAPClient, checkout: Path) -> None:
    hello = checkout / "tests" / "fixtures" / "debug" / "hello"
    index = hello / "index.py"
    launch = tools_dap.launch(
        {"codeUri": str(hello), "handler": "index.handler", "event": {"name": "bob"}},
        {str(index): [bp(index, "handler")]},
    )
    assert tools_dap.response(launch)["success"]
    stopped = tools_dap.stopped()
    assert stopped["body"]["reason"] == "breakpoint"
    frame = tools_dap.top_frame(stopped["body"]["threadId"])
    assert (frame["name"], frame["line"], frame["source"]["path"]) == (
        "handler",
        bp(index, "handler"),
        str(index),
    )
    before = len(tools_dap.events)
    tools_dap.request("continue", {"threadId": stopped["body"]["threadId"]})
    result = tools_dap.wait_for_event("functiongraph/result", after=before)["body"]
    assert json.loads(result["body"]) == {"greeting": "hello bob", "ready": False}


@pytest.mark.parametrize(
    "argv",
    [["server"], ["debug_adapter"], ["debug_adapter", "--port", "0"]],
    ids=["server", "adapter", "port"],
)
def test_without_tools_extra_names_the_extra(
    argv: List[str], bare_python: Path, outside: Path, clean_env: Dict[str, str]
) -> None:
    done = run([str(bare_python), "-m", *argv], outside, clean_env)
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert TOOLS_INSTALL in lines[0]
    assert "Traceback" not in done.stderr


def test_debug_launch_without_debugpy_names_the_extra(
    bare_python: Path, checkout: Path, outside: Path, clean_env: Dict[str, str]
) -> None:
    # The adapter itself (past the entry point's check), serving a launch where debugpy is missing.
    serve = "import sys; from debug_adapter.adapter import serve_stdio; sys.exit(serve_stdio())"
    client = DAPClient([str(bare_python), "-c", serve], cwd=outside, env=clean_env)
    try:
        client.initialize()
        hello = checkout / "tests" / "fixtures" / "debug" / "hello"
        response = client.response(
            client.send_request(
                "launch",
                {
                    "type": "functiongraph",
                    "request": "launch",
                    "codeUri": str(hello),
                    "handler": "index.handler",
                },
            )
        )
        assert response["success"] is False
        assert TOOLS_INSTALL in response["message"]
        assert "debugpy" in response["message"]
        assert "Error" not in response["message"]  # no exception text such as ModuleNotFoundError(...)
    finally:
        client.close()


def test_tools_extra_matches_the_extension_bundle_and_python_floor() -> None:
    with open(REPO / "pyproject.toml", "rb") as source:
        tools = tomllib.load(source)["project"]["optional-dependencies"][TOOLS_EXTRA]
    pins = dict(
        line.split("==")
        for line in (REPO / "vscode-extension" / "requirements.txt").read_text().split("\n")
        if line.strip() and not line.startswith("#")
    )
    floor = "python_version >= '%d.%d'" % MIN_TOOLS_PYTHON
    for requirement in tools:
        if requirement.startswith("functiongraph-devkit["):
            # The cloud extra (the Huawei Cloud SDK) is part of tools, and the .vsix bundles its pins.
            assert requirement == "functiongraph-devkit[cloud]", requirement
            with open(REPO / "pyproject.toml", "rb") as source:
                cloud = tomllib.load(source)["project"]["optional-dependencies"]["cloud"]
            for pin in cloud:
                name, version = pin.split("==")
                assert pins.get(name) == version, "requirements.txt must bundle " + pin
            continue
        pin, _, marker = requirement.partition(";")
        name, version = pin.strip().split("==")
        assert marker.strip() == floor, requirement  # below it the extra installs nothing, fglocal still does
        assert pins.get(name) == version, "vscode-extension/requirements.txt must bundle %s==%s" % (
            name,
            version,
        )


def oldest_python() -> str:
    """An interpreter of the oldest Python the distribution supports (pyenv's or the system's)."""
    candidates = sorted(
        (Path.home() / ".pyenv" / "versions").glob(OLDEST_PYTHON + ".*/bin/python" + OLDEST_PYTHON)
    )
    candidates += [Path(folder) / ("python" + OLDEST_PYTHON) for folder in ("/usr/local/bin", "/usr/bin")]
    for candidate in candidates:
        if candidate.exists():
            return str(candidate)
    pytest.skip("python%s is not installed on this machine" % OLDEST_PYTHON)


def test_oldest_python_installs_fglocal_and_the_tools_name_their_floor(
    wheel: Path, checkout: Path, outside: Path, tmp_path: Path, clean_env: Dict[str, str]
) -> None:
    venv = tmp_path / "venv"
    checked([oldest_python(), "-m", "venv", str(venv)], tmp_path, clean_env)
    python = venv / "bin" / "python"
    # This venv's own pip (pip's current release no longer runs on the oldest Python).
    checked([str(python), "-m", "pip", "install", "--quiet", "%s[tools]" % wheel], tmp_path, clean_env)
    installed = checked([str(python), "-m", "pip", "list", "--format=freeze"], tmp_path, clean_env).stdout
    assert "functiongraph-devkit==" in installed
    assert not [n for n in ("pygls", "lsprotocol", "debugpy", "parso") if n + "==" in installed]
    hello = checkout / "examples" / "hello"
    done = checked(
        [str(venv / "bin" / "fglocal"), "invoke", "--code-dir", str(hello), "--json", "--event-json", "{}"],
        outside,
        clean_env,
    )
    assert json.loads(done.stdout)["error"] is None
    for module in ("server", "debug_adapter"):
        done = run([str(python), "-m", module], outside, clean_env)
        assert done.returncode == 2
        lines = done.stderr.splitlines()
        assert len(lines) == 1, done.stderr
        assert "needs Python %d.%d or newer (this is %s)" % (*MIN_TOOLS_PYTHON, OLDEST_PYTHON) in lines[0]
        assert TOOLS_INSTALL in lines[0]


def test_cloud_extra_pins_one_sdk_release() -> None:
    with open(REPO / "pyproject.toml", "rb") as source:
        cloud = tomllib.load(source)["project"]["optional-dependencies"]["cloud"]
    pins = dict(requirement.split("==") for requirement in cloud)
    assert set(pins) == {"huaweicloudsdkcore", "huaweicloudsdkfunctiongraph"}
    assert len(set(pins.values())) == 1 and next(iter(pins.values())).startswith("3.1."), pins


# ---------------------------------------------------------------- the advice in each context
# The tools run from pip's install or from the VS Code extension's bundle (bundled/tool, bundled/libs
# on PYTHONPATH: vscode-extension/src/bundle.ts); what to do about a missing package or an old Python
# differs (the cloud commands' message: tests/test_cloud_session.py).


def extension_layout(tmp_path: Path) -> Path:
    """The extension's layout: the kit's packages in bundled/tool, bundled/libs empty (damaged)."""
    bundle = tmp_path / "ext" / "bundled"
    for package in PACKAGES:
        shutil.copytree(
            REPO / package,
            bundle / "tool" / package,
            ignore=shutil.ignore_patterns("__pycache__", "node-test", "node_modules"),
        )
    (bundle / "libs").mkdir()
    return bundle


def with_path(*folders: Path) -> Dict[str, str]:
    """This environment with only ``folders`` on PYTHONPATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON") and k != "VIRTUAL_ENV"}
    env["PYTHONPATH"] = os.pathsep.join(str(folder) for folder in folders)
    return env


def one_line(python: str, module: str, cwd: Path, env: Dict[str, str]) -> str:
    """The one line ``python -S -m module`` says before exiting 2 (-S: no site-packages, no tools)."""
    done = run([python, "-S", "-m", module], cwd, env)
    assert done.returncode == 2, done
    assert done.stdout == "" and "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


def assert_extension_advice(line: str, bundle: Path) -> None:
    assert "bundled with the FunctionGraph extension" in line, line
    assert os.path.realpath(bundle) in line and "reinstall the FunctionGraph extension" in line
    assert "pip install" not in line


@pytest.mark.parametrize("module", ["server", "debug_adapter"])
def test_a_missing_package_gets_the_advice_of_its_context(module: str, tmp_path: Path) -> None:
    bundle = extension_layout(tmp_path)
    needs = "needs the Python package %r" % ("debugpy" if module == "debug_adapter" else "lsprotocol")
    line = one_line(sys.executable, module, tmp_path, with_path(bundle / "tool", bundle / "libs"))
    assert needs in line
    assert_extension_advice(line, bundle)
    # The same copy without the extension's libs on PYTHONPATH: an install without the extra.
    line = one_line(sys.executable, module, tmp_path, with_path(bundle / "tool"))
    assert needs in line and TOOLS_INSTALL in line and "'tools' extra" in line and "extension" not in line


def test_a_launch_without_debugpy_gets_the_advice_of_its_context(tmp_path: Path) -> None:
    bundle = extension_layout(tmp_path)
    serve = "import sys; from debug_adapter.adapter import serve_stdio; sys.exit(serve_stdio())"
    hello = REPO / "tests" / "fixtures" / "debug" / "hello"
    for env in (with_path(bundle / "tool", bundle / "libs"), with_path(bundle / "tool")):
        client = DAPClient([sys.executable, "-S", "-c", serve], cwd=tmp_path, env=env)
        try:
            client.initialize()
            arguments = {"type": "functiongraph", "request": "launch", "codeUri": str(hello)}
            arguments["handler"] = "index.handler"
            response = client.response(client.send_request("launch", arguments))
        finally:
            client.close()
        assert response["success"] is False and "'debugpy'" in response["message"]
        if "libs" in env["PYTHONPATH"]:
            assert_extension_advice(response["message"], bundle)
        else:
            assert TOOLS_INSTALL in response["message"] and "extension" not in response["message"]


@pytest.mark.parametrize("module", ["server", "debug_adapter"])
def test_an_old_python_gets_the_advice_of_its_context(module: str, tmp_path: Path) -> None:
    from fglocal.distribution import EXTENSION_PYTHON_SETTING

    old = oldest_python()
    bundle = extension_layout(tmp_path)
    floor = "needs Python %d.%d or newer (this is %s)" % (*MIN_TOOLS_PYTHON, OLDEST_PYTHON)
    line = one_line(old, module, tmp_path, with_path(bundle / "tool", bundle / "libs"))
    assert floor in line and "set %r in VS Code's settings" % EXTENSION_PYTHON_SETTING in line, line
    assert "pip install" not in line
    line = one_line(old, module, tmp_path, with_path(bundle / "tool"))
    assert floor in line and TOOLS_INSTALL in line and "extension" not in line and "VS Code" not in line
    # The setting named is the extension's.
    package = json.loads((REPO / "vscode-extension" / "package.json").read_text(encoding="utf-8"))
    assert EXTENSION_PYTHON_SETTING in package["contributes"]["configuration"]["properties"]
