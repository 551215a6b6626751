"""Names a user's module or package must not take, because FunctionGraph's import would fail.

The platform's guide: "a package of your own must not share a name with the standard library
(json, lib, os, ...): module loading fails". The runtime, the packager and the language server all
check a function folder with :func:`find_shadowing_modules`.
"""

from __future__ import absolute_import

import os

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: typing is not on 2.7, and importing it is slow
if TYPE_CHECKING:
    from typing import Iterable, List, Tuple

# The public top-level modules of CPython 3.10-3.13's standard library (sys.stdlib_module_names,
# which 3.8 lacks, hence the copy). Private ``_x`` modules are left out: users do not name files so.
STDLIB_MODULES = frozenset(
    """
    abc aifc antigravity argparse array ast asynchat asyncio asyncore atexit audioop base64 bdb
    binascii binhex bisect builtins bz2 cProfile calendar cgi cgitb chunk cmath cmd code codecs
    codeop collections colorsys compileall concurrent configparser contextlib contextvars copy
    copyreg crypt csv ctypes curses dataclasses datetime dbm decimal difflib dis distutils doctest
    email encodings ensurepip enum errno faulthandler fcntl filecmp fileinput fnmatch fractions
    ftplib functools gc genericpath getopt getpass gettext glob graphlib grp gzip hashlib heapq hmac
    html http idlelib imaplib imghdr imp importlib inspect io ipaddress itertools json keyword
    lib2to3 linecache locale logging lzma mailbox mailcap marshal math mimetypes mmap modulefinder
    msilib msvcrt multiprocessing netrc nis nntplib nt ntpath nturl2path numbers opcode operator
    optparse os ossaudiodev pathlib pdb pickle pickletools pipes pkgutil platform plistlib poplib
    posix posixpath pprint profile pstats pty pwd py_compile pyclbr pydoc pydoc_data pyexpat queue
    quopri random re readline reprlib resource rlcompleter runpy sched secrets select selectors
    shelve shlex shutil signal site smtpd smtplib sndhdr socket socketserver spwd sqlite3
    sre_compile sre_constants sre_parse ssl stat statistics string stringprep struct subprocess
    sunau symtable sys sysconfig syslog tabnanny tarfile telnetlib tempfile termios textwrap this
    threading time timeit tkinter token tokenize tomllib trace traceback tracemalloc tty turtle
    turtledemo types typing unicodedata unittest urllib uu uuid venv warnings wave weakref
    webbrowser winreg winsound wsgiref xdrlib xml xmlrpc zipapp zipfile zipimport zlib zoneinfo
    """.split()
)
# `lib` is not a standard module, but the platform's guide names it among the forbidden names: its
# runtime keeps its own `lib` package on the path (assumption from the guide's wording).
# `test` is the CPython regression suite, which nothing imports at run time: users' test.py is fine.
RESERVED_MODULES = (STDLIB_MODULES | {"lib"}) - {"test", "this", "antigravity", "idlelib", "turtledemo"}


def module_name_of(filename):  # type: (str) -> str
    """The importable top-level name a folder entry would provide, or "" when it provides none."""
    if filename.endswith(".py"):
        return filename[:-3]
    for suffix in (".pyc", ".so", ".pyd"):
        if filename.endswith(suffix):
            return filename.split(".", 1)[0]
    return filename if "." not in filename else ""


def find_shadowing_modules(entries):  # type: (Iterable[Tuple[str, bool]]) -> List[Tuple[str, str]]
    """From (name, is_dir) entries of a code root, the (entry, module) pairs that shadow reserved names.

    A folder counts only when Python could import it (any folder can be a namespace package).
    """
    found = []
    for name, is_dir in entries:
        module = name if is_dir else module_name_of(name)
        if module in RESERVED_MODULES and (is_dir or module != name):
            found.append((name + ("/" if is_dir else ""), module))
    return sorted(found)


def shadowing_in_folder(folder):  # type: (str) -> List[Tuple[str, str]]
    """:func:`find_shadowing_modules` over the entries of ``folder`` (empty when it cannot be read)."""
    try:
        names = os.listdir(folder)  # not os.scandir: 3.5+ (and a context manager only from 3.6)
    except OSError:
        return []
    entries = [(n, os.path.isdir(os.path.join(folder, n))) for n in names if not n.startswith(".")]
    return find_shadowing_modules(entries)
