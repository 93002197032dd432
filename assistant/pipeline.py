"""The product path in one place: make sure an index exists, then retrieve and answer.

Front-ends (CLI, Gradio, eval) call :class:`Assistant` and nothing below it.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Callable

from assistant.answer import AnswerSettings, ExtractiveAnswerer
from assistant.config import Settings
from assistant.embed import load_embedder
from assistant.indexer import BuildReport, Progress, build_index, check_encoder, is_up_to_date
from assistant.query import parse_query
from assistant.retrieve import Retriever
from assistant.store import DamagedIndexError, load_index, read_manifest, recorded_exclusions, recorded_sources
from assistant.types import Answer


class QuestionError(ValueError):
    """The question itself is unusable (empty, too long)."""


def validate_question(question: str, max_chars: int) -> str:
    text = (question or "").strip()
    if not text:
        raise QuestionError("the question is empty; type a question, e.g. assistant ask \"遂宁市技术合同认定登记额是多少？\"")
    if len(text) > max_chars:
        raise QuestionError(
            f"the question is {len(text):,} characters long; the limit is {max_chars:,} "
            "(set ASSISTANT_MAX_QUESTION_CHARS to change it)"
        )
    return text


def ensure_index(settings: Settings, progress: Progress | None = None,
                 on_wait: Callable[[], None] | None = None) -> BuildReport | None:
    """Build the index from the default corpus when there is none, or refresh it when its sources changed.

    ``on_wait`` is called if another process is writing the index and this one has to wait.
    """
    # Removed articles (``assistant remove``) stay out of every rebuild.
    excluded = recorded_exclusions(settings.index_dir)
    try:
        manifest = read_manifest(settings.index_dir)
    except DamagedIndexError:
        sources = recorded_sources(settings.index_dir)
        if not sources or not all(s.exists() for s in sources):
            raise
        # Written by an older version (or half-written): rebuild from the same sources,
        # reusing its vectors, instead of asking the user to.
        return build_index(sources, settings.index_dir, settings, progress, on_wait=on_wait, exclude=excluded)
    if manifest is not None:
        sources = [Path(s) for s in manifest.sources]
        if not all(s.exists() for s in sources) or is_up_to_date(settings.index_dir, sources, settings, excluded):
            return None  # built from sources that moved away, or current: use as it is
        return build_index(sources, settings.index_dir, settings, progress, on_wait=on_wait, exclude=excluded)
    return build_index([settings.corpus_dir], settings.index_dir, settings, progress, on_wait=on_wait)


class Assistant:
    """Loads the index and models once; ``ask`` answers one question with citations."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.embedder = load_embedder(settings.encoder, threads=settings.encoder_threads)
        self.index = load_index(settings.index_dir)
        check_encoder(self.index.manifest, self.embedder.name, settings.index_dir)
        self.answerer = ExtractiveAnswerer(self.index, self.embedder, settings.prompts_dir,
                                           AnswerSettings.from_config(settings))
        self._retrievers: dict[str, Retriever] = {}

    @classmethod
    def open(cls, settings: Settings, progress: Progress | None = None,
             on_wait: Callable[[], None] | None = None) -> "Assistant":
        ensure_index(settings, progress, on_wait)
        return cls(settings)

    def retriever(self, mode: str | None = None) -> Retriever:
        mode = mode or self.settings.retriever
        if mode not in self._retrievers:
            self._retrievers[mode] = Retriever(self.index, self.embedder, mode=mode)
        return self._retrievers[mode]

    def ask(self, question: str, k: int | None = None, retriever: str | None = None) -> Answer:
        text = validate_question(question, self.settings.max_question_chars)
        k = k or self.settings.top_k
        started = time.perf_counter()
        query = parse_query(text)
        hits = self.retriever(retriever).run(query, k=max(k, 10))[:max(k, 10)]
        retrieved = time.perf_counter()
        answer = self.answerer.run(query, hits)
        done = time.perf_counter()
        timings = {
            "retrieve": round((retrieved - started) * 1000, 2),
            "answer": round((done - retrieved) * 1000, 2),
            "total": round((done - started) * 1000, 2),
        }
        return replace(answer, timings_ms=timings)
