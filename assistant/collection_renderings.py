"""English question words rendered as the collection's own Chinese words, by the cross-lingual encoder.

The dictionary (``assistant.query``) renders an English word by its glosses, whether or not the
articles ever write what it finds: "national" gives 全国性, 国立, 全国 where the articles write 国家,
"hydraulic" 液力 where they write 液压, "labs" only 贝尔实验室. The cross-lingual encoder (USE-multilingual,
trained on translation pairs) places single words of the two languages close together, so the
collection's vocabulary, embedded once per loaded index, answers "which word of these articles
says this English word": each rendered word or phrase of the question, and each content word the
dictionary does not render, takes its nearest vocabulary word when the cosine reaches a threshold.
The words found are added to the question's BM25 tokens and to the answer stage's question terms;
the checks on the lead keep the dictionary's renderings, and the English reader reads the found
words only when it was trained with them (its meta says ``question_renderings: "collection"``).

Off by default (``collection_renderings_per_word`` 0). Judged on 2026-12-07 (rules 2-4 of
benchmarks/decisions_2026-12-26.md): with the shipped selector trees, fitted on dictionary terms, at a
cosine of 0.6 it failed by one XQuAD question; refitted on rows collected with it, at 0.7, the
English trees' cross-validated top-1 rose on XQuAD's training part (0.691 -> 0.710) and on our
dev split (31 -> 32 of 47); but the English reader retrained on those trees' shortlists took the
gain back (top-1 after the reader, XQuAD 0.749 -> 0.733). A reader trained to read these words too
(``reader.rendered_question``; rule 1 of benchmarks/decisions_2026-12-27.md) kept more of it, but
only to 0.753 against the shipped 0.749, short of its screen: not turned on.

The vocabulary is embedded at the first English question of each loaded index (USE: ~0.3 s for
the five articles' 1,500 words, 2 s for XQuAD's 8,500); a collection of a million chunks would
want it built at ingest instead.
"""

from __future__ import annotations

import re
import threading
import weakref
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from assistant.index import Index
from assistant.query import Query, english_content_words

# A vocabulary word a rendering may be: a Chinese word of the index's BM25 tokens (its character
# bigrams of longer words included), not a figure, a Latin token or a single character.
_CHINESE_WORD = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]{2,8}")


@dataclass(frozen=True)
class CollectionLexicon:
    """The index's Chinese vocabulary and its unit vectors by one encoder."""

    encoder: str
    words: tuple[str, ...]
    vectors: np.ndarray  # (len(words), dim), unit length

    def nearest(self, source: str, threshold: float, per_word: int) -> tuple[str, ...]:
        """The ``per_word`` vocabulary words closest to ``source`` with a cosine of at least ``threshold``."""
        if not self.words or per_word <= 0:
            return ()
        similarity = self.vectors @ _source_vector(self.encoder, source)
        # the per_word best without sorting the whole vocabulary (this runs for every question word)
        top = np.argpartition(-similarity, per_word - 1)[:per_word] if per_word < len(self.words) \
            else np.arange(len(self.words))
        best = top[np.argsort(-similarity[top])]
        return tuple(self.words[i] for i in best if similarity[i] >= threshold)


@lru_cache(maxsize=4096)
def _source_vector(encoder: str, source: str) -> np.ndarray:
    from assistant.embed import load_embedder

    return np.asarray(load_embedder(encoder).embed_query(source), dtype=np.float32).reshape(-1)


# Per loaded index (by identity: an index is no hashable value), while it is alive.
_LEXICONS: dict[int, tuple[weakref.ref, CollectionLexicon | None]] = {}
_BUILDING = threading.Lock()


def lexicon_of(index: Index) -> CollectionLexicon | None:
    """The index's lexicon by its cross-lingual encoder, built at the first English question
    (USE embeds ~5,000 words a second) and kept while the index is loaded; None when the index
    stores no cross-lingual encoder."""
    with _BUILDING:  # a preloading thread and a question may ask at once: one builds, the other waits
        held = _LEXICONS.get(id(index))
        if held is not None and held[0]() is index:
            return held[1]
        lexicon = _build_lexicon(index)
        _LEXICONS[id(index)] = (weakref.ref(index, lambda _, key=id(index): _LEXICONS.pop(key, None)), lexicon)
        return lexicon


def _build_lexicon(index: Index) -> CollectionLexicon | None:
    encoder = index.cross_lingual_encoder
    if not encoder:
        return None
    from assistant.embed import load_embedder

    words = tuple(w for w in index.terms.vocabulary() if _CHINESE_WORD.fullmatch(w))
    vectors = np.asarray(load_embedder(encoder).embed_passages(list(words)), dtype=np.float32) if words \
        else np.zeros((0, 1), dtype=np.float32)
    return CollectionLexicon(encoder, words, vectors.reshape(len(words), -1))


def with_collection_renderings(query: Query, index: Index, threshold: float, per_word: int) -> Query:
    """``query`` with its English words' nearest collection words (``Query.collection_renderings``)
    and those words among its BM25 tokens; the same query for a Chinese question, with the
    feature off (``per_word`` 0), without a cross-lingual encoder, or when already rendered."""
    if query.lang != "en" or per_word <= 0 or query.collection_renderings:
        return query
    lexicon = lexicon_of(index)
    if lexicon is None:
        return query
    rendered = []
    for source in english_content_words(query):
        words = lexicon.nearest(source, threshold, per_word)
        if words:
            rendered.append((source, words))
    if not rendered:
        return query
    tokens = list(query.lexical_tokens)
    tokens += [w for w in dict.fromkeys(w for _, words in rendered for w in words) if w not in tokens]
    return replace(query, lexical_tokens=tokens, collection_renderings=tuple(rendered))
