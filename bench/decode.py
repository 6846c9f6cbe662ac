"""Decoding pages: ``decode_page`` against charset-normalizer and a blind-cp1252 baseline.

    python bench/decode.py                 # about 10 s on two cores
    python bench/decode.py --repeat 1      # quicker timings

Pages are generated in memory from invented sentences in 19 languages: English, French,
German, Spanish, Italian, Portuguese, Swedish and Danish (the Western ones, in Latin-1 or
Windows-1252), Russian (Windows-1251, KOI8-R), Greek (Windows-1253, ISO-8859-7),
Turkish (Windows-1254, ISO-8859-9), Polish and Czech (Windows-1250, ISO-8859-2),
Japanese (Shift_JIS, EUC-JP), Chinese (GB2312, Big5), Korean (EUC-KR), Arabic
(Windows-1256) and Hebrew (Windows-1255, ISO-8859-8). Each is a plain text, Markdown and
HTML page, short (a title and two sentences, six pairs) and long (about 10 kB), in five
groups:

- ``utf-8``: UTF-8, HTML declaring it;
- ``declared``: the language's legacy charset, correctly declared (``<meta charset>``);
- ``undeclared``: the legacy charset, no declaration;
- ``mis-declared``: declares another charset than the bytes are in (iso-8859-1 over
  cp1251, utf-8 over latin-1, ...), or a legacy charset over UTF-8 with a paste;
- ``mixed``: a UTF-8 page with a Windows-1252 paste inside.

A page counts as right when the decoded text equals the original exactly. Decoders:

- ``before``: the decoder as it was (UTF-8, the declared charset, mixed repair, else
  Windows-1252 for all), a frozen copy;
- ``charset-normalizer``: ``from_bytes(data).best()``, Windows-1252 when it has none;
- ``before + cn guess``: ``before`` with charset-normalizer's best guess in place of the
  blind Windows-1252 fallback, no guard;
- ``decode_page``: the library's decoder as it is now.

Time is the best of ``--repeat`` passes over all pages, per MB of input (and per group
in the JSON). Prints a markdown table and writes JSON (``bench/results/decode.json``).
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import re
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))

import charset_normalizer  # noqa: E402

from related_posts.recommend.parse import decode_page  # noqa: E402
from related_posts.recommend.parse.document import BinaryDataError  # noqa: E402

# -- the corpus ------------------------------------------------------------------------------

# language: (title, sentences, legacy charsets as Python codecs with the label a page
# declares). Every sentence encodes in every charset listed.
LANGUAGES: dict[str, tuple[str, list[str], list[tuple[str, str]]]] = {
    "en": ("Notes from a slow weekend in the hills", [
        "We left the city on Friday evening, when the roads were finally quiet.",
        "The café at the crossroads still serves the same \u201cfamous\u201d apple pie \u2014 and it\u2019s still too sweet.",
        "On Saturday it rained, so we read by the stove and argued about maps.",
        "A farmer told us the bridge had been closed since March; we took the long way round.",
        "By Sunday the sky cleared and the whole valley smelled of cut grass.",
        "Next time we\u2019ll bring better boots, a proper thermos and fewer books.",
    ], [("cp1252", "windows-1252")]),
    "fr": ("Le marché du samedi à Lyon", [
        "Chaque samedi, le marché s\u2019installe le long du quai dès sept heures du matin.",
        "On y trouve des fromages affinés, des pêches mûres et un pain encore tiède.",
        "La marchande de fleurs répète toujours la même phrase : « Il faut les mettre à l\u2019ombre ! »",
        "Les enfants font la queue devant le stand de crêpes, où l\u2019on parle surtout de football.",
        "Mon c\u0153ur balance entre le comté de dix-huit mois et un chèvre très frais.",
        "À midi, tout le monde replie ses tréteaux et le quai redevient silencieux.",
    ], [("cp1252", "windows-1252")]),
    "de": ("Warum unsere Straßenbahn immer zu spät kommt", [
        "Die Linie vier fährt laut Fahrplan alle zehn Minuten, aber das glaubt hier niemand mehr.",
        "Gestern stand ich eine halbe Stunde an der Haltestelle und zählte die Tauben.",
        "Der Grund für die Verspätungen ist angeblich eine Baustelle an der Brücke über die Spree.",
        "Ältere Fahrgäste schimpfen über die Stadtwerke, die Jüngeren schauen nur auf ihr Handy.",
        "Immerhin ist der Fahrer freundlich und grüßt jeden, der einsteigt.",
        "Nächste Woche soll alles besser werden, heißt es, wie schon seit drei Jahren.",
    ], [("latin_1", "iso-8859-1"), ("cp1252", "windows-1252")]),
    "es": ("¿Por qué el café de la esquina cierra a las tres?", [
        "El señor Núñez abrió su cafetería hace casi cuarenta años, cuando la calle aún no tenía asfalto.",
        "Por las mañanas sirve churros, tostadas con tomate y un café con leche que nadie olvida.",
        "A las tres en punto baja la persiana, pase lo que pase, porque dice que la siesta es sagrada.",
        "Los vecinos se quejan, pero al día siguiente vuelven a hacer cola antes de las ocho.",
        "¡Qué manía!, exclama su hija, que quiere ampliar el horario durante el verano.",
        "Él sonríe, limpia la barra y responde que la vida no cabe en un horario más largo.",
    ], [("latin_1", "iso-8859-1"), ("cp1252", "windows-1252")]),
    "it": ("Una domenica al mercato di Bologna", [
        "La domenica mattina il mercato apre presto, quando le strade sono ancora bagnate.",
        "Il fruttivendolo grida i prezzi delle pesche e delle ciliegie più dolci della stagione.",
        "Mia nonna compra sempre il pane dallo stesso fornaio, perché dice che è l'unico onesto.",
        "Verso le dieci arriva la folla e diventa difficile perfino attraversare la piazza.",
        "Ci fermiamo al bar per un caffè e una brioche, e parliamo di calcio e di politica.",
        "Così passa la mattina, tra chiacchiere, profumi e un po' di confusione.",
    ], [("latin_1", "iso-8859-1")]),
    "pt": ("Uma tarde de chuva em Lisboa", [
        "Começou a chover de repente, e as pessoas correram para debaixo das arcadas.",
        "Os elétricos continuaram a subir a colina, cheios de turistas molhados.",
        "Entrei numa pastelaria antiga e pedi um pastel de nata e uma bica.",
        "O empregado, muito simpático, contou-me que a casa existe há mais de cem anos.",
        "Lá fora, o rio ficou cinzento e as gaivotas calaram-se por um momento.",
        "Quando a chuva parou, a cidade inteira parecia ter sido lavada.",
    ], [("cp1252", "windows-1252")]),
    "sv": ("En sommarkväll vid sjön", [
        "Vi cyklade ut till sjön efter middagen, när solen fortfarande stod högt.",
        "Vattnet var kallt men klart, och barnen badade tills läpparna blev blå.",
        "Pappa grillade korv medan mormor berättade om somrarna på sextiotalet.",
        "Längre bort hördes en lom ropa över den stilla ytan.",
        "Vid elva på kvällen var det fortfarande ljust nog att läsa en bok.",
        "På vägen hem plockade vi smultron längs diket och trädde dem på ett grässtrå.",
    ], [("latin_1", "iso-8859-1")]),
    "da": ("Søndag på havnen i Århus", [
        "Om søndagen går hele byen en tur langs havnen, uanset vejret.",
        "Fiskerne sælger rødspætter direkte fra bådene, og mågerne skriger over dem.",
        "Vi købte varme æbleskiver og drak kaffe på en bænk ved vandet.",
        "En gammel mand fortalte, at han havde sejlet på de samme både i fyrre år.",
        "Da det begyndte at blæse, søgte vi ly i en lille boghandel.",
        "Først hen på aftenen cyklede vi hjem gennem de våde gader.",
    ], [("cp1252", "windows-1252")]),
    "ru": ("Как мы искали грибы под Вологдой", [
        "В субботу утром мы сели на электричку и поехали за город, в старый сосновый лес.",
        "Дед уверял, что знает поляну, где белые грибы растут целыми семьями.",
        "Мы бродили по мокрой траве три часа и нашли только две сыроежки и один мухомор.",
        "Зато у озера был костёр, горячий чай из термоса и долгие разговоры о жизни.",
        "На обратном пути в электричке все уснули, даже собака соседа.",
        "Дед до сих пор считает, что поляна существует, просто мы свернули не туда.",
    ], [("cp1251", "windows-1251"), ("koi8_r", "koi8-r")]),
    "el": ("Ένα καλοκαίρι στο νησί της γιαγιάς", [
        "Κάθε Ιούλιο πηγαίναμε με το πλοίο στο μικρό νησί όπου γεννήθηκε η γιαγιά μου.",
        "Το σπίτι της ήταν λευκό, με μπλε παράθυρα και μια κληματαριά στην αυλή.",
        "Τα πρωινά κολυμπούσαμε στη ρηχή παραλία και τα απογεύματα μαζεύαμε σύκα.",
        "Η γιαγιά μαγείρευε γεμιστά και έλεγε ιστορίες για ψαράδες και καταιγίδες.",
        "Το βράδυ όλο το χωριό καθόταν στην πλατεία και συζητούσε μέχρι τα μεσάνυχτα.",
        "Ακόμα θυμάμαι τη μυρωδιά του βασιλικού στα παράθυρα.",
    ], [("cp1253", "windows-1253"), ("iso8859_7", "iso-8859-7")]),
    "tr": ("İstanbul'da bir vapur yolculuğu", [
        "Sabah erkenden Kadıköy iskelesine gidip ilk vapura bindik.",
        "Martılar simit parçaları için geminin etrafında çığlık çığlığa uçuyordu.",
        "Yaşlı bir adam bize boğazın eski yalılarını tek tek anlattı.",
        "Çay bardakları tepsilerde şıngırdarken şehir yavaş yavaş uyanıyordu.",
        "Karşıya vardığımızda güneş Galata Kulesi'nin arkasından yükseliyordu.",
        "Dönüşte herkes sessizdi; sanki bu güzelliği bozmaktan korkuyorduk.",
    ], [("cp1254", "windows-1254"), ("iso8859_9", "iso-8859-9")]),
    "pl": ("Zimowy spacer po Krakowie", [
        "W grudniu Kraków pachnie grzanym winem, pieczonymi kasztanami i świeżym śniegiem.",
        "Na Rynku Głównym stoją drewniane budki, w których sprzedaje się ozdoby choinkowe.",
        "Z wieży Mariackiej co godzinę rozbrzmiewa hejnał, urwany w połowie melodii.",
        "Zmarznięci turyści grzeją dłonie przy koksownikach i robią zdjęcia Sukiennicom.",
        "Wieczorem poszliśmy nad Wisłę, żeby zobaczyć oświetlony Wawel.",
        "Źle się ubrałem, więc do domu wróciłem z czerwonym nosem i zimnymi stopami.",
    ], [("cp1250", "windows-1250"), ("iso8859_2", "iso-8859-2")]),
    "cs": ("Příběh jedné staré hospody", [
        "Na rohu naší ulice stojí hospoda, která pamatuje ještě první republiku.",
        "Hostinský pan Dvořák čepuje pivo pomalu a s rozmyslem, jako by šlo o obřad.",
        "Štamgasti sedí u okna a hádají se o fotbal, o počasí i o politiku.",
        "V zimě se topí v kamnech a na stole vždycky leží čerstvé utopence.",
        "Loni chtěl někdo z hospody udělat kavárnu, ale celá čtvrť se vzbouřila.",
        "Ťukání sklenic a smích tu zní stejně jako před sto lety.",
    ], [("cp1250", "windows-1250"), ("iso8859_2", "iso-8859-2")]),
    "ja": ("雨の日の小さな本屋", [
        "駅前の商店街に、古くて小さな本屋があります。",
        "雨の日になると、店主はいつも入口に傘立てを出して、温かいお茶を用意してくれます。",
        "棚には古い文庫本や地図、子ども向けの絵本がぎっしり並んでいます。",
        "私はそこで、祖父が若い頃に読んだという旅行記を見つけました。",
        "店主は「本は人を待っているんですよ」と笑いながら言いました。",
        "今でも雨が降ると、あの店の紙の匂いを思い出します。",
    ], [("shift_jis", "shift_jis"), ("euc_jp", "euc-jp")]),
    "zh": ("老城区的早餐铺", [
        "每天早上六点，巷子口的早餐铺就开始冒热气了。",
        "老板娘做的豆浆又香又浓，油条炸得金黄酥脆。",
        "上班的人排着队，一边看手机一边等包子出锅。",
        "听说这家小店已经开了二十多年，从来没有涨过价。",
        "下雨的时候，大家就挤在屋檐下，边吃边聊天。",
        "如果哪天它关门了，这条街一定会安静很多。",
    ], [("gb2312", "gb2312")]),
    "zh-tw": ("台北街頭的夜市", [
        "每到傍晚，夜市的攤販就陸續推著小車出來擺攤。",
        "空氣中瀰漫著雞排、臭豆腐和珍珠奶茶的香味。",
        "年輕人喜歡在這裡逛街，老人家則坐在廟口下棋。",
        "有一家賣蚵仔煎的老店，總是排著長長的隊伍。",
        "雖然人潮擁擠，大家還是很有耐心地等待。",
        "夜深了，攤販收起燈火，街道又恢復了寧靜。",
    ], [("big5", "big5")]),
    "ko": ("할머니의 김치 담그는 날", [
        "매년 십일월이 되면 온 가족이 할머니 댁에 모여 김장을 합니다.",
        "마당에는 배추가 산처럼 쌓이고, 부엌에서는 고춧가루 냄새가 진동합니다.",
        "삼촌들은 배추를 나르고, 아이들은 옆에서 몰래 고기를 집어 먹습니다.",
        "할머니는 양념의 비밀을 아무에게도 알려 주지 않으십니다.",
        "저녁에는 갓 담근 김치와 수육을 먹으며 이야기꽃을 피웁니다.",
        "그 맛은 어느 식당에서도 찾을 수 없는 우리 집만의 맛입니다.",
    ], [("euc_kr", "euc-kr")]),
    "ar": ("رحلة قصيرة إلى السوق القديم", [
        "في صباح يوم الجمعة ذهبنا إلى السوق القديم في وسط المدينة.",
        "كانت رائحة القهوة والهيل تملأ الأزقة الضيقة.",
        "اشترت أمي التوابل والتمر من بائع يعرفها منذ سنوات طويلة.",
        "جلسنا في مقهى صغير وشربنا الشاي بالنعناع.",
        "وعند الظهر عدنا إلى البيت متعبين لكن سعداء.",
        "أتمنى أن نعود إلى هناك في العيد القادم.",
    ], [("cp1256", "windows-1256")]),
    "he": ("בוקר אחד בשוק הכרמל", [
        "ביום שישי בבוקר הלכנו לשוק הכרמל בתל אביב.",
        "הדוכנים היו מלאים בפירות, ירקות ותבלינים בכל הצבעים.",
        "מוכר אחד צעק שהעגבניות שלו הן הכי מתוקות בעיר.",
        "קנינו לחם טרי, גבינה וזיתים לארוחת הצהריים.",
        "בדרך הביתה עצרנו לשתות מיץ תפוזים סחוט.",
        "זה היה בוקר פשוט ושמח, בדיוק כמו שאנחנו אוהבים.",
    ], [("cp1255", "windows-1255"), ("iso8859_8", "iso-8859-8")]),
}
WESTERN = ("en", "fr", "de", "es", "it", "pt", "sv", "da")

# (language, codec the bytes are in, label the page declares)
MIS_DECLARED = [
    ("ru", "cp1251", "iso-8859-1"), ("ru", "cp1251", "utf-8"), ("ru", "koi8_r", "windows-1251"),
    ("el", "cp1253", "windows-1252"), ("pl", "cp1250", "iso-8859-1"), ("cs", "iso8859_2", "windows-1252"),
    ("tr", "cp1254", "iso-8859-1"), ("es", "latin_1", "utf-8"), ("de", "latin_1", "utf-8"),
    ("en", "cp1252", "iso-8859-1"), ("fr", "cp1252", "iso-8859-1"), ("fr", "cp1252", "utf-8"),
    ("ja", "shift_jis", "iso-8859-1"), ("ja", "euc_jp", "shift_jis"), ("zh", "gb2312", "big5"),
    ("ar", "cp1256", "utf-8"), ("he", "cp1255", "iso-8859-1"),
]

# (language, label): UTF-8 pages with a Windows-1252 paste whose template declares a
# legacy charset.
MIS_DECLARED_MIXED = [("fr", "iso-8859-1"), ("de", "windows-1252"), ("ru", "windows-1251"),
                      ("ja", "shift_jis")]

# Western text pasted, in Windows-1252, into UTF-8 pages.
PASTES = [
    "\u201cQuoted from the newsletter\u201d \u2014 a café, a naïve résumé.",
    "Prix : 12 € – « très bon rapport qualité-prix »",
    "Größe: 38; Farbe: grün; Preis: 49,90 €",
    "Señalización: ¡atención! año 2024",
]


# The sentences of each short page: every sentence twice, in six pairs.
SHORT_PAIRS = [(0, 1), (2, 3), (4, 5), (1, 2), (3, 4), (5, 0)]


@dataclass
class Page:
    name: str
    group: str
    lang: str
    codec: str
    shape: str
    length: str
    text: str
    data: bytes


def compose(lang: str, length: str, variant: int, shape: str, meta: str | None,
            paste: str | None = None) -> tuple[str, list[str]]:
    """The page's text with ``\\0`` where the paste goes (so the paste can be encoded apart),
    as (text, pieces): ``pieces`` alternates page text and paste text."""
    title, sentences, _ = LANGUAGES[lang]
    joiner = "" if lang in ("ja", "zh", "zh-tw") else " "
    rng = random.Random(f"{lang}/{length}/{variant}/{shape}")
    if length == "short":
        first, second = SHORT_PAIRS[variant]
        paragraphs = [joiner.join([sentences[first], sentences[second]])]
    else:
        paragraphs = []
        while sum(len(p) for p in paragraphs) < 9000:
            paragraphs.append(joiner.join(rng.sample(sentences, 3)))
    if paste is not None:
        paragraphs.insert(1, "\0")
    if shape == "txt":
        text = title + "\n\n" + "\n\n".join(paragraphs) + "\n"
    elif shape == "md":
        body = [f"*{p}*" if i % 5 == 2 else p for i, p in enumerate(paragraphs)]
        text = f"# {title}\n\n" + "\n\n".join(body) + "\n\n- [more](https://example.com/more)\n"
    else:
        head = f"<meta charset=\"{meta}\">" if meta and variant % 2 == 0 else (
            f"<meta http-equiv=\"Content-Type\" content=\"text/html; charset={meta}\">" if meta else "")
        body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
        text = (f"<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head>{head}<title>{title}</title></head>\n"
                f"<body>\n<h1>{title}</h1>\n{body}\n</body>\n</html>\n")
    pieces = text.split("\0")
    if paste is not None:
        pieces = [pieces[0], paste, pieces[1]]
    return "".join(pieces), pieces


def pages() -> list[Page]:
    """Every page of the bench, labelled."""
    out: list[Page] = []

    def add(group: str, lang: str, codec: str, shape: str, meta: str | None,
            paste: str | None = None) -> None:
        for length in ("short", "long"):
            for variant in range(len(SHORT_PAIRS) if length == "short" else 1):
                text, pieces = compose(lang, length, variant, shape, meta, paste)
                if paste is None:
                    data = text.encode(codec)
                else:
                    data = pieces[0].encode() + pieces[1].encode("cp1252") + pieces[2].encode()
                name = f"{group}/{lang}/{codec}/{meta or '-'}/{shape}/{length}{variant}"
                out.append(Page(name, group, lang, codec, shape, length, text, data))

    for lang, (_, _, charsets) in LANGUAGES.items():
        for shape in ("txt", "md", "html"):
            add("utf-8", lang, "utf-8", shape, "utf-8" if shape == "html" else None)
            for codec, _ in charsets:
                add("undeclared", lang, codec, shape, None)
        for codec, label in charsets:
            add("declared", lang, codec, "html", label)
    for lang, codec, label in MIS_DECLARED:
        add("mis-declared", lang, codec, "html", label)
    for i, (lang, label) in enumerate(MIS_DECLARED_MIXED):
        add("mis-declared", lang, "utf-8+cp1252", "html", label, PASTES[i % len(PASTES)])
    for i, lang in enumerate(LANGUAGES):
        for shape in ("txt", "md", "html"):
            add("mixed", lang, "utf-8+cp1252", shape, None, PASTES[i % len(PASTES)])
    return out


# -- the decoders ----------------------------------------------------------------------------

_CHARSET = re.compile(rb"""(?:charset|encoding)\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)


def _is_utf8_name(name: str) -> bool:
    return name.replace("-", "").replace("_", "") in ("utf8", "utf8mb4", "unicode11utf8")


def _before(data: bytes, guess: Callable[[bytes], str | None] | None = None) -> str:
    """The decoder as it was before charset-normalizer (binary checks left out: the bench
    holds no binary data); ``guess`` replaces the Windows-1252 fallback."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    match = _CHARSET.search(data[:4096])
    declared = match.group(1).decode("ascii", "replace").lower() if match else None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    if declared and not _is_utf8_name(declared):
        try:
            return data.decode(declared)
        except (LookupError, UnicodeError):
            pass
    text = data.decode("utf-8-sig", errors="surrogateescape")
    stray = 0

    def cp1252(m: re.Match[str]) -> str:
        nonlocal stray
        stray += 1
        return bytes(ord(c) - 0xDC00 for c in m.group()).decode("cp1252", errors="replace")

    text = re.sub("[\udc80-\udcff]+", cp1252, text)
    if len(re.findall(rb"[\xc2-\xf4][\x80-\xbf]+", data)) > stray:
        return text
    guessed = guess(data) if guess else None
    return guessed if guessed is not None else data.decode("cp1252", errors="replace")


def _cn_best(data: bytes) -> str | None:
    best = charset_normalizer.from_bytes(data).best()
    return None if best is None else str(best)


def _cn_alone(data: bytes) -> str:
    text = _cn_best(data)
    return text if text is not None else data.decode("cp1252", errors="replace")


def _cn_encoding(data: bytes) -> str:
    best = charset_normalizer.from_bytes(data).best()
    return "none" if best is None else best.encoding


def _library(data: bytes) -> str:
    return decode_page(data, "bench.html")[0]


DECODERS: dict[str, Callable[[bytes], str]] = {
    "before": _before,
    "charset-normalizer": _cn_alone,
    "before + cn guess": lambda data: _before(data, _cn_best),
    "decode_page": _library,
}
GROUPS = ("utf-8", "declared", "undeclared", "mis-declared", "mixed")


# -- the measurement -------------------------------------------------------------------------

def share(flags: list[bool]) -> float:
    return round(sum(flags) / len(flags), 4) if flags else float("nan")


def measure(name: str, decode: Callable[[bytes], str], corpus: list[Page], repeat: int) -> dict:
    outputs: list[str | None] = []
    for page in corpus:
        try:
            outputs.append(decode(page.data))
        except (BinaryDataError, UnicodeError) as exc:
            outputs.append(None)
            print(f"  {name}: {page.name}: {exc}", file=sys.stderr)
    right = [out == page.text for out, page in zip(outputs, corpus)]
    runs: list[Counter[str]] = []  # seconds by group, per pass
    for _ in range(repeat):
        seconds: Counter[str] = Counter()
        for page in corpus:
            started = time.perf_counter()
            try:
                decode(page.data)
            except (BinaryDataError, UnicodeError):
                pass
            seconds[page.group] += time.perf_counter() - started
        runs.append(seconds)
    megabytes = sum(len(p.data) for p in corpus) / 1e6
    by_group_mb: Counter[str] = Counter()
    for p in corpus:
        by_group_mb[p.group] += len(p.data) / 1e6
    not_utf8 = [(p, r) for p, r in zip(corpus, right) if p.group != "utf-8"]
    western = [r for p, r in zip(corpus, right) if p.group == "undeclared" and p.lang in WESTERN]
    return {
        "exact": share(right),
        "by_group": {g: share([r for p, r in zip(corpus, right) if p.group == g]) for g in GROUPS},
        "by_length": {n: share([r for p, r in not_utf8 if p.length == n]) for n in ("short", "long")},
        "undeclared_western": share(western),
        "undeclared_by_language": {
            lang: share([r for p, r in zip(corpus, right) if p.group == "undeclared" and p.lang == lang])
            for lang in LANGUAGES},
        "ms_per_mb": round(min(sum(r.values()) for r in runs) * 1000 / megabytes, 1),
        "ms_per_mb_by_group": {g: round(min(r[g] for r in runs) * 1000 / by_group_mb[g], 1) for g in GROUPS},
        "runs_s": [round(sum(r.values()), 4) for r in runs],
        "wrong": [p.name for p, r in zip(corpus, right) if not r],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="timed passes; the best counts")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "decode.json")
    args = parser.parse_args()

    corpus = pages()
    counts = Counter(p.group for p in corpus)
    result: dict = {
        "pages": len(corpus), "pages_by_group": dict(counts),
        "megabytes": round(sum(len(p.data) for p in corpus) / 1e6, 3), "repeat": args.repeat,
        "charset_normalizer": charset_normalizer.__version__, "python": platform.python_version(),
        "machine": platform.machine(), "decoders": {},
    }
    for name, decode in DECODERS.items():
        result["decoders"][name] = measure(name, decode, corpus, args.repeat)
    # What charset-normalizer alone guesses for undeclared Western pages (cp1250, mac_roman...).
    result["cn_guesses_undeclared_western"] = {
        length: dict(Counter(_cn_encoding(p.data) for p in corpus
                             if p.group == "undeclared" and p.lang in WESTERN and p.length == length))
        for length in ("short", "long")}

    print(f"\n{len(corpus)} pages ({', '.join(f'{g} {counts[g]}' for g in GROUPS)}), "
          f"{result['megabytes']} MB, best of {args.repeat}\n")
    print("| decoder | exact | " + " | ".join(GROUPS) + " | short | long | undeclared Western | ms/MB |")
    print("|---|---:|" + "---:|" * (len(GROUPS) + 4))
    for name, row in result["decoders"].items():
        cells = [row["exact"], *row["by_group"].values(), *row["by_length"].values(),
                 row["undeclared_western"]]
        print(f"| {name} | " + " | ".join(f"{c:.1%}" for c in cells) + f" | {row['ms_per_mb']:.0f} |")
    print("\n(short and long: pages not in UTF-8)")
    print("\ncharset-normalizer's guesses for undeclared Western pages: "
          + "; ".join(f"{n}: {g}" for n, g in result["cn_guesses_undeclared_western"].items()))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
