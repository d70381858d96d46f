"""Reading text files: which bytes are a file's, and which encoding they are in.

Only regular files are read (a FIFO or a device is refused by name instead of blocking
or reading without end). Text is UTF-8 (with or without a BOM) or GBK/GB18030, told
apart from Latin text that GB18030 also decodes (:mod:`toolkit.dataset.gbk`), or the
encoding the user names with ``--encoding``.
"""

from __future__ import annotations

import codecs
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from toolkit.dataset import gbk
from toolkit.errors import DataError, UsageError

ACCEPTED_ENCODINGS = ("utf-8", "utf-8-sig", "gb18030")


@dataclass(frozen=True)
class DecodedText:
    """A file's text and what we learnt decoding it."""

    text: str
    encoding: str
    """``utf-8``, ``utf-8-sig`` (UTF-8 with a BOM), ``gb18030`` (GBK and GB2312 are subsets), or the
    canonical name of the codec given with ``--encoding`` (``cp1252``, ``iso8859-1``, …)."""
    newline: str | None
    """``"\\n"``, ``"\\r\\n"``, ``"\\r"``, ``"mixed"``, or None for a file without line breaks."""

    @property
    def has_bom(self) -> bool:
        """True when the file starts with a UTF-8 byte-order mark."""
        return self.encoding == "utf-8-sig"

    @property
    def is_utf8(self) -> bool:
        """True for UTF-8, with or without a BOM."""
        return self.encoding in ("utf-8", "utf-8-sig")


def _detect_newline(text: str) -> str | None:
    crlf = text.count("\r\n")
    lf = text.count("\n") - crlf
    cr = text.count("\r") - crlf
    kinds = [name for name, n in (("\r\n", crlf), ("\n", lf), ("\r", cr)) if n]
    if not kinds:
        return None
    return kinds[0] if len(kinds) == 1 else "mixed"


def check_encoding(name: str) -> str:
    """The canonical name of a codec given with ``--encoding``; UsageError for an unknown one.

    Example:
        >>> check_encoding("Latin-1"), check_encoding("GBK"), check_encoding("windows-1252")
        ('iso8859-1', 'gbk', 'cp1252')
    """
    try:
        info = codecs.lookup(name)
    except LookupError:
        raise UsageError(f"unknown encoding {name!r}",
                         hint="give a Python codec name, e.g. cp1252, latin-1, gb18030, big5, shift_jis") from None
    try:
        "".encode(info.name).decode(info.name)
    except (LookupError, TypeError, ValueError):  # bytes-to-bytes codecs such as base64
        raise UsageError(f"{name!r} is not a text encoding", hint="give a text codec, e.g. cp1252 or gb18030") from None
    return info.name


def _ascii_compatible(encoding: str) -> bool:
    try:
        return "id,A\n".encode(encoding) == b"id,A\n"
    except UnicodeError:
        return False


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _decode_as(data: bytes, encoding: str, source: str | Path) -> DecodedText:
    """``data`` decoded with the encoding the user named (``--encoding``); strict."""
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as err:
        raise DataError(f"is not valid {encoding}: byte 0x{data[err.start]:02x} on line {_line_of(data, err.start)} "
                        "cannot be decoded", file=source,
                        hint="check the --encoding you gave, or re-save the file as UTF-8") from None
    if text.startswith("\ufeff"):  # a byte-order mark is no part of the text
        text = text[1:]
        encoding = "utf-8-sig" if encoding == "utf-8" else encoding
    return DecodedText(text, encoding, _detect_newline(text))


def decode_bytes(data: bytes, source: str | Path = "<bytes>", encoding: str | None = None) -> DecodedText:
    """Decode UTF-8 (with or without BOM) or GBK/GB18030; anything else is a DataError.

    ``encoding`` (``--encoding``) names the encoding of a file that is not UTF-8: a file
    that is valid UTF-8 is still read as UTF-8, anything else is decoded with it, strictly.
    Without it, bytes that decode as GB18030 but are not plausibly Chinese (see
    :func:`toolkit.dataset.gbk.first_implausible_line`) are an error naming both readings.

    Example:
        >>> decode_bytes("题目".encode("gbk")).encoding
        'gb18030'
        >>> decode_bytes("Hélène".encode("cp1252"), encoding="cp1252").text
        'Hélène'
    """
    if encoding is not None:
        encoding = check_encoding(encoding)
        if not _ascii_compatible(encoding) or encoding in ("utf-8", "utf-8-sig"):
            return _decode_as(data, encoding, source)
    utf8 = _decode_utf8(data, source)
    if utf8 is not None:
        return utf8
    if encoding is not None:
        return _decode_as(data, encoding, source)
    return _decode_guessed(data, source)


def _decode_utf8(data: bytes, source: str | Path) -> DecodedText | None:
    """UTF-8 with or without BOM; None when the bytes are not UTF-8 (a UTF-16 BOM is an error)."""
    if data.startswith(codecs.BOM_UTF8):
        try:
            text = data[len(codecs.BOM_UTF8) :].decode("utf-8")
        except UnicodeDecodeError as err:
            raise DataError(f"has a UTF-8 BOM but invalid UTF-8 at byte {err.start}", file=source,
                            hint="re-save the file as UTF-8") from None
        return DecodedText(text, "utf-8-sig", _detect_newline(text))
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise DataError("is UTF-16, which is not supported", file=source,
                        hint="re-save the file as UTF-8 (CSV UTF-8), or name it with --encoding utf-16")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return DecodedText(text, "utf-8", _detect_newline(text))


def _decode_guessed(data: bytes, source: str | Path) -> DecodedText:
    """Bytes that are not UTF-8 and came without ``--encoding``: GB18030 when that reading is plausibly Chinese."""
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError as err:
        text, bad = None, err.start
    if text is not None and gbk.looks_chinese(text):
        if (implausible := gbk.first_implausible_line(data, text)) is not None:
            number, as_gb, as_latin = implausible
            raise DataError(
                f"cannot tell the encoding: line {number} reads as GB18030 {as_gb!r} but as cp1252 {as_latin!r}",
                file=source, line=number,
                hint="name the encoding: --encoding cp1252 (Western European) or --encoding gb18030 (Chinese), "
                     "or re-save the file as UTF-8")
        return DecodedText(text, "gb18030", _detect_newline(text))
    guess = gbk.guess_encoding_name(data)
    if gbk.is_gb_family(guess):
        if text is not None:  # charset_normalizer also reads it as GB: trust the two together
            return DecodedText(text, "gb18030", _detect_newline(text))
        raise DataError(f"looks like {guess} but is not valid GBK/GB18030 at byte {bad}", file=source,
                        hint="re-save the file as UTF-8 (in Excel: 'CSV UTF-8')")
    named = f"--encoding {guess}" if guess != "unknown" else "--encoding NAME"
    raise DataError(
        f"unknown text encoding (not UTF-8 or GBK/GB18030; it looks like {guess})",
        file=source,
        hint=f"name the encoding ({named}), or re-save the file as UTF-8 (in Excel: 'CSV UTF-8')",
    )


_KINDS = ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def open_regular_file(path: str | Path) -> BinaryIO:
    """Open a regular file for reading; a missing file, a folder, a FIFO or a device is a UsageError naming it.

    The file is opened without blocking, so that a FIFO is refused instead of waiting for
    a writer, and a device such as ``/dev/zero`` is refused instead of read without end.
    """
    p = Path(path)
    try:
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise UsageError("file not found", file=p, hint="check the path") from None
    except IsADirectoryError:
        raise UsageError("is a folder, not a file", file=p) from None
    except OSError as err:
        raise UsageError(f"cannot read ({err.strerror})", file=p, hint="check the file's permissions") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        if stat.S_ISDIR(mode):
            raise UsageError("is a folder, not a file", file=p)
        kind = next((name for test, name in _KINDS if test(mode)), "something else")
        raise UsageError(f"is {kind}, not a regular file", file=p, hint="give a file saved on disk")
    return os.fdopen(fd, "rb")


def read_file_bytes(path: str | Path) -> bytes:
    """The bytes of a regular file (see :func:`open_regular_file`)."""
    with open_regular_file(path) as handle:
        try:
            return handle.read()
        except OSError as err:
            raise UsageError(f"cannot read ({err.strerror})", file=Path(path)) from None


def read_text(path: str | Path, encoding: str | None = None) -> DecodedText:
    """Read and decode a text file (``encoding``: see :func:`decode_bytes`); a missing file is a usage error."""
    p = Path(path)
    return decode_bytes(read_file_bytes(p), p, encoding)
