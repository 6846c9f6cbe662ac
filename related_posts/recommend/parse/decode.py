"""Bytes of a page to text: UTF-8 first, then the declared charset, then repairs and guesses."""

from __future__ import annotations

import codecs
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
_HIGH = bytes(range(0x80, 0x100))
_STRAY = re.compile("[\udc80-\udcff]+")
_C1_CONTROL = re.compile("[\x80-\x9f]")
_DROP_ASCII = dict.fromkeys(range(0x80))

# Labels Python does not know, as the codecs pages that use them are in.
_ALIASES = {"windows-874": "cp874", "x-sjis": "cp932", "windows-31j": "cp932", "x-gbk": "gbk",
            "x-euc-jp": "euc_jp", "x-mac-roman": "mac_roman", "macintosh": "mac_roman"}
# Declared charsets read as their Windows superset, as browsers do (the WHATWG Encoding
# standard): the two differ only in 0x80-0x9F, control characters in the ISO charset and
# punctuation (curly quotes, dashes, the euro sign) in the Windows one.
_WINDOWS = {"iso8859-1": "cp1252", "ascii": "cp1252", "iso8859-9": "cp1254",
            "iso8859-11": "cp874", "tis-620": "cp874"}
# A declared East Asian charset that does not decode is tried again as the Windows
# extension pages labelled so are mostly in.
_EXTENDED = {"shift_jis": "cp932", "euc_kr": "cp949", "gb2312": "gb18030", "gbk": "gb18030",
             "big5": "cp950"}

# What a page in a Western European language holds beyond ASCII, read as Windows-1252:
# the letters of English, French, German, Spanish, Italian, Portuguese, Dutch and Catalan,
# or those of Swedish, Danish, Norwegian and Finnish, and common punctuation. Left out are
# the letters that Central European, Turkish, Cyrillic, Greek, Hebrew and Arabic bytes
# mostly turn into when read so (ð þ ý ÿ š ž ¹ ³ ± ¤ ..., and å æ ø among the letters of
# the south): a page with them goes to charset-normalizer.
_PUNCTUATION = ("\u201c\u201d\u2018\u2019\u201e\u201a\u2013\u2014\u2026«»‹›€£¢°·•×¡¿©®™§ªº²½µ´†‡‰"
                "\u00a0\u00ad")
_WESTERN = (frozenset("àâäçéèêëîïôöùûüœáíóúñãõìòßÀÂÄÇÉÈÊËÎÏÔÖÙÛÜŒÁÍÓÚÑÃÕÌÒ" + _PUNCTUATION),
            frozenset("äöåæøéüÄÖÅÆØÉÜ" + _PUNCTUATION))
# Mess (charset-normalizer's measure of implausible characters) above which a declared
# charset is not believed, and up to which a Windows-1252 reading counts as Western.
_DECLARED_MESS = 0.2
_WESTERN_MESS = 0.1


def decode_page(data: bytes, filename: str | None = None) -> tuple[str, list[str]]:
    """Bytes of a page to text, with warnings for every guess made on the way.

    UTF-8 (a BOM allowed) first: a page that is valid UTF-8 is UTF-8 whatever it declares.
    Else the charset the page declares (``<meta charset>``, ``encoding=``; ISO-8859-1 read
    as Windows-1252, as browsers do), unless what it decodes to is implausible: then the
    declaration is wrong. Else, for a page that is mostly UTF-8 with some stray bytes
    (mixed encodings), those bytes are read as Windows-1252; else a page that reads as
    Western European text in Windows-1252 is read so; else the charset is guessed with
    charset-normalizer (Cyrillic, Greek, Central European, Turkish, Hebrew, Arabic,
    Chinese, Japanese and Korean charsets), Windows-1252 where it has no guess. UTF-16
    with a BOM is accepted. ``bench/decode.py`` measures this against the alternatives.

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
    # The bytes that are not UTF-8, and how many bytes beyond ASCII are.
    stray = "".join(_STRAY.findall(data.decode("utf-8-sig", errors="surrogateescape")))
    stray_bytes = len(stray)
    valid = len(data) - len(data.translate(None, _HIGH)) - stray_bytes
    if declared and _is_utf8_name(declared):
        problem = f"not UTF-8 although it declares '{declared}'"
    elif declared and valid > 2 * stray_bytes:  # UTF-8 with a paste, whatever the template says
        problem = f"declares charset '{declared}' but is mostly UTF-8"
    elif declared:
        text, problem = _decode_declared(data, declared)
        if text is not None:
            _check_not_binary(text, filename)
            return text, warnings
    else:
        problem = "not UTF-8"
    # Mostly UTF-8, or some UTF-8 and stray bytes that are Western text in Windows-1252.
    if valid > stray_bytes or (valid and _is_western(
            stray.encode("utf-8", "surrogateescape").decode("cp1252", "replace"))):
        text, runs = _decode_mixed(data)
        said = f"{problem}; " if declared and not _is_utf8_name(declared) else ""
        warnings.append(f"{where}: {said}mixed encodings: {runs} byte sequence(s) are not UTF-8 "
                        "and were read as Windows-1252")
    else:
        text, charset = _guess(data)
        warnings.append(f"{where}: {problem}; read as {charset}")
    _check_not_binary(text, filename)
    return text, warnings


def _is_utf8_name(name: str) -> bool:
    return name.replace("-", "").replace("_", "") in ("utf8", "utf8mb4", "unicode11utf8")


def _decode_declared(data: bytes, declared: str) -> tuple[str | None, str]:
    """The page in the charset it declares, or ``None`` and why not."""
    try:
        codec = codecs.lookup(_ALIASES.get(declared, declared)).name
    except LookupError:
        return None, f"declares charset '{declared}', which is unknown"
    if codec.startswith(("utf-16", "utf-32")):  # without a byte-order mark or NUL bytes it is not
        return None, f"declares charset '{declared}' but is not {declared.upper()}"
    text = None
    for attempt in (_WINDOWS.get(codec), codec, _EXTENDED.get(codec)):
        if attempt:
            try:
                text = data.decode(attempt)
                break
            except UnicodeError:
                continue
    if text is None:
        return None, f"declared charset '{declared}' does not decode it"
    if _implausible(text):
        return None, f"declares charset '{declared}' but does not read as it"
    return text, ""


def _decode_mixed(data: bytes) -> tuple[str, int]:
    """UTF-8 where the bytes are UTF-8, Windows-1252 for the stray bytes between; with the
    number of runs of stray bytes."""
    text = data.decode("utf-8-sig", errors="surrogateescape")
    stray = 0

    def cp1252(match: re.Match[str]) -> str:
        nonlocal stray
        stray += 1
        raw = bytes(ord(c) - 0xDC00 for c in match.group())
        return raw.decode("cp1252", errors="replace")

    return _STRAY.sub(cp1252, text), stray


def _is_western(text: str) -> bool:
    """Whether every character of ``text`` beyond ASCII is one of Western European text
    (of the south or of the north)."""
    characters = set(text.translate(_DROP_ASCII))
    return any(characters <= western for western in _WESTERN)


def _implausible(text: str) -> bool:
    """Text a wrong charset made: C1 control characters (what ISO-8859 charsets make of
    Windows bytes), letters mostly capitals (what KOI8-R and Windows-1251 make of each
    other), or characters charset-normalizer finds implausible together."""
    return (_C1_CONTROL.search(text) is not None or _mostly_capitals(text)
            or _mess(text, _DECLARED_MESS) >= _DECLARED_MESS)


def _mess(text: str, limit: float) -> float:
    """charset-normalizer's mess ratio of the text's first 64k characters, up to ``limit``
    (0 without charset-normalizer)."""
    try:
        from charset_normalizer.md import mess_ratio
    except ImportError:
        return 0.0
    return float(mess_ratio(text[:65536], limit))


def _mostly_capitals(text: str) -> bool:
    """Whether most letters beyond ASCII (in the first 64k characters) are capitals."""
    letters = text[:65536].translate(_DROP_ASCII)
    capitals = sum(map(str.isupper, letters))
    return capitals >= 4 and capitals > sum(map(str.islower, letters))


def _guess(data: bytes) -> tuple[str, str]:
    """Text and charset name of a page that is neither UTF-8 nor in a charset it declares.

    Windows-1252 where that reads as Western European text (for short Western pages
    charset-normalizer often finds Windows-1250, a Mac or a DOS charset as good and picks
    it); else charset-normalizer's guess: among the candidates it finds tied, the most
    coherent, Windows-1252 first among equals, passing over readings in capitals;
    Windows-1252 where it has no guess (or is not installed)."""
    try:
        western = data.decode("cp1252")
    except UnicodeDecodeError:
        pass
    else:
        if _is_western(western) and _mess(western, _WESTERN_MESS) < _WESTERN_MESS:
            return western, "Windows-1252"
    codec = _charset_normalizer_guess(data)
    if codec is None:
        return data.decode("cp1252", errors="replace"), "Windows-1252"
    return data.decode(codec, errors="replace"), _charset_name(codec)


def _charset_normalizer_guess(data: bytes) -> str | None:
    try:
        from charset_normalizer import from_bytes
        from charset_normalizer.utils import is_multi_byte_encoding
    except ImportError:  # a dependency of trafilatura; without it, Windows-1252 as before
        return None
    matches = list(from_bytes(data, preemptive_behaviour=False))
    if not matches:
        return None
    best = matches[0]
    if is_multi_byte_encoding(best.encoding):
        return str(best.encoding)
    # charset-normalizer's own order among candidates it finds tied (mess within 0.01,
    # coherence within 0.02) is the order it tried them in, Windows-1250 before -1252.
    near = [m for m in matches if not is_multi_byte_encoding(m.encoding) and m.chaos <= best.chaos + 0.01]
    tied = [m for m in near if abs(m.coherence - best.coherence) <= 0.02]
    ranked = sorted(tied, key=lambda m: (-round(m.coherence, 3), round(m.chaos, 3),
                                         "cp1252" not in m.could_be_from_charset))
    for match in ranked + [m for m in near if m not in tied]:
        if not _mostly_capitals(str(match)):
            return "cp1252" if "cp1252" in match.could_be_from_charset else str(match.encoding)
    return str(best.encoding)


def _charset_name(codec: str) -> str:
    """``cp1251`` as Windows-1251, ``iso8859_7`` as ISO-8859-7, ``koi8_r`` as KOI8-R."""
    name = codecs.lookup(codec).name
    if name.startswith("cp125"):
        return "Windows-" + name[2:]
    if name.startswith("iso8859-"):
        return "ISO-8859-" + name[8:]
    return name.upper().replace("_", "-")


def _check_not_binary(text: str, filename: str | None,
                      expected: str = "UTF-8 text (.txt, .md, .html, .json)") -> None:
    """Reject text that is mostly control characters: binary data decoded as text.
    ``expected`` says, in the error, what would be valid."""
    sample = text[:8192]
    if not sample:
        return
    controls = len(_CONTROL.findall(sample))
    if "\x00" in sample or controls > max(8, len(sample) // 50):
        raise BinaryDataError(_where(filename), f"{controls} control characters in the first "
                              f"{len(sample)}: this is binary data, not a page; expected {expected}")
