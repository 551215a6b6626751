"""The ``fglocal invoke`` command a session runs, its private work folder and its result side channel."""

from __future__ import annotations

import codecs
import json
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Tuple

import fglocal
from debug_adapter.debuggee_boot import RUNTIME_ENV
from debug_adapter.launch_config import LaunchPlan
from debug_adapter.processes import is_running

FGLOCAL_DIR = Path(fglocal.__file__).resolve().parent
POLL_SECONDS = 0.05
WORKDIR_PREFIX = "fg-debug-"
STREAM_LIMIT = 4 << 20  # bytes of one invocation's output streamed live (a Debug Console is no pager)
CHUNK_BYTES = 64 << 10  # at most this much text per output event
LOG_SESSIONS_KEPT = 20  # debug sessions whose invocation logs are kept (the results name them)


class Invocation:
    """A prepared ``fglocal invoke`` run: command line, environment, files; ``close()`` removes them."""

    def __init__(self, plan: LaunchPlan) -> None:
        self.plan = plan
        remove_orphaned_workdirs()
        self.workdir = Path(tempfile.mkdtemp(prefix=WORKDIR_PREFIX))
        (self.workdir / "owner").write_text(str(os.getpid()), encoding="ascii")
        self.result_file = self.workdir / "results.jsonl"
        self.config_file = self.workdir / "fglocal.json"
        self.event_file = self.workdir / "event.json"
        self.log_dir = session_log_dir()
        self._write_files()

    def _write_files(self) -> None:
        config = self.plan.config
        data: Dict[str, Any] = {
            "codeUri": str(config.code_root),
            "handler": config.handler,
            "initializer": config.initializer,
            "initializerTimeout": config.initializer_timeout,
            "runtime": config.runtime,
            "memorySize": config.memory_size,
            "timeout": config.timeout,
            "userData": config.user_data,
            "functionName": config.function_name,
            "version": config.version,
            "alias": config.alias,
            "app": config.app,
            "projectId": config.project_id,
        }
        # Credentials stay out of files: they reach the function through FGLOCAL_* variables.
        self.config_file.write_text(json.dumps(data, indent=2), encoding="utf-8")
        self.event_file.write_text(self.plan.event_json, encoding="utf-8")
        self.result_file.touch()

    @property
    def args(self) -> List[str]:
        """Arguments after ``python -m fglocal``."""
        return [
            "invoke",
            "--code-dir",
            str(self.plan.code_dir),
            "--config",
            str(self.config_file),
            "--event",
            str(self.event_file),
            "--repeat",
            str(self.plan.repeat),
            "--json",
            "--result-file",
            str(self.result_file),
            "--log-dir",
            str(self.log_dir),
            # The function runs on its runtime's interpreter, resolved once for the session (the
            # debugpy release depends on it); the supervisor runs on the tools' own.
            *(["--python", self.plan.interpreter.path] if self.plan.interpreter else []),
        ]

    @property
    def cwd(self) -> str:
        """The function's code root: relative paths in user code work as on the platform."""
        return str(self.plan.config.code_root)

    def env(self) -> Dict[str, str]:
        """Environment changes for the function's process (``fglocal`` made importable)."""
        from fglocal.config import CREDENTIAL_ENV

        changes: Dict[str, str] = {"PYTHONUNBUFFERED": "1"}
        for name, value in self.plan.config.credentials.items():
            changes[CREDENTIAL_ENV[name]] = value
        paths: List[str] = []
        if not self.plan.no_debug:
            boot = self.workdir / "boot"  # see debuggee_boot.py: it removes itself from the path
            boot.mkdir(exist_ok=True)
            shutil.copyfile(Path(__file__).with_name("debuggee_boot.py"), boot / "sitecustomize.py")
            paths.append(str(boot))
            if self.plan.interpreter is not None:
                # Which process is the function's: the boot stays on the supervisor's path for it.
                changes[RUNTIME_ENV] = "%d.%d" % self.plan.interpreter.version[:2]
        # fglocal for the function's interpreter (whichever it is, however the adapter found its own
        # copy), through a folder that holds nothing else: none of the adapter's packages leak in.
        shim = self.workdir / "path"
        shim.mkdir(exist_ok=True)
        link = shim / "fglocal"
        if not link.exists():
            link.symlink_to(FGLOCAL_DIR, target_is_directory=True)
        paths.append(str(shim))
        # The user's PYTHONPATH goes on, minus the folders the tools were installed from (an editor
        # may put its bundled packages there to start the adapter): the function must not see them.
        own = {_package_folder(name) for name in ("debug_adapter", "debugpy")}
        inherited = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
        paths += [p for p in inherited if os.path.realpath(p) not in own]
        changes["PYTHONPATH"] = os.pathsep.join(paths)
        return changes

    def rules(self) -> List[Dict[str, Any]]:
        """The debugpy ``rules`` that hide the runtime's frames from the user."""
        return [
            {"module": "fglocal", "include": False},
            {"path": str(FGLOCAL_DIR), "include": False},
            {"path": str(self.workdir), "include": False},
        ]

    def close(self) -> None:
        """Remove the work folder."""
        shutil.rmtree(self.workdir, ignore_errors=True)


def remove_orphaned_workdirs() -> None:
    """Remove work folders of adapters that died without cleaning up (e.g. killed with SIGKILL)."""
    for folder in Path(tempfile.gettempdir()).glob(WORKDIR_PREFIX + "*"):
        try:
            owner = int((folder / "owner").read_text(encoding="ascii"))
        except (OSError, ValueError):
            continue  # not ours, or still being set up
        if owner != os.getpid() and not is_running(owner):
            shutil.rmtree(folder, ignore_errors=True)


def _package_folder(name: str) -> str:
    """The sys.path folder a package of ours was imported from."""
    module = __import__(name)
    return os.path.realpath(os.path.dirname(os.path.dirname(module.__file__ or "")))


def session_log_dir() -> Path:
    """A new folder for one session's invocation logs, beside fglocal's own; old ones are pruned."""
    from fglocal.instance import default_log_dir

    base = Path(default_log_dir()).parent / "debug-logs"
    base.mkdir(parents=True, exist_ok=True)
    sessions = sorted(base.iterdir(), key=lambda p: p.stat().st_mtime)
    for old in sessions[: max(0, len(sessions) - LOG_SESSIONS_KEPT)]:
        shutil.rmtree(old, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=time.strftime("%Y%m%d-%H%M%S-"), dir=base))


class SideChannels:
    """Follows what the run writes beside its output: invocation logs (live) and result lines.

    The instance writes each invocation's stdout/stderr to ``<log_dir>/<request id>.log``; the
    supervisor appends one JSON object per invocation to the result file after the log's last line.
    Polling both in that order keeps the Debug Console in order: the function's own lines first,
    then its result.
    """

    def __init__(
        self,
        result_file: Path,
        log_dir: Path,
        on_result: Callable[[Dict[str, Any]], None],
        on_log: Callable[[str], None],
    ) -> None:
        self._result_file = result_file
        self._log_dir = log_dir
        self._on_result = on_result
        self._on_log = on_log
        self._result_offset = 0
        self._partial = b""
        self._logs: Dict[str, Tuple[int, Any]] = {}  # path -> (offset, incremental decoder)
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def start(self) -> None:
        """Poll on a background thread until :meth:`stop`."""
        threading.Thread(target=self._loop, name="side-channels", daemon=True).start()

    def _loop(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            self.drain()

    def stop(self) -> None:
        """Stop polling (call :meth:`drain` afterwards for the last lines)."""
        self._stop.set()

    def drain(self) -> None:
        """Deliver all log text and every complete result line written so far (any thread)."""
        with self._lock:
            self._drain_logs()
            self._drain_results()

    def _drain_logs(self) -> None:
        try:
            entries = [e for e in os.scandir(self._log_dir) if e.name.endswith(".log")]
        except OSError:
            return
        entries.sort(key=lambda e: (e.stat().st_mtime, e.name))
        for entry in entries:
            offset, decoder = self._logs.get(entry.path, (0, None))
            if decoder is None:
                decoder = codecs.getincrementaldecoder("utf-8")("replace")
            if offset >= STREAM_LIMIT:
                continue  # past the limit the note below was shown; the log file has the rest
            data = _read_from(entry.path, offset, STREAM_LIMIT - offset)
            for start in range(0, len(data), CHUNK_BYTES):
                text = decoder.decode(data[start : start + CHUNK_BYTES])
                if text:
                    self._on_log(text)
            offset += len(data)
            if offset >= STREAM_LIMIT:
                self._on_log(
                    "\n[output beyond %d MB is not streamed here; the full log is %s]\n"
                    % (STREAM_LIMIT >> 20, entry.path)
                )
            self._logs[entry.path] = (offset, decoder)

    def _drain_results(self) -> None:
        data = _read_from(str(self._result_file), self._result_offset)
        self._result_offset += len(data)
        lines = (self._partial + data).split(b"\n")
        self._partial = lines.pop()
        for line in lines:
            if not line.strip():
                continue
            try:
                result = json.loads(line.decode("utf-8"))
            except ValueError:
                continue
            if isinstance(result, dict):
                self._on_result(result)


def _read_from(path: str, offset: int, limit: int = -1) -> bytes:
    try:
        with open(path, "rb") as stream:
            stream.seek(offset)
            return stream.read(limit)
    except OSError:
        return b""
