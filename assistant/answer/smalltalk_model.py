"""Is the input talk with the assistant rather than a question about the articles?

A logistic regression over the question's vector from the query encoder, trained on public
data by ``benchmarks/train_smalltalk.py`` (chatterbot-corpus dialogue turns against public
reading-comprehension questions) and stored as JSON beside this module. Its thresholds, one
per question language, were chosen there so that almost no public question (≤ 0.5% out of
fold), few questions about a subject in a user's words and no answerable dev question is
taken for small talk.

The weights belong to the encoder they were trained with: with another encoder the vector
space differs and the check is off (the pattern checks of ``refusal.py`` still apply).
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
    encoder: str
    weights: np.ndarray
    bias: float
    thresholds: dict[str, float]  # per question language

    def probability(self, vector: np.ndarray) -> float:
        """P(small talk) for one unit-length query vector of ``encoder``."""
        return float(1.0 / (1.0 + np.exp(-(float(np.dot(self.weights, vector)) + self.bias))))

    def is_small_talk(self, vector: np.ndarray, lang: str) -> bool:
        """Whether a question in ``lang`` ("zh" or "en") with this vector is small talk."""
        threshold = self.thresholds.get(lang)
        return threshold is not None and self.probability(vector) >= threshold


@cache
def load_smalltalk_model(path: Path = MODEL_PATH) -> SmallTalkModel | None:
    """The stored model, or None when the package ships none (the check is then off)."""
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    return SmallTalkModel(str(data["encoder"]), np.asarray(data["weights"], dtype=np.float32),
                          float(data["bias"]), {str(k): float(v) for k, v in data["threshold"].items()})


def smalltalk_model_for(encoder: str) -> SmallTalkModel | None:
    """The model if it was trained for ``encoder``'s vectors, else None."""
    model = load_smalltalk_model()
    return model if model is not None and model.encoder == encoder and model.weights.size else None
