"""The learned sentence selector: P(this sentence holds the answer) from the features.

The model is one gradient-boosted tree ensemble for both question languages (a feature says
which; English questions learn from the larger Chinese data too), trained on public
reading-comprehension data by ``benchmarks/train_selector.py`` and shipped as JSON next to
this module (``selector.json``: feature names, the trees, the refusal threshold calibrated
on the dev split, and where every number came from). A language may have trees of its own
(``trees_by_language``, e.g. English trees fitted on the features the cross-lingual encoder
gives English questions: ``train_selector.py fit --language en``); its questions are scored
by those, every other question by ``trees``. No pickle: loading it is reading
numbers, and evaluating it is a few numpy gathers per tree level.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from assistant.answer.features import FEATURES

MODEL_PATH = Path(__file__).with_name("selector.json")
# The feature that is 1 for a language's questions (languages that may have trees of their own).
_LANGUAGE_FEATURE = {"en": "english"}
LANGUAGES_WITH_OWN_TREES = tuple(_LANGUAGE_FEATURE)


class SelectorError(ValueError):
    """The model file is missing or does not fit this version's features."""


class TreeEnsemble:
    """Binary-classification trees in flat arrays: node ``i`` of tree ``t`` splits on
    ``feature[t, i] <= threshold[t, i]`` (left) or goes right; leaves hold ``value``."""

    def __init__(self, spec: dict) -> None:
        trees = spec["trees"]
        width = max(len(t["feature"]) for t in trees)

        def padded(key: str, dtype, fill) -> np.ndarray:
            out = np.full((len(trees), width), fill, dtype=dtype)
            for i, tree in enumerate(trees):
                out[i, : len(tree[key])] = tree[key]
            return out

        self.feature = padded("feature", np.int64, 0)
        self.threshold = padded("threshold", np.float64, 0.0)
        self.left = padded("left", np.int64, 0)
        self.right = padded("right", np.int64, 0)
        self.leaf = padded("leaf", bool, True)
        self.value = padded("value", np.float64, 0.0)
        self.baseline = float(spec["baseline"])
        self.depth = int(spec["max_depth"])

    def raw(self, X: np.ndarray) -> np.ndarray:
        """Summed leaf values (log-odds) for each row of ``X``."""
        n_trees = self.feature.shape[0]
        tree_ids = np.arange(n_trees)[:, None]
        node = np.zeros((n_trees, len(X)), dtype=np.int64)
        rows = np.arange(len(X))[None, :]
        for _ in range(self.depth):
            feature = self.feature[tree_ids, node]
            go_left = X[rows, feature] <= self.threshold[tree_ids, node]
            child = np.where(go_left, self.left[tree_ids, node], self.right[tree_ids, node])
            node = np.where(self.leaf[tree_ids, node], node, child)
        return self.baseline + self.value[tree_ids, node].sum(axis=0)


class SentenceSelector:
    """Calibrated probabilities for candidate sentences."""

    def __init__(self, model: dict) -> None:
        if tuple(model.get("features", ())) != FEATURES:
            raise SelectorError(
                "the sentence-selector model was trained on other features than this version computes; "
                "retrain it with `python benchmarks/train_selector.py collect && python benchmarks/train_selector.py fit`"
            )
        self.model = model
        self._trees = TreeEnsemble(model["trees"])
        unknown = set(model.get("trees_by_language", {})) - set(_LANGUAGE_FEATURE)
        if unknown:
            raise SelectorError(f"the sentence-selector model has trees for {', '.join(sorted(unknown))}, "
                                f"a language no feature names (known: {', '.join(_LANGUAGE_FEATURE)})")
        self._language_trees = {lang: (FEATURES.index(_LANGUAGE_FEATURE[lang]), TreeEnsemble(spec))
                                for lang, spec in model.get("trees_by_language", {}).items()}

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> "SentenceSelector":
        return _load(Path(path))

    def threshold(self, lang: str) -> float | None:
        """The refusal threshold calibrated for this model on the dev split, if any."""
        value = self.model.get("refusal", {}).get("threshold", {}).get(lang)
        return None if value is None else float(value)

    def support_threshold(self, lang: str) -> float | None:
        """The bar at which a passage supports a generated sentence (``benchmarks/tune_support.py``), if any."""
        value = self.model.get("support", {}).get("threshold", {}).get(lang)
        return None if value is None else float(value)

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        if len(features) == 0:
            return np.zeros(0)
        X = np.asarray(features, dtype=np.float64)
        raw = np.empty(len(X))
        shared = np.ones(len(X), dtype=bool)  # rows no language's own trees score
        for column, trees in self._language_trees.values():
            rows = X[:, column] > 0.5
            if rows.any():
                raw[rows] = trees.raw(X[rows])
                shared &= ~rows
        if shared.any():
            raw[shared] = self._trees.raw(X[shared])
        # exp overflows to inf below a logit of about -709, which gives the right limit, 0
        with np.errstate(over="ignore"):
            return 1.0 / (1.0 + np.exp(-raw))


@lru_cache(maxsize=4)
def _load(path: Path) -> SentenceSelector:
    try:
        model = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SelectorError(f"sentence-selector model {path} is missing; restore it from the repository") from None
    except (OSError, ValueError) as exc:
        raise SelectorError(f"sentence-selector model {path} is unreadable ({type(exc).__name__}); "
                            "restore it from the repository") from None
    try:
        return SentenceSelector(model)
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        if isinstance(exc, SelectorError):
            raise
        raise SelectorError(f"sentence-selector model {path} is damaged ({type(exc).__name__}); "
                            "restore it from the repository") from None
