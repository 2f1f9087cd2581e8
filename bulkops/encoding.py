"""What a job file that is not UTF-8 looks like, and how to save it as UTF-8.

Spreadsheets save "Unicode text" as UTF-16 with a byte-order mark, and older
ones save "CSV" in the machine's 8-bit code page (Windows-1252, Latin-1). A job
file must be UTF-8; :func:`not_utf8_error` says which of these a file is, where
its first bad byte sits, and how to convert it. UTF-16 saved without a
byte-order mark reads as UTF-8 with a NUL between letters: :func:`nul_error`
names it from the NULs of its first line.
"""

from __future__ import annotations

import codecs

from .errors import JobFileError

_CHUNK = 1 << 20
#: Byte-order marks of the encodings spreadsheets save as "Unicode text" (UTF-32 first:
#: its little-endian mark begins with UTF-16's).
_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32 (little-endian, by its byte-order mark)"),
    (codecs.BOM_UTF32_BE, "UTF-32 (big-endian, by its byte-order mark)"),
    (codecs.BOM_UTF16_LE, "UTF-16 (little-endian, by its byte-order mark)"),
    (codecs.BOM_UTF16_BE, "UTF-16 (big-endian, by its byte-order mark)"),
)
_SAVE_AS_UTF8 = (
    '; save it as UTF-8 (in a spreadsheet: Save As "CSV UTF-8"), '
    "or convert it: iconv -t UTF-8 -f <its encoding> FILE > NEW.csv"
)


def nul_error(name: str, first_line: str, line: int) -> JobFileError:
    """The error for a file whose first line (``first_line``, at ``line``) holds NULs.

    UTF-16 saved without a byte-order mark decodes as UTF-8 (NUL is valid UTF-8),
    every other byte a NUL, so its header would name no column bulkops knows; the
    NULs say what it is: little-endian when a NUL follows the first letter (what
    Windows writes), big-endian when one leads.
    """
    encoding = "UTF-16BE" if first_line.startswith("\x00") else "UTF-16LE"
    return JobFileError(
        name,
        f"not UTF-8 text: its first line holds NUL characters, so it looks like {encoding} "
        "saved without a byte-order mark" + _SAVE_AS_UTF8.replace("<its encoding>", encoding),
        line=line,
    )


def not_utf8_error(name: str) -> JobFileError:
    """The error for a file that is not UTF-8: what it looks like, where, and how to fix it.

    A byte-order mark names UTF-16 or UTF-32 (line 1); otherwise the message gives
    the line and column of the first byte that is not UTF-8, and the byte.
    """
    with open(name, "rb") as raw:
        head = raw.read(4)
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return JobFileError(name, f"not UTF-8 text: it is {encoding}{_SAVE_AS_UTF8}", line=1)
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    lines, column = 0, 0
    with open(name, "rb") as raw:
        while chunk := raw.read(_CHUNK):
            carried = len(decoder.getstate()[0])  # bytes held back from the last chunk
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                at = max(exc.start - carried, 0)
                start = chunk.rfind(b"\n", 0, at) + 1
                column = at - start + 1 if start else column + at + 1
                line = lines + chunk.count(b"\n", 0, at) + 1
                bad = chunk[at] if at < len(chunk) else 0
                return JobFileError(
                    name,
                    f"not UTF-8 text: byte 0x{bad:02X} at byte {column} of the line "
                    f"(perhaps Windows-1252 or Latin-1){_SAVE_AS_UTF8}",
                    line=line,
                )
            newline = chunk.rfind(b"\n")
            column = len(chunk) - newline - 1 if newline >= 0 else column + len(chunk)
            lines += chunk.count(b"\n")
    return JobFileError(
        name, f"not UTF-8 text (truncated character at the end){_SAVE_AS_UTF8}", line=lines + 1
    )


__all__ = ["not_utf8_error", "nul_error"]
