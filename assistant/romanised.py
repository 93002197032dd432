"""Chinese names an English question writes in pinyin, spelled as the collection spells them.

English questions name Chinese people and companies in pinyin ("Lei Bingwang", "Tianqi Lithium",
"Beizhong"). CC-CEDICT knows the romanised names of places and famous people, not those of a
chief engineer or a listed company, so such a name found no rendering and was dropped from the
question. The collection says how it spells them: the name's syllables give each position's
candidate characters (CC-CEDICT's single-character readings, stored with the dictionary), the
lexical index's character pairs prune them, and a spelling is kept only when the collection
holds it (雷丙旺, 天齐, 北重); the most frequent few join the question's expansion as one group.

The retriever and the answerer each resolve a question through the index they read; a question
with no such name returns at once.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Callable

from assistant.index import Index
from assistant.query import STOPWORDS_EN, Query, is_ordinary_english, load_dictionary
from assistant.text import tokenize_zh

# Syllables of a name written as one run ("Zhang Zhenxiang": 3); longer runs are no single name.
MIN_SYLLABLES, MAX_SYLLABLES = 2, 4
MAX_SPELLINGS = 3  # spellings kept per name, most frequent in the collection first
_BEAM = 2000  # partial spellings followed per name
_CHECKED = 20  # spellings looked up in the articles per name, most likely first
_WORD = re.compile(r"[A-Za-z]+(?:['’]s)?")
_VOWEL = re.compile(r"[aeiouv]")


def with_collection_names(query: Query, index: Index) -> Query:
    """``query`` with the collection's spellings of the pinyin names it writes added to its
    expansion (groups, expansion terms and lexical tokens); the same query when it has none."""
    if query.lang != "en":
        return query
    translated = {_bare(word).lower() for source, _ in query.expansion_groups for word in source.split()}
    groups = []
    for label, syllable_splits in _romanised_runs(query.text, translated):
        spellings = collection_spellings(syllable_splits, load_dictionary().characters, index)
        if spellings:
            groups.append((label, tuple(spellings)))
    if not groups:
        return query
    expansion = list(dict.fromkeys([*query.expansion, *(s for _, found in groups for s in found)]))
    tokens = list(query.lexical_tokens)
    tokens += [t for t in dict.fromkeys(t for _, found in groups for s in found for t in tokenize_zh(s)) if t not in tokens]
    return replace(query, expansion=expansion, lexical_tokens=tokens,
                   expansion_groups=(*query.expansion_groups, *groups))


def spelled_name(text: str, names: list[str]) -> str | None:
    """The first of ``names`` (Chinese) that a run of capitalised words of ``text`` spells in pinyin,
    character by character by the dictionary's readings ("Li Zhenyou" -> 李振佑); None when none is.
    Every run is read, also one the dictionary translates ("Qian" renders 钱三强): the names are
    given, so a run that spells one is that name."""
    if not names:
        return None
    dictionary = load_dictionary()
    runs: list[list[str]] = [[]]
    for word in _WORD.findall(text):
        bare = _bare(word)
        if bare[:1].isupper() and bare[1:].islower():
            runs[-1].append(bare.lower())
        elif runs[-1]:
            runs.append([])
    for run in filter(None, runs):
        # "Reporter Qian Lixin Said": the name may start and end inside the run (one to three words)
        for start, end in ((i, j) for i in range(len(run)) for j in range(i + 1, min(i + 3, len(run)) + 1)):
            splits = split_syllables("".join(run[start:end]), dictionary.syllables)
            for name in names:
                if any(len(syllables) == len(name) and all(c in dictionary.characters(s) for s, c in zip(syllables, name))
                       for syllables in splits):
                    return name
    return None


def _romanised_runs(text: str, translated: set[str]) -> list[tuple[str, list[tuple[str, ...]]]]:
    """(label, its readings as syllables) for each run of capitalised words that all read as
    pinyin, with a word the dictionary did not render and English does not have ("Bingwang", not
    "Name" or "Lei"); a run too long to be one name gives such words one by one."""
    syllables = load_dictionary().syllables
    runs: list[list[str]] = [[]]
    for word in _WORD.findall(text):
        bare = _bare(word)
        if bare[:1].isupper() and bare[1:].islower() and bare.lower() not in STOPWORDS_EN \
                and split_syllables(bare.lower(), syllables):
            runs[-1].append(bare)
        elif runs[-1]:
            runs.append([])

    def unknown(word: str) -> bool:
        return word.lower() not in translated and not is_ordinary_english(word.lower())

    found = []
    for run in runs:
        if not any(map(unknown, run)):
            continue
        splits = _name_splits("".join(run).lower(), syllables)
        if splits:
            found.append((" ".join(run), splits))
            continue
        for word in filter(unknown, run):
            if splits := _name_splits(word.lower(), syllables):
                found.append((word, splits))
    return found


def _bare(word: str) -> str:
    """The word without a possessive ending ("Gansu's" -> "Gansu")."""
    return re.sub(r"['’]s$", "", word)


def _name_splits(word: str, syllables: frozenset[str]) -> list[tuple[str, ...]]:
    return [s for s in split_syllables(word, syllables) if MIN_SYLLABLES <= len(s) <= MAX_SYLLABLES]


def split_syllables(word: str, syllables: frozenset[str]) -> list[tuple[str, ...]]:
    """Every way to read a lower-case word as at most ``MAX_SYLLABLES`` pinyin syllables, each
    with a vowel ("xian" -> ("xian",), ("xi", "an")); [] when there is none (a longer word is no
    name, and the bound keeps the ways few)."""
    splits: list[list[tuple[str, ...]]] = [[] for _ in range(len(word) + 1)]
    splits[0] = [()]
    for end in range(1, len(word) + 1):
        for start in range(max(0, end - 6), end):
            piece = word[start:end]
            if splits[start] and piece in syllables and _VOWEL.search(piece):
                splits[end] += [s + (piece,) for s in splits[start] if len(s) < MAX_SYLLABLES]
    return splits[len(word)]


def collection_spellings(syllable_splits: list[tuple[str, ...]], characters: Callable[[str], list[str]],
                         index: Index) -> list[str]:
    """The Chinese spellings of the syllables that some article holds, the collection's words first.

    The lexical index holds a word's character bigrams only inside jieba's words (柯文 of 柯文博
    cut as 柯文 / 博), so a spelling is grown through pairs it holds, with at most one pair it does
    not hold (a word boundary) in a name of three syllables or more; a spelling that is no
    word of the collection is kept only if an article contains it (``Index.mentions``)."""
    terms = index.terms
    grown_spellings: dict[str, tuple[int, int]] = {}  # spelling -> (pairs not held, the rarest held pair's frequency)
    for syllables in syllable_splits:
        partial = [("", 0, 0)]  # (spelling so far, pairs not held, the smallest frequency of its held pairs)
        for syllable in syllables:
            grown = []
            readings = characters(syllable)
            for spelling, gaps, rarest in partial:
                for character in readings:
                    if not spelling:
                        grown.append((character, 0, 0))
                    elif (frequency := terms.document_frequency(spelling[-1] + character)) > 0:
                        grown.append((spelling + character, gaps, frequency if not rarest else min(rarest, frequency)))
                    elif gaps == 0 and len(syllables) >= 3:
                        grown.append((spelling + character, 1, rarest))
            partial = sorted(grown, key=lambda p: (p[1], -p[2]))[:_BEAM]
        for spelling, gaps, rarest in partial:
            if rarest > 0:  # at least one pair held: a spelling with none is a guess
                grown_spellings[spelling] = min(grown_spellings.get(spelling, (gaps, rarest)), (gaps, rarest))
    ranked = sorted(grown_spellings, key=lambda s: (-terms.document_frequency(s), *grown_spellings[s][:1],
                                                    -grown_spellings[s][1]))
    found = []
    for spelling in ranked[:_CHECKED]:
        if terms.document_frequency(spelling) > 0 or index.mentions(spelling):
            found.append(spelling)
            if len(found) == MAX_SPELLINGS:
                break
    return found
