"""The ``fglocal invoke`` command a session runs, its private work folder and its result side channel."""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import fglocal
from debug_adapter.launch_config import LaunchPlan

FGLOCAL_DIR = Path(fglocal.__file__).resolve().parent
POLL_SECONDS = 0.05


class Invocation:
    """A prepared ``fglocal invoke`` run: command line, environment, files; ``close()`` removes them."""

    def __init__(self, plan: LaunchPlan) -> None:
        self.plan = plan
        self.workdir = Path(tempfile.mkdtemp(prefix="fg-debug-"))
        self.result_file = self.workdir / "results.jsonl"
        self.config_file = self.workdir / "fglocal.json"
        self.event_file = self.workdir / "event.json"
        self.log_dir = self.workdir / "logs"
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
            "--code-dir", str(self.plan.code_dir),
            "--config", str(self.config_file),
            "--event", str(self.event_file),
            "--repeat", str(self.plan.repeat),
            "--json",
            "--result-file", str(self.result_file),
        ]

    @property
    def cwd(self) -> str:
        """The function's code root: relative paths in user code work as on the platform."""
        return str(self.plan.config.code_root)

    def env(self) -> Dict[str, str]:
        """Environment changes for the function's process (``fglocal`` made importable)."""
        changes: Dict[str, str] = {"PYTHONUNBUFFERED": "1"}
        for name, value in self.plan.config.credentials.items():
            from fglocal.config import CREDENTIAL_ENV

            changes[CREDENTIAL_ENV[name]] = value
        if not _importable_from(self.plan.python):
            # Another interpreter: give it fglocal (and nothing else of ours) through a one-entry folder.
            shim = self.workdir / "path"
            shim.mkdir(exist_ok=True)
            link = shim / "fglocal"
            if not link.exists():
                link.symlink_to(FGLOCAL_DIR, target_is_directory=True)
            existing = os.environ.get("PYTHONPATH")
            changes["PYTHONPATH"] = str(shim) + (os.pathsep + existing if existing else "")
        return changes

    def rules(self) -> List[Dict[str, Any]]:
        """debugpy ``rules`` that hide the runtime's frames from the user."""
        return [
            {"module": "fglocal", "include": False},
            {"path": str(FGLOCAL_DIR), "include": False},
            {"path": str(self.workdir), "include": False},
        ]

    def close(self) -> None:
        """Remove the work folder."""
        shutil.rmtree(self.workdir, ignore_errors=True)


def _importable_from(python: str) -> bool:
    return os.path.realpath(python) == os.path.realpath(sys.executable)


class ResultWatcher:
    """Follows the ``--result-file`` side channel and hands each complete JSON line to ``on_result``."""

    def __init__(self, path: Path, on_result: Callable[[Dict[str, Any]], None]) -> None:
        self._path = path
        self._on_result = on_result
        self._offset = 0
        self._partial = b""
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None

    def start(self) -> None:
        """Poll the file on a background thread until :meth:`stop`."""
        self._thread = threading.Thread(target=self._loop, name="result-watcher", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            self.drain()

    def drain(self) -> None:
        """Deliver every complete line written so far (safe from any thread)."""
        with self._lock:
            try:
                with open(self._path, "rb") as stream:
                    stream.seek(self._offset)
                    data = stream.read()
            except OSError:
                return
            self._offset += len(data)
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

    def stop(self) -> None:
        """Stop polling (call :meth:`drain` afterwards for the last lines)."""
        self._stop.set()
