"""The product path in one place: make sure an index exists, then retrieve and answer.

Front-ends (CLI, Gradio, eval) call :class:`Assistant` and nothing below it.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

from assistant.answer import AnswerSettings, ExtractiveAnswerer
from assistant.answer.llm.chat_model import LLMError
from assistant.answer.reader import packaged_reader_paths, preload_reader
from assistant.collection_renderings import lexicon_of
from assistant.config import Settings
from assistant.conversation import Turn, condense_by_rule, history_lines
from assistant.embed import EmbedderError, load_embedder, preload_embedder
from assistant.index import Index
from assistant.indexer import BuildReport, Progress, build_index, check_encoder, is_up_to_date
from assistant.query import parse_query
from assistant.retrieve import Retriever
from assistant.index.store import (
    MANIFEST_NAME,
    DamagedIndexError,
    IndexStoreError,
    open_index,
    read_manifest,
    recorded_exclusions,
    recorded_sources,
)
from assistant.types import Answer


class QuestionError(ValueError):
    """The question itself is unusable (empty, too long), or cannot be answered as asked (no model for --answer llm)."""


# Half of a UTF-16 surrogate pair on its own (a broken copy-paste, a bad client): not a character.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
MAX_K = 100


def validate_question(question: object, max_chars: int) -> str:
    """The question as every entry point (CLI, HTTP API, chat, LangChain retriever) accepts it.

    Stripped; lone surrogates (which no text encoding can carry) dropped; empty, oversized
    and non-text questions refused with a QuestionError saying what to change.
    """
    if question is not None and not isinstance(question, str):
        raise QuestionError(f"the question must be text, not {type(question).__name__}")
    text = _LONE_SURROGATE.sub("", question or "").strip()
    if not text:
        raise QuestionError("the question is empty; type a question, e.g. assistant ask \"遂宁市技术合同认定登记额是多少？\"")
    if len(text) > max_chars:
        raise QuestionError(
            f"the question is {len(text):,} characters long; the limit is {max_chars:,} "
            "(set ASSISTANT_MAX_QUESTION_CHARS to change it)"
        )
    return text


def validate_k(k: object) -> int:
    """How many passages to retrieve: a whole number from 1 to MAX_K."""
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
        raise QuestionError(f"k (passages to retrieve) must be a whole number from 1 to {MAX_K}, not {k!r}")
    return k


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


@dataclass
class _Loaded:
    """One generation of the index and what is built on it; swapped whole when the collection
    changes, so a question always runs on one generation from start to end."""

    index: Index
    answerer: ExtractiveAnswerer
    stamp: tuple[int, int] | None  # the manifest's (mtime, size) when this generation was opened
    retrievers: dict[str, Retriever] = field(default_factory=dict)
    llm: object | None = None


def _after(first: threading.Thread, then: Callable[[], object]) -> threading.Thread:
    """A background thread that runs ``then`` once ``first`` has ended. A failure to load is not
    reported here: the first question that needs it loads it again and reports it."""
    def run() -> None:
        first.join()
        try:
            then()
        except EmbedderError:
            pass

    thread = threading.Thread(target=run, name="preload-after", daemon=True)
    thread.start()
    return thread


def _manifest_stamp(index_dir: Path) -> tuple[int, int] | None:
    try:
        stat = (index_dir / MANIFEST_NAME).stat()
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size


class Assistant:
    """Loads the index and models once; ``ask`` answers one question with citations."""

    def __init__(self, settings: Settings, chat_model=None) -> None:
        """``chat_model``: a LangChain chat model to use instead of the configured one (tests)."""
        self.settings = settings
        if settings.reader:
            preload_reader(*packaged_reader_paths())  # overlaps loading the encoder and the index
        self.embedder = load_embedder(settings.encoder, threads=settings.encoder_threads)
        self.llm_configured = bool(settings.llm) or chat_model is not None
        self._chat_model = chat_model
        self._swap = threading.Lock()
        self._unopenable: tuple[int, int] | None = None  # a switched-to manifest that could not be opened
        self._loaded = self._load()

    def _load(self) -> _Loaded:
        stamp = _manifest_stamp(self.settings.index_dir)  # taken first: a switch during the load is seen next time
        index = open_index(self.settings)
        check_encoder(index.manifest, self.embedder.name, self.settings.index_dir)
        return _Loaded(index, ExtractiveAnswerer(index, self.embedder, self.settings.prompts_dir,
                                                 AnswerSettings.from_config(self.settings)), stamp)

    def preload(self, wait: bool = False) -> None:
        """Load what only some questions need, the cross-lingual encoder (~2-3 s of pure-Python
        tokenizer parsing; English questions only): in the background for processes that serve
        many questions (chat, API), or now (``wait``) before timed runs (eval), so that no
        question's latency includes it. A one-question process loads it only when its question
        is English: a Chinese `assistant ask` never pays for it (the load holds the interpreter
        lock most of the time, so beside a Chinese question it slows that question down rather
        than overlapping it)."""
        loaded = self._current()
        name = loaded.index.cross_lingual_encoder
        if name:
            thread = preload_embedder(name)
            if loaded.answerer.settings.collection_renderings_per_word > 0:
                # ... and the collection's vocabulary embedded by it (assistant/collection_renderings.py)
                thread = _after(thread, lambda: lexicon_of(loaded.index))
            if wait:
                thread.join()

    def reload(self) -> None:
        """Open the index again after its collection changed (the chat's upload and remove).
        Questions already running finish on the generation they started with."""
        loaded = self._load()
        with self._swap:
            self._loaded = loaded

    def _current(self) -> _Loaded:
        """The loaded generation, reopened first when another process switched the index (an
        `assistant add` while the chat runs); a switch that cannot be opened yet is retried
        at the next question, which is answered from the generation already loaded."""
        stamp = _manifest_stamp(self.settings.index_dir)
        if stamp in (self._loaded.stamp, self._unopenable):
            return self._loaded
        with self._swap:
            if stamp not in (self._loaded.stamp, self._unopenable):
                try:
                    self._loaded = self._load()
                except (IndexStoreError, EmbedderError):
                    self._unopenable = stamp  # not tried again on every question; a new switch is
            return self._loaded

    @property
    def index(self) -> Index:
        return self._current().index

    @property
    def answerer(self) -> ExtractiveAnswerer:
        return self._current().answerer

    @property
    def llm(self):
        """The generated-answer path (imported on first use: an extractive process never loads it)."""
        return self._llm_of(self._current())

    def _llm_of(self, loaded: _Loaded):
        if loaded.llm is None:
            from assistant.answer.llm import ChatClient, LLMAnswerer, LLMSettings

            client = ChatClient(LLMSettings.from_config(self.settings), self._chat_model)
            loaded.llm = LLMAnswerer(loaded.answerer, client, self.settings.prompts_dir)
        return loaded.llm

    @classmethod
    def open(cls, settings: Settings, progress: Progress | None = None,
             on_wait: Callable[[], None] | None = None) -> "Assistant":
        ensure_index(settings, progress, on_wait)
        return cls(settings)

    def retriever(self, mode: str | None = None) -> Retriever:
        return self._retriever_of(self._current(), mode)

    def _retriever_of(self, loaded: _Loaded, mode: str | None) -> Retriever:
        mode = mode or self.settings.retriever
        if mode not in loaded.retrievers:
            loaded.retrievers[mode] = Retriever.from_config(loaded.index, self.embedder, mode, self.settings)
        return loaded.retrievers[mode]

    def answer_mode(self, requested: str | None = None) -> str:
        """"extractive" or "llm": as requested, else as configured ("auto": llm when a model is set)."""
        mode = requested or self.settings.answer
        if mode == "auto":
            return "llm" if self.llm_configured else "extractive"
        if mode == "llm" and not self.llm_configured:
            raise QuestionError("--answer llm needs a chat model: set ASSISTANT_LLM=PROVIDER:MODEL "
                                "(e.g. openai:deepseek-chat with ASSISTANT_LLM_BASE_URL and ASSISTANT_LLM_API_KEY)")
        if mode not in ("extractive", "llm"):
            raise QuestionError(f"unknown answer mode '{mode}'; choose extractive or llm")
        return mode

    def standalone(self, question: str, history: list[Turn], mode: str, llm=None) -> str:
        """A chat follow-up rewritten with its history: by the model in llm mode, else (or on failure) by rule."""
        if not history:
            return question
        if mode == "llm":
            try:
                lang = parse_query(question).lang
                return (llm or self.llm).ask_model(f"llm_condense.{lang}.txt", question=question,
                                          history=history_lines([(t.question, t.answer) for t in history])) or question
            except LLMError:
                pass
        return condense_by_rule(history[-1].standalone, question)

    def ask(self, question: str, k: int | None = None, retriever: str | None = None, *, answer: str | None = None,
            history: list[Turn] | None = None, on_token: Callable[[str], None] | None = None) -> Answer:
        """Answer ``question``; ``answer`` picks the mode, ``history`` the earlier turns of a chat,
        ``on_token`` receives a generated answer as it streams."""
        text = validate_question(question, self.settings.max_question_chars)
        mode = self.answer_mode(answer)
        k = validate_k(self.settings.top_k if k is None else k)
        started = time.perf_counter()
        loaded = self._current()  # this question's generation of the index, whatever reload() does meanwhile
        llm = self._llm_of(loaded) if mode == "llm" else None
        standalone = self.standalone(text, history or [], mode, llm)
        query = parse_query(standalone)
        search = query
        if mode == "llm" and self.settings.llm_translate_queries and query.lang == "en":
            try:
                search = parse_query(f"{standalone} {llm.ask_model('llm_translate.txt', question=standalone)}")
            except LLMError:
                pass  # the dictionary expansion alone, as in extractive mode
        hits = self._retriever_of(loaded, retriever).run(search, k=max(k, 10))[:max(k, 10)]
        retrieved = time.perf_counter()
        notice = None
        if mode == "llm":
            try:
                result = llm.run(query, hits, on_token)
            except LLMError as exc:
                notice = f"{exc}; showing quotes from the passages instead of a generated answer"
                result = replace(loaded.answerer.run(query, hits), fell_back=True)
        else:
            result = loaded.answerer.run(query, hits)
        done = time.perf_counter()
        timings = {
            "retrieve": round((retrieved - started) * 1000, 2),
            "answer": round((done - retrieved) * 1000, 2),
            "total": round((done - started) * 1000, 2),
        }
        notices = [n for n in (notice or result.notice, read_as(query.slips)) if n]
        return replace(result, question=text, timings_ms=timings, notice="; ".join(notices) or None,
                       standalone_question=standalone if standalone != text else None)


def read_as(slips: tuple[tuple[str, str], ...]) -> str | None:
    """The notice naming the words of a question read as other words (``Query.slips``),
    so that a user whose word was no slip (a name typed in lower case) sees it and can retype it."""
    if not slips:
        return None
    return "Read " + ", ".join(f"“{typed}” as “{meant}”" for typed, meant in slips)
