"""Which files of a function folder carry credentials or user data: ``fglocal package`` leaves them out.

By name (env files, private keys, credential files of the common tools and of Huawei Cloud's), by
folder (``.ssh``, ``.aws``, ``.huaweicloud``...) and by content (a PEM or PuTTY private key under any
name). Each answer is the reason the package report shows. Python modules are never left out by name
(the function would not import); one that holds a private key is warned about instead.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import stat
from typing import Any, List, Optional

from fglocal import jsonc

ENV_FILE = "env file"
PRIVATE_KEY = "private key"
CREDENTIALS = "credentials file"

# Folders of credentials, wherever they appear in the tree.
SECRET_DIR_NAMES = {
    ".ssh": "SSH keys folder",
    ".gnupg": "GnuPG keys folder",
    ".aws": "credentials folder (AWS)",
    ".azure": "credentials folder (Azure)",
    ".huaweicloud": "credentials folder (Huawei Cloud SDK)",
    ".hcloud": "credentials folder (Huawei Cloud KooCLI)",
    ".docker": "credentials folder (Docker)",
    ".kube": "credentials folder (Kubernetes)",
}
# Files by name (fnmatch, case-sensitive), wherever they appear.
SECRET_FILE_PATTERNS = (
    (".env*", ENV_FILE),  # .env, .env.local, .envrc (direnv)...
    ("*.env", ENV_FILE),  # local.env, prod.env: docker compose's env_file
    ("*.pem", PRIVATE_KEY),
    ("*.key", PRIVATE_KEY),
    ("*.p12", PRIVATE_KEY),
    ("*.pfx", PRIVATE_KEY),
    ("*.jks", PRIVATE_KEY),
    ("*.keystore", PRIVATE_KEY),
    ("*.ppk", PRIVATE_KEY),  # PuTTY
    ("id_rsa*", PRIVATE_KEY),
    ("id_dsa*", PRIVATE_KEY),
    ("id_ecdsa*", PRIVATE_KEY),
    ("id_ed25519*", PRIVATE_KEY),
    (".netrc", CREDENTIALS),
    ("_netrc", CREDENTIALS),
    (".pypirc", CREDENTIALS),
    (".npmrc", CREDENTIALS),
    (".git-credentials", CREDENTIALS),
    (".pgpass", CREDENTIALS),
    (".my.cnf", CREDENTIALS),
    (".s3cfg", CREDENTIALS),
    (".boto", CREDENTIALS),
    (".dockercfg", CREDENTIALS),
    ("pip.conf", CREDENTIALS),  # index URLs with tokens
    ("pip.ini", CREDENTIALS),
    (".obsutilconfig", CREDENTIALS),  # Huawei Cloud obsutil keeps its AK/SK there
    ("credentials", CREDENTIALS),  # ~/.aws/credentials, ~/.huaweicloud/credentials
    ("credentials.json", CREDENTIALS),
    ("credentials.ini", CREDENTIALS),
    ("credentials.csv", CREDENTIALS),  # the access key file the Huawei Cloud console downloads
    ("credentials.yaml", CREDENTIALS),
    ("credentials.yml", CREDENTIALS),
    ("credentials.toml", CREDENTIALS),
    ("*_credentials.json", CREDENTIALS),  # application_default_credentials.json...
    ("*_credentials.csv", CREDENTIALS),
    ("*accessKeys.csv", CREDENTIALS),  # AWS console download
    ("rootkey.csv", CREDENTIALS),
    ("client_secret*.json", CREDENTIALS),  # OAuth client secrets
    ("secrets.json", CREDENTIALS),
    ("secrets.yaml", CREDENTIALS),
    ("secrets.yml", CREDENTIALS),
    ("secrets.toml", CREDENTIALS),
    ("secrets.ini", CREDENTIALS),
    ("secrets.txt", CREDENTIALS),
)
# Example files of secrets are documentation, not secrets.
KEPT_EXAMPLES = (".env.example", ".env.sample", ".env.template", ".env.dist", "example.env", "sample.env")
# Bytes that start a private key, whatever the file is called.
_PRIVATE_KEY_MARKERS = (b"PRIVATE KEY-----", b"PuTTY-User-Key-File-")
HEAD_BYTES = 4096  # how much of each file is read to look for a private key
# A URL that carries a password (scheme://user:password@host), and for requirement files one that
# carries a token as its user name (https://TOKEN@github.com/...; ssh's git@ is no secret).
_URL_WITH_PASSWORD = re.compile(rb"(?i)\b[a-z][a-z0-9+.-]*://[^/\s:@'\"]+:[^/\s@'\"]+@")
_HTTP_URL_WITH_USER = re.compile(rb"(?i)\b(?:[a-z]+\+)?https?://[^/\s@'\"]+@")
REQUIREMENTS_WITH_CREDENTIALS = "requirements file with credentials in a URL"
_REQUIREMENT_FILES = ("requirements*.txt", "constraints*.txt", "requirements*.in")


def secret_dir_reason(name: str) -> Optional[str]:
    """Why a folder called ``name`` is left out, or None."""
    return SECRET_DIR_NAMES.get(name)


def secret_file_reason(name: str) -> Optional[str]:
    """Why a file called ``name`` is left out for its name, or None (never for a ``.py`` module)."""
    if name in KEPT_EXAMPLES or name.endswith((".py", ".pyi")):
        return None
    for pattern, reason in SECRET_FILE_PATTERNS:
        if fnmatch.fnmatchcase(name, pattern):
            return reason
    return None


def holds_private_key(head: bytes) -> bool:
    """Tell whether the first bytes of a file (up to HEAD_BYTES) hold a private key."""
    return any(marker in head for marker in _PRIVATE_KEY_MARKERS)


def config_file_reason(path: str) -> str:
    """Why an ``fglocal.json`` is left out: it is local configuration, perhaps with credentials."""
    try:
        data = json.loads(_read_regular(path).decode("utf-8-sig"))
    except (OSError, ValueError, RecursionError):
        return "local config"
    if isinstance(data, dict) and data.get("credentials"):
        return "local config (holds credentials)"
    return "local config"


LAUNCH_ENV_FILE = "env file named by envFile in .vscode/launch.json"
_READ_LIMIT = 1024 * 1024  # a config or launch.json larger than this is not one


def _read_regular(path: str) -> bytes:
    """The bytes of a regular file of at most _READ_LIMIT; OSError for anything else (never blocks)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise OSError("not a regular file")
        data = f.read(_READ_LIMIT + 1)
    if len(data) > _READ_LIMIT:
        raise OSError("too large")
    return data


def launch_env_files(folder: str) -> List[str]:
    """The env files that debug configurations name in ``.vscode/launch.json`` of ``folder`` and above.

    Any debugger's configuration counts (the Python extension's ``envFile`` too). Relative paths are
    resolved as the debug adapter does: against the configuration's ``codeUri``, else the workspace.
    """
    found: List[str] = []
    current = os.path.realpath(folder)
    while True:
        found += _launch_env_files(os.path.join(current, ".vscode", "launch.json"), current)
        parent = os.path.dirname(current)
        if parent == current:
            return found
        current = parent


def _launch_env_files(launch: str, workspace: str) -> List[str]:
    try:
        data = jsonc.loads(_read_regular(launch).decode("utf-8-sig"))
    except (OSError, ValueError, RecursionError):
        return []
    configurations = data.get("configurations") if isinstance(data, dict) else None
    found = []
    for configuration in configurations if isinstance(configurations, list) else []:
        if not isinstance(configuration, dict):
            continue
        env_file = _substituted(configuration.get("envFile"), workspace)
        if env_file is None:
            continue
        code_uri = _substituted(configuration.get("codeUri"), workspace)
        base = os.path.join(workspace, code_uri) if code_uri else workspace
        found.append(os.path.abspath(os.path.join(base, env_file)))
    return found


def _substituted(value: Any, workspace: str) -> Optional[str]:
    """A launch.json path with VS Code's workspace variables replaced; None when it is not one."""
    if not isinstance(value, str) or not value:
        return None
    value = value.replace("${workspaceFolder}", workspace)
    value = value.replace("${workspaceFolderBasename}", os.path.basename(workspace))
    value = value.replace("${userHome}", os.path.expanduser("~"))
    return None if "${" in value else os.path.expanduser(value)


def url_password_line(data: bytes) -> int:
    """The line of the first URL carrying a password in ``data`` (1-based), or 0 when there is none."""
    found = _URL_WITH_PASSWORD.search(data)
    return data.count(b"\n", 0, found.start()) + 1 if found else 0


def is_requirements_with_credentials(name: str, data: bytes) -> bool:
    """Tell whether a requirements file names an index or a repository with credentials in its URL."""
    if not any(fnmatch.fnmatchcase(name, pattern) for pattern in _REQUIREMENT_FILES):
        return False
    return bool(_URL_WITH_PASSWORD.search(data) or _HTTP_URL_WITH_USER.search(data))
