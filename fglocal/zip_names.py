r"""File names that cannot go into the package as they are: they break or escape when unzipped.

The zip is unpacked by the platform (Linux), but also by people: the console's download, a colleague on
Windows or macOS. A name that is not UTF-8 cannot be stored faithfully; a backslash is a folder
separator to Windows unzip tools (``..\..\x`` lands outside the folder); control characters rewrite
the terminal that lists the zip; names that differ only in case or Unicode normalization overwrite
each other on Windows and macOS. Those are refused. Names Windows cannot create (``aux.py``,
``a:b``) are fine on the platform and only warned about.
"""

from __future__ import annotations

import unicodedata
from typing import Dict, Iterable, List, Optional, Tuple

_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL"} | {f"{p}{n}" for p in ("COM", "LPT") for n in range(1, 10)}
_WINDOWS_FORBIDDEN = set('<>:"|?*')


def name_problem(name: str) -> Optional[str]:
    """Why one path component (a file or folder name) cannot be zipped as it is, or None."""
    if any(0xDC80 <= ord(char) <= 0xDCFF for char in name):
        return "its name is not UTF-8 (the zip stores UTF-8 names)"
    if name in ("", ".", ".."):
        return "its name is a relative folder reference"
    if "\\" in name:
        return "its name holds a backslash, a folder separator on Windows (it could unzip outside the folder)"
    if "/" in name:
        return "its name holds a slash"
    if not name.isprintable():
        return "its name holds control or invisible formatting characters"
    return None


def arcname_problem(arcname: str) -> Optional[str]:
    """Why a path inside the zip is unsafe (absolute, with ``..``, or a bad component), or None."""
    if arcname.startswith("/") or (len(arcname) > 1 and arcname[1] == ":"):
        return "it is an absolute path"
    for part in arcname.split("/"):
        problem = name_problem(part)
        if problem:
            return problem
    return None


def windows_warning(arcname: str) -> Optional[str]:
    """Why Windows could not unzip ``arcname`` (fine on the platform), or None."""
    for part in arcname.split("/"):
        if set(part) & _WINDOWS_FORBIDDEN:
            return 'a name with any of < > : " | ? * cannot be created on Windows'
        if part.split(".", 1)[0].upper() in _WINDOWS_RESERVED:
            return "a name Windows reserves for a device (CON, PRN, AUX, NUL, COM1-9, LPT1-9)"
        if part.endswith((".", " ")):
            return "Windows drops a dot or space at the end of a name"
    return None


def _folded(arcname: str) -> str:
    return unicodedata.normalize("NFC", arcname).casefold()


def collisions(arcnames: Iterable[str]) -> List[Tuple[str, str]]:
    """Pairs of paths that name one file on a case-insensitive, normalizing file system."""
    seen: Dict[str, str] = {}
    folders: Dict[str, str] = {}
    names = sorted(arcnames)
    for arcname in names:
        parts = arcname.split("/")
        for depth in range(1, len(parts)):
            folder = "/".join(parts[:depth])
            folders.setdefault(_folded(folder), folder)
    pairs: List[Tuple[str, str]] = []
    for arcname in names:
        key = _folded(arcname)
        other = seen.get(key) or folders.get(key)
        if other is not None and other != arcname:
            pairs.append((other, arcname))
        else:
            seen[key] = arcname
    return pairs


def collision_kind(first: str, second: str) -> str:
    """How two colliding paths differ: "case" or "Unicode normalization"."""
    nfc = unicodedata.normalize
    return "Unicode normalization" if nfc("NFC", first) == nfc("NFC", second) else "case"
