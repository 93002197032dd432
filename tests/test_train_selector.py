"""The training script's pure parts: unanswerable variants, cross-fitting folds, and the model export."""

from __future__ import annotations

import json

import numpy as np
import pytest

from assistant.answer.selector import TreeEnsemble
from assistant.answer.features import FEATURES
from benchmarks.train_selector import (
    MONOTONE, _fit, dev_fold, export, merged_model, shift_years, side_models_unmatched, trees_fingerprint,
    write_side_model)


def test_a_year_is_moved_to_one_the_passage_never_mentions():
    assert shift_years("In 1785 James Hutton presented what paper?", "In 1785 ... in 1786 ...") == \
        "In 1784 James Hutton presented what paper?"
    assert shift_years("2014年，吕志兴有哪些活动？", "2013年与2014年") == "2015年，吕志兴有哪些活动？"
    assert shift_years("没有年份的问题", "2014年") is None


def test_dev_questions_cross_fit_by_article_and_unanswerable_ones_by_their_hash():
    articles = ["000_a", "001_b", "002_c"]
    assert dev_fold("001_b", articles) == 1
    assert dev_fold("unanswerable-2", articles) == 2


def test_the_exported_trees_predict_what_scikit_learn_predicts():
    sklearn = pytest.importorskip("sklearn.ensemble", reason="scikit-learn is a dev extra")
    rng = np.random.default_rng(0)
    X = rng.random((400, 4))
    y = ((X[:, 0] > 0.5) ^ (X[:, 2] > 0.7)).astype(int)
    model = sklearn.HistGradientBoostingClassifier(max_iter=30, max_leaf_nodes=7, random_state=0).fit(X, y)
    trees = TreeEnsemble(export(model))
    ours = 1.0 / (1.0 + np.exp(-trees.raw(X)))
    assert np.allclose(ours, model.predict_proba(X)[:, 1], atol=1e-9)


@pytest.mark.parametrize("monotone", [True, False])
def test_a_monotone_fit_never_lowers_the_probability_as_coverage_rises(monotone):
    pytest.importorskip("sklearn.ensemble", reason="scikit-learn is a dev extra")
    rng = np.random.default_rng(0)
    X = rng.random((3000, len(FEATURES))).astype(np.float32)
    lex = FEATURES.index("lex")
    assert MONOTONE["lex"] == 1
    # Labels that fall off at high coverage (as noise in the training data can make them).
    y = ((X[:, lex] > 0.3) & (X[:, lex] < 0.6)).astype(int)
    rows = {"X": X, "y": y, "set": np.array(["public"] * len(y))}
    model = _fit(rows, np.ones(len(y), dtype=bool), (40, 7, 0.1), monotone=monotone)
    probe = np.repeat(X[:1], 11, axis=0)
    probe[:, lex] = np.linspace(0.0, 1.0, 11)
    p = TreeEnsemble(export(model)).raw(probe)
    assert bool(np.all(np.diff(p) >= -1e-12)) == monotone


def test_a_refit_keeps_the_other_trees_and_a_language_fit_replaces_only_its_own():
    shipped = {"features": list(FEATURES), "trees": "shared-1", "training": {"rows": 1},
               "refusal": {"threshold": {"zh": 0.01, "en": 0.03}},
               "trees_by_language": {"en": "english-1"}, "training_by_language": {"en": {"rows": 2}}}
    english = merged_model(shipped, {"features": ["f"], "trees": "english-2", "training": {"rows": 3}}, "en")
    assert english["trees"] == "shared-1" and english["refusal"] == shipped["refusal"]
    assert english["trees_by_language"] == {"en": "english-2"} and english["training_by_language"]["en"] == {"rows": 3}
    assert shipped["trees_by_language"] == {"en": "english-1"}  # the file as read is not changed
    shared = merged_model(shipped, {"features": ["f"], "trees": "shared-2", "training": {"rows": 4}}, None)
    assert shared["trees"] == "shared-2" and shared["trees_by_language"] == {"en": "english-1"}
    # A new shared model needs its thresholds chosen anew; English, scored by its kept trees, keeps its own.
    assert shared["refusal"] == {"threshold": {"en": 0.03}}
    without_own = merged_model({k: v for k, v in shipped.items() if k != "trees_by_language"},
                               {"features": ["f"], "trees": "shared-3", "training": {}}, None)
    assert "refusal" not in without_own
    with pytest.raises(SystemExit, match="shared trees"):
        merged_model({}, {"trees": "t", "training": {}}, "en")


def test_a_language_fit_on_appended_features_keeps_the_shared_trees_that_read_the_columns_before_them(tmp_path):
    # Features are only appended: shared trees fitted on the first ones read the same columns.
    older = {"features": list(FEATURES[:-3]), "trees": "shared-1", "training": {}}
    english = merged_model(older, {"features": list(FEATURES), "trees": "english-2", "training": {}}, "en")
    assert english["features"] == list(FEATURES) and english["trees"] == "shared-1"
    assert older["features"] == list(FEATURES[:-3])  # the file as read is not changed
    path = tmp_path / "1.json"
    path.write_text(json.dumps({**older, "fitted_with": "x"}), encoding="utf-8")
    write_side_model(path, {"trees": ["english-2"]}, "en", "y")
    assert json.loads(path.read_text(encoding="utf-8"))["features"] == list(FEATURES)
    # Trees fitted on another list (a column removed or moved) would read the wrong columns.
    for other in (list(FEATURES[1:]), ["f"]):
        with pytest.raises(SystemExit, match="other features"):
            merged_model({**older, "features": other}, {"trees": "english-3", "training": {}}, "en")
        path.write_text(json.dumps({**older, "features": other}), encoding="utf-8")
        with pytest.raises(SystemExit, match="other features"):
            write_side_model(path, {"trees": ["english-3"]}, "en", "z")


def test_side_models_take_a_language_fit_beside_the_shared_trees_and_say_which_fit_they_belong_to(tmp_path):
    path = tmp_path / "1.json"
    shared, english = {"trees": ["shared-1"]}, {"trees": ["english-1"]}
    with pytest.raises(SystemExit, match="shared trees"):  # a language's trees need shared ones beside them
        write_side_model(path, english, "en", trees_fingerprint(english))
    write_side_model(path, shared, None, trees_fingerprint(shared), fold=1)
    write_side_model(path, english, "en", trees_fingerprint(english))
    shipped = {"trees": shared, "trees_by_language": {"en": english}}
    side = json.loads(path.read_text(encoding="utf-8"))
    assert side["trees"] == shared and side["trees_by_language"] == {"en": english} and side["fold"] == 1
    assert side_models_unmatched(shipped, {"1": side}) == []
    # A later shared fit keeps the English trees; the shipped English trees refitted elsewhere
    # no longer match the side model's, and a side model without them is named too.
    write_side_model(path, {"trees": ["shared-2"]}, None, trees_fingerprint({"trees": ["shared-2"]}), fold=1)
    side = json.loads(path.read_text(encoding="utf-8"))
    assert side["trees_by_language"] == {"en": english}
    refitted = {"trees": {"trees": ["shared-2"]}, "trees_by_language": {"en": {"trees": ["english-2"]}}}
    assert side_models_unmatched(refitted, {"1": side}) == ["1: en trees not fitted with the shipped ones"]
    assert side_models_unmatched(shipped, {"2": {"trees": shared, "fitted_with": trees_fingerprint(shared)}}) == [
        "2: no en trees (its en questions are scored by its shared trees)"]
