"""Client settings: ``initializationOptions`` and ``workspace/didChangeConfiguration``.

camelCase on the wire (``runtime``, ``handler``, ``initializer``, ``diagnostics.enabled``,
``diagnostics.disabledCodes``, ``diagnostics.debounceMs``, ``testEvents``), typed here. A value that makes no sense
is ignored with a warning the server sends to the client's log, so a typo never silently changes
behaviour.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, FrozenSet, List, Mapping, Optional, Tuple

from fglocal.config import RUNTIMES, ConfigError, check_entry
from server.analysis.diagnostics import CODES

SECTION = "functiongraph"
DEFAULT_DEBOUNCE_MS = 200


@dataclass(frozen=True)
class DiagnosticsSettings:
    """Which diagnostics the server publishes, and how long it waits after an edit."""

    enabled: bool = True
    disabled_codes: FrozenSet[str] = frozenset()
    debounce_ms: int = DEFAULT_DEBOUNCE_MS

    def enabled_codes(self) -> FrozenSet[str]:
        """The codes to publish (empty when diagnostics are off)."""
        return frozenset(CODES) - self.disabled_codes if self.enabled else frozenset()


@dataclass(frozen=True)
class Settings:
    """The server's settings; None fields mean "as the function config file (fglocal.json) says"."""

    runtime: Optional[str] = None
    handler: Optional[str] = None
    initializer: Optional[str] = None
    diagnostics: DiagnosticsSettings = field(default_factory=DiagnosticsSettings)
    # The selected test event of each function folder: (folder, event file), absolute paths.
    test_events: Tuple[Tuple[str, str], ...] = ()


def parse_settings(raw: Any) -> Tuple[Settings, List[str]]:
    """Settings from the client's JSON, and a warning for every value that was ignored."""
    warnings: List[str] = []
    if raw is None:
        return Settings(), warnings
    if not isinstance(raw, Mapping):
        return Settings(), ["settings must be an object, got %s; using the defaults" % type(raw).__name__]
    if isinstance(raw.get(SECTION), Mapping):
        raw = raw[SECTION]
    runtime = raw.get("runtime")
    if runtime in ("", None):
        runtime = None
    elif runtime not in RUNTIMES:
        warnings.append(
            "runtime %r is not one of %s; using fglocal.json's runtime" % (runtime, ", ".join(RUNTIMES))
        )
        runtime = None
    entries: Dict[str, Optional[str]] = {}
    for key in ("handler", "initializer"):
        value = raw.get(key)
        if value in ("", None):
            entries[key] = None
            continue
        try:
            check_entry(value, key)
            entries[key] = value
        except ConfigError as error:
            warnings.append("%s; using fglocal.json's %s" % (error, key))
            entries[key] = None
    return (
        Settings(
            runtime,
            entries["handler"],
            entries["initializer"],
            _diagnostics(raw.get("diagnostics"), warnings),
            _test_events(raw.get("testEvents"), warnings),
        ),
        warnings,
    )


def _test_events(raw: Any, warnings: List[str]) -> Tuple[Tuple[str, str], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, Mapping):
        warnings.append("testEvents must map function folders to event files; ignored")
        return ()
    pairs = []
    for folder, file in raw.items():
        if isinstance(folder, str) and isinstance(file, str) and file:
            pairs.append((folder, file))
        else:
            warnings.append("testEvents: %r -> %r is not a folder and a file path; ignored" % (folder, file))
    return tuple(sorted(pairs))


def _diagnostics(raw: Any, warnings: List[str]) -> DiagnosticsSettings:
    defaults = DiagnosticsSettings()
    if raw is None:
        return defaults
    if not isinstance(raw, Mapping):
        warnings.append("diagnostics must be an object; using the defaults")
        return defaults
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        warnings.append("diagnostics.enabled must be true or false, got %r; using true" % (enabled,))
        enabled = True
    disabled = raw.get("disabledCodes", [])
    codes: List[str] = []
    if not isinstance(disabled, list):
        warnings.append("diagnostics.disabledCodes must be a list of codes; ignored")
        disabled = []
    for code in disabled:
        if code in CODES:
            codes.append(code)
        else:
            warnings.append(
                "diagnostics.disabledCodes: unknown code %r (known: %s)" % (code, ", ".join(CODES))
            )
    debounce = raw.get("debounceMs", DEFAULT_DEBOUNCE_MS)
    if not isinstance(debounce, int) or isinstance(debounce, bool) or not 0 <= debounce <= 5000:
        warnings.append(
            "diagnostics.debounceMs must be 0-5000, got %r; using %d" % (debounce, DEFAULT_DEBOUNCE_MS)
        )
        debounce = DEFAULT_DEBOUNCE_MS
    return DiagnosticsSettings(enabled, frozenset(codes), debounce)
