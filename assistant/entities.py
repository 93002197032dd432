"""Names of places and organisations in a question (jieba's part-of-speech tags)."""

from __future__ import annotations

from functools import lru_cache

# jieba tags: ns place, nt organisation, nz other proper noun.
PLACE_TAGS = frozenset({"ns"})
NAME_TAGS = frozenset({"ns", "nt", "nz"})


@lru_cache(maxsize=1)
def _posseg():
    import jieba
    import jieba.posseg

    jieba.setLogLevel(60)  # silence "Building prefix dict ..." on first use
    return jieba.posseg


def proper_names(text: str, tags: frozenset[str] = NAME_TAGS) -> list[str]:
    """Distinct names of two or more characters with one of ``tags``, in order of appearance."""
    names = [w.word for w in _posseg().cut(text) if w.flag in tags and len(w.word) >= 2]
    return list(dict.fromkeys(names))


def place_and_org_names(text: str) -> list[str]:
    return proper_names(text, NAME_TAGS)


def place_names(text: str) -> list[str]:
    return proper_names(text, PLACE_TAGS)
