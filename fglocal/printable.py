"""Text from the user's files and folders made safe to print: nothing in it can drive a terminal.

File names, keys and paths come from places the user (or a cloned repository) controls: they may hold
control characters (an ESC sequence rewrites the screen), bidirectional overrides (which make a name
read differently), bytes that are not UTF-8 (which crash an encoder) or lone surrogates.
"""

from __future__ import annotations


def printable(text: str) -> str:
    r"""``text`` with every character a terminal would act on escaped: ``\x1b``, ``\u202e``, ``\xe9``.

    Bytes of a file name that are not UTF-8 (held as surrogate escapes) come out as ``\xNN``, the bytes
    they were; a backslash is doubled so that the escapes cannot be confused with the text.
    """
    if text.isprintable() and "\\" not in text:
        return text
    out = []
    for char in text:
        code = ord(char)
        if char == "\\":
            out.append("\\\\")
        elif 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (os.fsdecode's surrogateescape)
            out.append("\\x%02x" % (code - 0xDC00))
        elif char.isprintable():
            out.append(char)
        elif code < 0x100:
            out.append("\\x%02x" % code)
        elif code < 0x10000:
            out.append("\\u%04x" % code)
        else:
            out.append("\\U%08x" % code)
    return "".join(out)
