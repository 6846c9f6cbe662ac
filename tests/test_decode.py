"""decode_page: pages in legacy charsets, declared, undeclared and mis-declared, and mixed."""

from __future__ import annotations

import sys

import pytest

from related_posts.recommend.parse import decode_page
from related_posts.recommend.parse.document import BinaryDataError

RUSSIAN = ("Как мы искали грибы\n\nВ субботу утром мы сели на электричку и поехали за город, "
           "в старый сосновый лес. Дед уверял, что знает поляну, где белые грибы растут "
           "целыми семьями.\n")
GREEK = ("Ένα καλοκαίρι στο νησί\n\nΚάθε Ιούλιο πηγαίναμε με το πλοίο στο μικρό νησί όπου "
         "γεννήθηκε η γιαγιά μου. Το σπίτι της ήταν λευκό, με μπλε παράθυρα και μια "
         "κληματαριά στην αυλή.\n")
JAPANESE = ("雨の日の小さな本屋\n\n駅前の商店街に、古くて小さな本屋があります。雨の日になると、"
            "店主はいつも入口に傘立てを出して、温かいお茶を用意してくれます。\n")


def html(body: str, charset: str | None = None) -> str:
    meta = f'<meta charset="{charset}">' if charset else ""
    return f"<html><head>{meta}<title>Page</title></head><body><p>{body}</p></body></html>\n"


# -- Cyrillic ----------------------------------------------------------------------------------

def test_undeclared_windows_1251_is_guessed():
    text, warnings = decode_page(RUSSIAN.encode("cp1251"), "ru.txt")
    assert text == RUSSIAN
    assert warnings == ["ru.txt: not UTF-8; read as Windows-1251"]


def test_undeclared_windows_1251_html_and_koi8_r():
    page = html(RUSSIAN)
    assert decode_page(page.encode("cp1251"), "ru.html")[0] == page
    assert decode_page(RUSSIAN.encode("koi8_r"), "ru.txt") == (RUSSIAN, ["ru.txt: not UTF-8; read as KOI8-R"])


def test_windows_1251_declared_iso_8859_1_is_not_believed():
    page = html(RUSSIAN, "iso-8859-1")
    text, warnings = decode_page(page.encode("cp1251"), "ru.html")
    assert text == page
    assert warnings == ["ru.html: declares charset 'iso-8859-1' but does not read as it; "
                        "read as Windows-1251"]


def test_windows_1251_declared_utf8():
    page = html(RUSSIAN, "utf-8")
    text, warnings = decode_page(page.encode("cp1251"), "ru.html")
    assert text == page
    assert warnings == ["ru.html: not UTF-8 although it declares 'utf-8'; read as Windows-1251"]


def test_koi8_r_declared_windows_1251_reads_as_capitals_so_is_not_believed():
    page = html(RUSSIAN, "windows-1251")
    text, warnings = decode_page(page.encode("koi8_r"), "ru.html")
    assert text == page
    assert "declares charset 'windows-1251' but does not read as it; read as KOI8-R" in warnings[0]


def test_correctly_declared_windows_1251_has_no_warning():
    page = html(RUSSIAN, "windows-1251")
    assert decode_page(page.encode("cp1251"), "ru.html") == (page, [])


# -- Greek, Central European, Hebrew, Arabic ---------------------------------------------------

@pytest.mark.parametrize("codec", ["cp1253", "iso8859_7"])
def test_undeclared_greek(codec):
    """The two differ in a few capitals with accents (Ά); the page has Έ, the same in both."""
    text, warnings = decode_page(GREEK.encode(codec), "el.txt")
    assert text == GREEK
    assert len(warnings) == 1 and warnings[0].startswith("el.txt: not UTF-8; read as ")


def test_greek_declared_windows_1252_and_declared_iso_8859_7():
    page = html(GREEK, "windows-1252")
    text, warnings = decode_page(page.encode("cp1253"), "el.html")
    assert text == page and "read as Windows-1253" in warnings[0]
    page = html(GREEK, "iso-8859-7")
    assert decode_page(page.encode("iso8859_7"), "el.html") == (page, [])


def test_undeclared_polish_windows_1250():
    page = ("Zimowy spacer\n\nW grudniu Kraków pachnie grzanym winem, pieczonymi kasztanami i "
            "świeżym śniegiem. Na Rynku Głównym stoją drewniane budki.\n")
    assert decode_page(page.encode("cp1250"), "pl.txt") == (page, ["pl.txt: not UTF-8; read as Windows-1250"])


@pytest.mark.parametrize("codec, page", [
    ("cp1255", "בוקר בשוק\n\nביום שישי בבוקר הלכנו לשוק הכרמל בתל אביב. הדוכנים היו מלאים "
               "בפירות, ירקות ותבלינים בכל הצבעים.\n"),
    ("cp1256", "السوق القديم\n\nفي صباح يوم الجمعة ذهبنا إلى السوق القديم في وسط المدينة. "
               "كانت رائحة القهوة والهيل تملأ الأزقة الضيقة.\n"),
])
def test_undeclared_hebrew_and_arabic(codec, page):
    assert decode_page(page.encode(codec), "p.txt")[0] == page


# -- Japanese, Chinese, Korean -----------------------------------------------------------------

@pytest.mark.parametrize("codec", ["shift_jis", "euc_jp"])
def test_undeclared_japanese(codec):
    text, warnings = decode_page(JAPANESE.encode(codec), "ja.txt")
    assert text == JAPANESE
    assert len(warnings) == 1 and warnings[0].startswith("ja.txt: not UTF-8; read as ")


def test_japanese_declared_and_mis_declared():
    page = html(JAPANESE, "shift_jis")
    assert decode_page(page.encode("shift_jis"), "ja.html") == (page, [])
    page = html(JAPANESE, "euc-jp")
    assert decode_page(page.encode("euc_jp"), "ja.html") == (page, [])
    page = html(JAPANESE, "iso-8859-1")
    text, warnings = decode_page(page.encode("shift_jis"), "ja.html")
    assert text == page
    assert warnings[0].startswith("ja.html: declares charset 'iso-8859-1' but does not read as it; read as ")


def test_shift_jis_declared_but_windows_31j_is_read_as_cp932():
    page = html("①から⑩まで、番号付きの項目。", "shift_jis")  # NEC circled numbers: only in cp932
    assert decode_page(page.encode("cp932"), "ja.html") == (page, [])


@pytest.mark.parametrize("codec, page", [
    ("gb2312", "老城区的早餐铺\n\n每天早上六点，巷子口的早餐铺就开始冒热气了。老板娘做的豆浆又香又浓，油条炸得金黄酥脆。\n"),
    ("big5", "台北街頭的夜市\n\n每到傍晚，夜市的攤販就陸續推著小車出來擺攤。年輕人喜歡在這裡逛街，老人家則坐在廟口下棋。\n"),
    ("euc_kr", "할머니의 김치\n\n매년 십일월이 되면 온 가족이 할머니 댁에 모여 김장을 합니다. "
               "마당에는 배추가 산처럼 쌓이고, 부엌에서는 고춧가루 냄새가 진동합니다.\n"),
])
def test_undeclared_chinese_and_korean(codec, page):
    assert decode_page(page.encode(codec), "p.txt")[0] == page


# -- Western pages stay Windows-1252 -----------------------------------------------------------

@pytest.mark.parametrize("page", [
    "Café prices\n\nThe café raised its prices again this week.",
    # charset-normalizer 3.5 reads these as Windows-1250 (à as ŕ, ñ as ń) or a Mac charset.
    "Le marché\n\nÀ midi, tout le monde replie ses tréteaux. Les enfants font la queue devant "
    "le stand de crêpes, où l'on parle surtout de football.\n",
    "¿Por qué cierra?\n\nEl señor Núñez abrió su cafetería hace casi cuarenta años. ¡Qué manía!\n",
    "Straßenbahn\n\nÄltere Fahrgäste schimpfen über die Stadtwerke; der Fahrer grüßt jeden.\n",
    "Il mercato\n\nCi fermiamo al bar per un caffè. Così passa la mattina, più o meno.\n",
    "Uma tarde\n\nComeçou a chover, e os elétricos continuaram a subir a colina.\n",
])
def test_western_latin_1_short_page_without_declaration(page):
    text, warnings = decode_page(page.encode("latin-1"), "w.txt")
    assert text == page
    assert warnings == ["w.txt: not UTF-8; read as Windows-1252"]


@pytest.mark.parametrize("page", [
    "Søndag på havnen\n\nVi købte varme æbleskiver og drak kaffe på en bænk ved vandet.\n",
    "En sommarkväll\n\nVattnet var kallt men klart, och barnen badade tills läpparna blev blå.\n",
])
def test_nordic_pages_stay_windows_1252(page):
    assert decode_page(page.encode("cp1252"), "n.txt") == (page, ["n.txt: not UTF-8; read as Windows-1252"])


def test_iso_8859_1_declared_is_read_as_windows_1252_as_browsers_do():
    page = html("It\u2019s \u201cquoted\u201d \u2014 and costs 5 \u20ac.", "iso-8859-1")
    assert decode_page(page.encode("cp1252"), "p.html") == (page, [])


def test_windows_1250_declared_iso_8859_1_with_c1_bytes_is_not_believed():
    page = html("Źle się ubrałem, więc do domu wróciłem z czerwonym nosem. W grudniu Kraków pachnie "
                "grzanym winem, pieczonymi kasztanami i świeżym śniegiem.", "iso-8859-1")
    text, warnings = decode_page(page.encode("cp1250"), "pl.html")
    assert text == page and "does not read as it; read as Windows-1250" in warnings[0]


# -- mixed encodings ---------------------------------------------------------------------------

def test_utf8_page_with_a_windows_1252_paste():
    before, paste, after = "Как мы искали грибы\n\nДед уверял, что знает поляну.\n\n", \
        "\u201cQuoted\u201d \u2014 caf\u00e9, na\u00efve.", "\n\nКонец.\n"
    data = before.encode() + paste.encode("cp1252") + after.encode()
    text, warnings = decode_page(data, "mixed.txt")
    assert text == before + paste + after
    assert warnings == ["mixed.txt: mixed encodings: 5 byte sequence(s) are not UTF-8 and were "
                        "read as Windows-1252"]


def test_mixed_page_with_fewer_utf8_bytes_than_stray_ones():
    """A short English page with one curly apostrophe in UTF-8 and a longer Windows-1252
    paste: fewer UTF-8 bytes than stray ones, but the strays read as Western text."""
    before, paste = "Notes\n\nWe left on Friday; it\u2019s quiet.\n\n", "\u201cCaf\u00e9\u201d \u2014 na\u00efve r\u00e9sum\u00e9."
    text, warnings = decode_page(before.encode() + paste.encode("cp1252"), "m.txt")
    assert text == before + paste and "mixed encodings" in warnings[0]


def test_a_legacy_cjk_page_is_not_taken_for_mixed_encodings():
    """EUC-JP bytes hold many accidental UTF-8 sequences; the page is still read as Japanese."""
    long = JAPANESE * 20
    text, warnings = decode_page(long.encode("euc_jp"), "ja.txt")
    assert text == long and "mixed" not in warnings[0]


# -- warnings and errors -----------------------------------------------------------------------

@pytest.mark.parametrize("data", [
    RUSSIAN.encode("cp1251"), html(RUSSIAN, "iso-8859-1").encode("cp1251"),
    html(RUSSIAN, "utf-8").encode("cp1251"), html(RUSSIAN, "no-such-charset").encode("cp1251"),
    JAPANESE.encode("shift_jis"), "caf\u00e9 ".encode() * 5 + b"\xe9t\xe9",
])
def test_every_warning_is_one_line_naming_the_page(data):
    _, warnings = decode_page(data, "posts/page.html")
    assert len(warnings) == 1 and "\n" not in warnings[0]
    assert warnings[0].startswith("posts/page.html: ")
    _, warnings = decode_page(data)
    assert warnings[0].startswith("page: ")


def test_unknown_declared_charset_is_said_and_guessed():
    text, warnings = decode_page(html(RUSSIAN, "x-klingon").encode("cp1251"), "p.html")
    assert text == html(RUSSIAN, "x-klingon")
    assert warnings == ["p.html: declares charset 'x-klingon', which is unknown; read as Windows-1251"]


def test_binary_data_is_still_rejected():
    with pytest.raises(BinaryDataError, match="control characters"):
        decode_page(bytes(range(0x80, 0x100)) * 20 + bytes(range(1, 32)) * 40, "blob.html")
    with pytest.raises(BinaryDataError, match="a PNG image"):
        decode_page(b"\x89PNG\r\n\x1a\n" + bytes(100), "x.html")


def test_without_charset_normalizer_a_guess_is_windows_1252(monkeypatch):
    for name in ("charset_normalizer", "charset_normalizer.md", "charset_normalizer.utils"):
        monkeypatch.setitem(sys.modules, name, None)
    text, warnings = decode_page(RUSSIAN.encode("cp1251"), "ru.txt")
    assert text == RUSSIAN.encode("cp1251").decode("cp1252")
    assert warnings == ["ru.txt: not UTF-8; read as Windows-1252"]
    page = "Café\n\nLe café est fermé à midi."
    assert decode_page(page.encode("latin-1"), "f.txt")[0] == page


def test_a_template_declaring_latin_1_over_utf8_content_with_a_paste():
    before, paste, after = "<html><head><meta charset=\"iso-8859-1\"></head><body><p>Le marché du samedi à Lyon, où l\u2019on parle de crêpes.</p><p>", \
        "Prix : 12 \u20ac \u2013 \u00ab tr\u00e8s bon \u00bb", "</p></body></html>\n"
    text, warnings = decode_page(before.encode() + paste.encode("cp1252") + after.encode(), "p.html")
    assert text == before + paste + after
    assert warnings == ["p.html: declares charset 'iso-8859-1' but is mostly UTF-8; mixed encodings: "
                        "5 byte sequence(s) are not UTF-8 and were read as Windows-1252"]
