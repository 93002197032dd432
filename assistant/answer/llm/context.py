"""The passages a model is shown: best first, numbered, within a token budget, fenced as data."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from assistant.prompts import load_prompt
from assistant.index import Index
from assistant.tokens import count_tokens
from assistant.types import Hit

# A passage must not be able to close its own fence or open a new one. Every ASCII angle
# bracket of article text becomes a full-width one: then no spelling of a tag (case, spaces,
# a line break or a zero-width character inside it, another tag name the model might honour)
# can form one, and the text still reads the same.
_ANGLES = str.maketrans({"<": "＜", ">": "＞"})


@dataclass(frozen=True)
class Passage:
    """Passage ``n`` as the model sees it (numbered from 1)."""

    n: int
    hit: Hit
    rendered: str
    tokens: int


def fence_safe(text: str) -> str:
    return text.translate(_ANGLES)


def _attribute(value: str | None) -> str:
    return fence_safe(value or "").replace('"', "'").replace("\n", " ")


def pack_passages(hits: list[Hit], index: Index, prompts_dir: Path, budget: int) -> list[Passage]:
    """The hits, best first, as numbered passages until ``budget`` tokens are used.

    A passage that does not fit is left out whole (a cut passage could cut off the fact
    asked about), but smaller ones after it still go in; the best passage always goes in.
    The same text twice (a reprinted article) is shown once.
    """
    template = load_prompt(prompts_dir, "llm_passage.txt")
    passages: list[Passage] = []
    used, seen = 0, set()
    for hit in hits:
        chunk = hit.chunk
        if chunk.text in seen or index.chunk_row(chunk.chunk_id) is None:
            continue
        article = index.article(chunk.doc_id)
        rendered = template.format(n=len(passages) + 1, title=_attribute(article.title), source=_attribute(article.source),
                                   date=_attribute(article.date), text=fence_safe(chunk.text))
        tokens = count_tokens(rendered)
        if passages and used + tokens > budget:
            continue
        seen.add(chunk.text)
        passages.append(Passage(len(passages) + 1, hit, rendered, tokens))
        used += tokens
    return passages
