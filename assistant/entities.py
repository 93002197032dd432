"""Names of places and organisations in a question (jieba's part-of-speech tags)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Sequence

# jieba tags: ns place, nt organisation, nz other proper noun.
PLACE_TAGS = frozenset({"ns"})
PERSON_TAGS = frozenset({"nr", "nrfg", "nrt"})
NAME_TAGS = frozenset({"ns", "nt", "nz"})
# People too: the names a question may ask about (雷丙旺, 富美达, 兰州).
PERSON_PLACE_ORG_TAGS = PERSON_TAGS | frozenset({"ns", "nt", "nz"})


@lru_cache(maxsize=1)
def posseg():
    """``jieba.posseg``, word tags read from the stored table (:mod:`assistant.word_tags`)."""
    import jieba

    from assistant.config import Settings
    from assistant.word_tags import load_posseg

    jieba.setLogLevel(60)  # silence "Building prefix dict ..." on first use
    return load_posseg(Settings().cache_dir)


@lru_cache(maxsize=4096)
def ordinal_variants(word: str) -> tuple[str, ...]:
    """The other spelling of an ordinal "first" of a measure word: 首批 <-> 第一批, 首次 <-> 第一次
    (one jieba word each, tagged a numeral; a question and an article often use different ones).
    Words jieba tags otherwise (首都, 首先, 首长, 首要) have none (rule 4 of
    benchmarks/decisions_2026-12-29.md, shipped by rule 1 of decisions_2026-12-30.md)."""
    if len(word) == 2 and word[0] == "首":
        other = "第一" + word[1]
    elif len(word) == 3 and word.startswith("第一"):
        other = "首" + word[2]
    else:
        return ()
    tags = [(w.word, w.flag) for w in posseg().cut(word)]
    return (other,) if tags == [(word, "m")] else ()


# A word right after a question word is what is asked for, not a name given: 哪个城市 asks for a
# city (jieba tags 城市 as a place), 哪家公司 for a company.
_ASKING = re.compile(r"^(?:哪|什么|何|几)")


def proper_names(text: str, tags: frozenset[str] = NAME_TAGS) -> list[str]:
    """Distinct names of two or more characters with one of ``tags``, in order of appearance."""
    return list(_proper_names(text, tags))


# Questions are tagged by several checks (names, places, organisations, each lead the answer
# tries): tag each text once per tag set.
@lru_cache(maxsize=4096)
def _proper_names(text: str, tags: frozenset[str]) -> tuple[str, ...]:
    words = list(posseg().cut(text))
    names = [w.word for previous, w in zip([None, *words], words)
             if w.flag in tags and len(w.word) >= 2 and not (previous is not None and _ASKING.match(previous.word))]
    return tuple(dict.fromkeys(names))


def place_and_org_names(text: str) -> list[str]:
    return proper_names(text, NAME_TAGS)


def place_names(text: str) -> list[str]:
    return proper_names(text, PLACE_TAGS)


# Administrative suffixes: 甘肃省 is also written 甘肃, 内蒙古自治区 as 内蒙古; and the organs
# of a place: 甘肃省委 is named where the article says 甘肃 ... 省委.
ADMIN_SUFFIX = re.compile(r"(省委|市委|县委|区委|党委|省政府|市政府|县政府|政府|人大|政协|特别行政区|自治区|自治州|省|市|县|区|州)$")
# Capitalised English words that are not names even when the dictionary gives a place for them.
_NOT_NAMES = frozenset({
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december", "monday", "tuesday", "wednesday", "thursday", "friday",
    "saturday", "sunday", "i",
})


@dataclass(frozen=True)
class Name:
    """A place or organisation named in a question, with the spellings to look for."""

    label: str
    variants: tuple[str, ...]
    is_place: bool
    # Whether the name has one reliable Chinese spelling, so that no article containing it
    # means the collection does not cover it (and passages about it can be told apart): true
    # for Chinese names, romanised Chinese ("Guangdong" is the pinyin of 广东) and places the
    # dictionary knows as a phrase; false for other English names, whose transliterations
    # vary ("Allen" may be 艾伦 or 阿伦).
    spelled_reliably: bool = True


# What a Chinese organisation's name ends with: 富美达公司, 兰石集团, 浙江大学, 遂宁研究院. jieba
# tags few company names (富美达 reads as a place), so the suffix is what marks them. A chain of
# suffixes is one suffix (集团有限公司), so that 有限公司 is not read as a name of its own.
_ORGANISATION_SUFFIX = re.compile(r"(?:股份有限公司|有限责任公司|有限公司|公司|集团|大学|学院|研究院|研究所|实验室|"
                                  r"银行|协会|医院|委员会)+")
_CJK_BEFORE = re.compile(r"[\u4e00-\u9fff]+$")
# A conjunction, particle or copula ends a name (高校和实验室 are two common nouns, 北京的大学 names Beijing).
_NAME_BREAK = "和与及或的了在是为等"
# Where the text before the suffix is not a name: a question word (哪家公司), a determiner or
# pronoun (该公司, 这所大学, 我们公司), or right before the suffix a conjunction, a particle or a
# count, which make it a common noun (高校和实验室, 新型的研究院, 两个公司).
_NOT_ORGANISATION = re.compile(rf"哪|什么|谁|几|多少|怎|何|^[这那该本此其我你他她它各每某全]|[{_NAME_BREAK}、]$|"
                               r"[一二两三四五六七八九十百千万多0-9][个家所座位]$")


@dataclass(frozen=True)
class Organisation:
    """An organisation a text names by a Chinese suffix, as the spellings an article may use."""

    full: tuple[str, ...]  # with its suffix, longest first: 请问富美达公司 … 富美达公司, 美达公司
    stems: tuple[str, ...]  # without it: … 富美达, 美达 (an article may write 富美达 for 富美达公司)


def _in_order(short: str, long: str) -> bool:
    rest = iter(long)
    return all(char in rest for char in short)


# The text an organisation's name may take before its suffix: 内蒙古北方重工业, 酒泉钢铁(集团).
_NAME_RUN = re.compile(r"[\u4e00-\u9fff()（）]{1,20}$")


# A place named as the first part of a university's, an institute's, a laboratory's, a hospital's or
# a bank's name (浙江 of 浙江大学, 北京 of 北京理工大学) names that body, not the place a text is about;
# followed by an administrative suffix (北京市科技局, 甘肃省) it names the place. A company or group
# is left out: it goes by the place part of its name (金川 for 金川集团).
_ORGANISATION_TAIL = re.compile(
    rf"(?:(?![{_NAME_BREAK}])[\u4e00-\u9fff()（）]){{0,12}}?(?:大学|学院|研究院|研究所|实验室|医院|银行)")
_ADMIN_CHARS = "省市县区州"


def names_place(text: str, place: str) -> bool:
    """Whether ``text`` names ``place`` other than as the start of an organisation's name."""
    start = text.find(place)
    while start >= 0:
        end = start + len(place)
        if (end < len(text) and text[end] in _ADMIN_CHARS) or not _ORGANISATION_TAIL.match(text, end):
            return True
        start = text.find(place, start + 1)
    return False


def abbreviated_in(name: str, text: str) -> bool:
    """Whether ``text`` names an organisation of which ``name`` is the Chinese abbreviation: the
    characters of its stem in order within a longer name of the same suffix's kind (北重集团 for
    内蒙古北方重工业集团有限公司, 酒钢集团 for 酒泉钢铁(集团)有限责任公司)."""
    suffix = _ORGANISATION_SUFFIX.search(name)
    stem = name[:suffix.start()] if suffix else ""
    if len(stem) < 2:
        return False
    for m in _ORGANISATION_SUFFIX.finditer(text):
        run = _NAME_RUN.search(text, 0, m.start())
        if run and len(run.group(0)) > len(stem) and _in_order(stem, run.group(0)):
            return True
    return False


def short_forms(name: str) -> tuple[str, ...]:
    """How Chinese shortens a university's name: its first character and 大 (芝加哥大学 -> 芝大)."""
    return (name[0] + "大",) if name.endswith("大学") and len(name) > 3 else ()


# Tags of the word before the suffix that make the whole a proper name: a person's or place's
# name (兰石 reads as a person's, 金川 as a place's), an organisation's, or no word jieba knows.
_PROPER_TAGS = frozenset({"nr", "nrt", "nrfg", "ns", "nt", "nz", "x", "eng"})


# A company's legal form. A registered name puts its line of business between the trade name and
# the legal form (宁德时代新能源科技股份有限公司), so the word before the suffix is a common noun there.
_LEGAL_FORM = re.compile(r"有限公司$|有限责任公司$")


def is_organisation_name(name: str) -> bool:
    """Whether a Chinese name ending in an organisation suffix names one organisation rather than
    a kind of them: 兰石集团, 浙江大学 do; 建筑公司, 保险公司 (construction, insurance companies) do not.
    Before a legal form (有限公司 …) a proper name anywhere will do: 比亚迪汽车工业有限公司 is one
    company, 新能源汽车有限公司 a kind (rule 3 of benchmarks/decisions_2026-12-28.md)."""
    words = [(w.word, w.flag) for w in posseg().cut(name)]
    if len(words) == 1:
        return words[0][1] in _PROPER_TAGS
    suffix = _ORGANISATION_SUFFIX.search(name)
    before = [flag for word, flag in words if suffix is None or name.find(word) < suffix.start()]
    if suffix is not None and _LEGAL_FORM.search(suffix.group(0)):
        return not before or any(flag in _PROPER_TAGS for flag in before)
    return not before or before[-1] in _PROPER_TAGS


def organisations(match: str) -> list[Organisation]:
    """Organisations a text (in match form) names by a Chinese suffix.

    The characters before the suffix run back to the start of the phrase (请问富美达公司), so
    every tail of at least two characters that reads as a proper name is a possible spelling;
    the caller keeps those its collection knows."""
    out = []
    previous_end = 0
    for m in _ORGANISATION_SUFFIX.finditer(match):
        run = _CJK_BEFORE.search(match, previous_end, m.start())  # the phrase since the last name
        previous_end = m.end()
        before = run.group(0) if run else ""
        stems = [before[i:] for i in range(len(before) - 1)
                 if not _NOT_ORGANISATION.search(before[i:]) and is_organisation_name(before[i:] + m.group(0))]
        out.append(Organisation(tuple(stem + m.group(0) for stem in stems), tuple(stems)))
    return out


# A conjunction in a name jieba assembled from unknown characters joins two names: 天齐和富美达
# ("Tianqi and Fumeida") is cut 天齐和富 / 美达, 长虹和富美达 长虹 / 和富 / 美达, and 天齐和富 or
# 和富 is not a spelling to look up (和田, a dictionary word, is).
_CONJUNCTION = re.compile(r"[和与及或跟同]")


def is_known_word(word: str) -> bool:
    """Whether jieba's dictionary has the word (rather than building it from unknown characters)."""
    return word in posseg().dt.word_tag_tab


# The copula or negation after a question's subject (X是…, X不…), which jieba's word-building
# glues to a name its dictionary lacks: 巴利冈是 is cut 巴利 / 冈是, 锦地罗不需要 锦地罗不 / 需要.
_GLUED_VERB = re.compile(r"[是不]$")
# "X地区" is the region X (台湾地区: 台湾), as 甘肃省 is 甘肃.
_REGION = re.compile(r"地区$")


def _unglued(name: str) -> str:
    """A name jieba built from unknown characters, without a copula or negation it swallowed ("" if
    one character is left)."""
    if is_known_word(name) or not _GLUED_VERB.search(name):
        return name
    return name[:-1] if len(name) > 2 else ""


def chinese_names(text: str) -> tuple[Name, ...]:
    places = set(place_names(text))
    names = []
    for found in place_and_org_names(text):
        n = _unglued(found)
        if not n or (found in places and not names_place(text, found)):
            continue  # (华西 of 华西医院: the question names the hospital)
        stem = _REGION.sub("", n) if _REGION.search(n) else ADMIN_SUFFIX.sub("", n)
        variants = (n, stem or n)
        names.append(Name(n, tuple(dict.fromkeys(variants)), found in places,
                          spelled_reliably=not (_CONJUNCTION.search(n) and not is_known_word(n))))
    return tuple(names)


# An English name followed by its Chinese form in brackets: "JISCO (酒钢)", "Lanshi Group's (兰石集团)".
_BRACKETED_CHINESE = re.compile(r"[A-Za-z][\w.&'’-]*\s*[(（]\s*([\u4e00-\u9fff]{2,})\s*[)）]")


def with_bracketed_chinese(text: str, known: Sequence[Name] = ()) -> tuple[Name, ...]:
    """``known`` (an English question's names) with the Chinese forms the question gives its names
    in brackets after them (``text`` normalised: Simplified, half-width). A form that spells a known
    name, or holds one of its spellings (内蒙古自治区 for Inner Mongolia, 兰州新区 for the Lanzhou of
    "Lanzhou New Area"), replaces it: it is the fuller spelling of the same words."""
    names = list(known)
    for m in _BRACKETED_CHINESE.finditer(text):
        form = m.group(1)
        if any(form in name.variants for name in names):
            continue
        stem = ADMIN_SUFFIX.sub("", form)
        # 内蒙古 of 内蒙古自治区 is a place; 兰州新 of 兰州新区 is no word
        variants = (form, stem) if len(stem) >= 2 and stem != form and is_known_word(stem) else (form,)
        spelled = [i for i, name in enumerate(names)
                   if any(len(v) >= 2 and not v.isascii() and (v in form or v == stem) for v in name.variants)]
        is_place = bool(place_names(form)) or any(names[i].is_place for i in spelled)
        names = [name for i, name in enumerate(names) if i not in spelled]
        names.append(Name(form, variants, is_place))
    return tuple(names)


def english_names(text: str, expansion_groups: Sequence[tuple[str, Sequence[str]]],
                  romanised: Callable[[str], bool] = lambda word: False,
                  known_place: Callable[[str], bool] = lambda headword: False,
                  ordinary_word: Callable[[str], bool] = lambda word: True,
                  ordinary_chinese: Callable[[str], bool] = lambda headword: False) -> tuple[Name, ...]:
    """Capitalised words (not the first) whose dictionary renderings are places/organisations
    (by jieba's tags, or ``known_place``: the dictionary's own description, 包头 for "Baotou"),
    leaving out renderings the dictionary knows only as ordinary words (``ordinary_chinese``, the
    test Chinese names pass too: "Prime Minister" -> 相国, an ancient chancellor jieba tags as a
    place, is no name).
    A romanised Chinese name also counts first or in lower case ("gansu 的…", "who leads lanzhou
    …", "suining's", as users type), unless it is also an ordinary English word (``ordinary_word``:
    make, guide); so does a phrase of several words the dictionary renders as a place as a whole
    ("inner mongolia" -> 内蒙古).

    "Guangdong" -> 广东 counts; "Northern" -> 北部 does not, nor does the month "May".
    """
    words = text.split()
    first_word = words[0] if words else ""
    names = []
    for source, translations in expansion_groups:
        if source.lower() in _NOT_NAMES:
            continue
        capitalised_inside = source[:1].isupper() and source != first_word
        bare = [re.sub(r"['’]s$", "", w) for w in source.split()]  # "suining's"
        romanised_name = all(romanised(w) and not ordinary_word(w) for w in bare)
        # Tagging the renderings is the costly part: only for a source that may be a name.
        if not (capitalised_inside or romanised_name or len(bare) > 1):
            continue
        named = [t for t in translations if (place_and_org_names(t) or known_place(t)) and not ordinary_chinese(t)]
        # In lower case, a phrase the dictionary renders as a place as a whole ("inner mongolia").
        if not (capitalised_inside or romanised_name or any(place_names(t) or known_place(t) for t in named)):
            continue
        if named:
            label = re.sub(r"['’]s$", "", source)
            variants = (label.lower(), *named, *(ADMIN_SUFFIX.sub("", t) for t in named))
            is_place = any(place_names(t) or known_place(t) for t in named)
            # Romanised Chinese ("Guangdong") or a several-word place the dictionary knows as a
            # whole ("Inner Mongolia" -> 内蒙古) has one spelling; "Allen" or "Mongols" do not.
            reliable = all(romanised(w) for w in label.split()) or (is_place and len(label.split()) > 1)
            names.append(Name(label, tuple(dict.fromkeys(v for v in variants if v)), is_place, spelled_reliably=reliable))
    return tuple(names)
