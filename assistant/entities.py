"""Names of places and organisations in a question (jieba's part-of-speech tags)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Sequence

# jieba tags: ns place, nt organisation, nz other proper noun.
PLACE_TAGS = frozenset({"ns"})
NAME_TAGS = frozenset({"ns", "nt", "nz"})


@lru_cache(maxsize=1)
def posseg():
    """``jieba.posseg``, word tags read from the stored table (:mod:`assistant.word_tags`)."""
    import jieba

    from assistant.config import Settings
    from assistant.word_tags import load_posseg

    jieba.setLogLevel(60)  # silence "Building prefix dict ..." on first use
    return load_posseg(Settings().cache_dir)


def proper_names(text: str, tags: frozenset[str] = NAME_TAGS) -> list[str]:
    """Distinct names of two or more characters with one of ``tags``, in order of appearance."""
    names = [w.word for w in posseg().cut(text) if w.flag in tags and len(w.word) >= 2]
    return list(dict.fromkeys(names))


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


def chinese_names(text: str) -> tuple[Name, ...]:
    places = set(place_names(text))
    return tuple(Name(n, (n, ADMIN_SUFFIX.sub("", n) or n), n in places) for n in place_and_org_names(text))


def english_names(text: str, expansion_groups: Sequence[tuple[str, Sequence[str]]],
                  romanised: Callable[[str], bool] = lambda word: False) -> tuple[Name, ...]:
    """Capitalised words (not the first) whose dictionary renderings are places/organisations.

    "Guangdong" -> 广东 counts; "Northern" -> 北部 does not, nor does the month "May".
    """
    words = text.split()
    first_word = words[0] if words else ""
    names = []
    for source, translations in expansion_groups:
        if not source[:1].isupper() or source == first_word or source.lower() in _NOT_NAMES:
            continue
        named = [t for t in translations if place_and_org_names(t)]
        if named:
            label = re.sub(r"['’]s$", "", source)
            variants = (label.lower(), *named, *(ADMIN_SUFFIX.sub("", t) for t in named))
            is_place = any(place_names(t) for t in named)
            # Romanised Chinese ("Guangdong") or a several-word place the dictionary knows as a
            # whole ("Inner Mongolia" -> 内蒙古) has one spelling; "Allen" or "Mongols" do not.
            reliable = all(romanised(w) for w in label.split()) or (is_place and len(label.split()) > 1)
            names.append(Name(label, tuple(dict.fromkeys(v for v in variants if v)), is_place, spelled_reliably=reliable))
    return tuple(names)
