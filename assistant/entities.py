"""Names of places and organisations in a Chinese question (jieba's part-of-speech tags)."""

from __future__ import annotations

from functools import lru_cache

# jieba tags: ns place, nt organisation, nz other proper noun, nr person.
_NAME_TAGS = {"ns", "nt", "nz"}


@lru_cache(maxsize=1)
def _posseg():
    import jieba
    import jieba.posseg

    jieba.setLogLevel(60)  # silence "Building prefix dict ..." on first use
    return jieba.posseg


def place_and_org_names(text: str) -> list[str]:
    """Distinct place/organisation names of two or more characters, in order of appearance."""
    names = [w.word for w in _posseg().cut(text) if w.flag in _NAME_TAGS and len(w.word) >= 2]
    return list(dict.fromkeys(names))
