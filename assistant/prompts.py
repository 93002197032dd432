"""Templates live as files in ``prompts/``; this loads them (once per process and folder)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=64)
def load_prompt(folder: Path, name: str) -> str:
    path = Path(folder) / name
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise FileNotFoundError(f"prompt template {path} is missing; restore it from the repository") from None
