"""Bytes of a page to text: UTF-8 first, then the declared charset, then repairs."""

from __future__ import annotations

import re

from .document import BinaryDataError, _where

# -- decoding --------------------------------------------------------------------------------

_MAGIC = (
    (b"%PDF", "a PDF document"), (b"\x89PNG", "a PNG image"), (b"GIF8", "a GIF image"),
    (b"\xff\xd8\xff", "a JPEG image"), (b"PK\x03\x04", "a ZIP archive (or an Office file)"),
    (b"\x1f\x8b", "a gzip archive"), (b"BZh", "a bzip2 archive"), (b"\x7fELF", "a program"),
    (b"SQLite format 3\x00", "an SQLite database"), (b"RIFF", "a media file"),
    (b"\x00\x00\x01\x00", "an icon"), (b"OggS", "an audio file"), (b"ID3", "an MP3 file"),
)
_CHARSET = re.compile(rb"""(?:charset|encoding)\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f]")


def decode_page(data: bytes, filename: str | None = None) -> tuple[str, list[str]]:
    """Bytes of a page to text, with warnings for every guess made on the way.

    UTF-8 (a BOM allowed) first: a page that is valid UTF-8 is UTF-8 whatever it declares.
    Else the charset the page declares (``<meta charset>``, ``encoding=``); else, for a
    page that is mostly UTF-8 with some stray bytes (mixed encodings), those bytes are
    read as Windows-1252; else all of it is. UTF-16 with a BOM is accepted.

    Args:
        data: the page's bytes.
        filename: names the page in warnings and errors.

    Returns:
        ``(text, warnings)``: the decoded text and one line for every guess made.

    Raises:
        BinaryDataError: for images, archives and other binary data.
    """
    where = _where(filename)
    for magic, what in _MAGIC:
        if data.startswith(magic):
            raise BinaryDataError(where, f"this is {what}, not a page; expected UTF-8 text "
                                  "(.txt, .md, .html, .json)")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), []
        except UnicodeDecodeError:
            raise BinaryDataError(where, "starts with a UTF-16 byte-order mark but is not "
                                  "valid UTF-16; re-save it as UTF-8") from None
    if b"\x00" in data[:8192]:
        raise BinaryDataError(where, "contains NUL bytes, so it is binary data (or UTF-16 "
                              "without a byte-order mark); expected UTF-8 text")
    warnings: list[str] = []
    declared_match = _CHARSET.search(data[:4096])
    declared = declared_match.group(1).decode("ascii", "replace").lower() if declared_match else None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = None
    if text is not None:
        if declared and not _is_utf8_name(declared) and not data.isascii():
            warnings.append(f"{where}: declares charset '{declared}' but is valid UTF-8; "
                            "read as UTF-8")
        _check_not_binary(text, filename)
        return text, warnings
    if declared and not _is_utf8_name(declared):
        try:
            text = data.decode(declared)
            _check_not_binary(text, filename)
            return text, warnings
        except (LookupError, UnicodeError):  # unknown or broken codec names too
            warnings.append(f"{where}: declared charset '{declared}' does not decode it; "
                            "guessed instead")
    text, stray = _decode_mixed(data)
    good = len(re.findall(rb"[\xc2-\xf4][\x80-\xbf]+", data))
    if good > stray:
        warnings.append(f"{where}: mixed encodings: {stray} byte sequence(s) are not UTF-8 "
                        "and were read as Windows-1252")
    else:
        text = data.decode("cp1252", errors="replace")
        warnings.append(f"{where}: not UTF-8"
                        + (f" although it declares '{declared}'" if declared else "")
                        + "; read as Windows-1252")
    _check_not_binary(text, filename)
    return text, warnings


def _is_utf8_name(name: str) -> bool:
    return name.replace("-", "").replace("_", "") in ("utf8", "utf8mb4", "unicode11utf8")


def _decode_mixed(data: bytes) -> tuple[str, int]:
    """UTF-8 where the bytes are UTF-8, Windows-1252 for the stray bytes between."""
    text = data.decode("utf-8-sig", errors="surrogateescape")
    stray = 0

    def cp1252(match: re.Match[str]) -> str:
        nonlocal stray
        stray += 1
        raw = bytes(ord(c) - 0xDC00 for c in match.group())
        return raw.decode("cp1252", errors="replace")

    return re.sub("[\udc80-\udcff]+", cp1252, text), stray


def _check_not_binary(text: str, filename: str | None) -> None:
    """Reject text that is mostly control characters: binary data decoded as text."""
    sample = text[:8192]
    if not sample:
        return
    controls = len(_CONTROL.findall(sample))
    if "\x00" in sample or controls > max(8, len(sample) // 50):
        raise BinaryDataError(_where(filename), f"{controls} control characters in the first "
                              f"{len(sample)}: this is binary data, not a page; expected "
                              "UTF-8 text (.txt, .md, .html, .json)")
