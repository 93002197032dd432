"""The tuning script's budget: false refusals are judged per public set, against the issue's targets."""

from __future__ import annotations

import numpy as np

from benchmarks.tune_answers import (
    MAX_FALSE_REFUSALS_DEV, MAX_FALSE_REFUSALS_PUBLIC, MIN_SET_QUESTIONS, Case, RefusalRate, article_bootstrap_upper,
    judged_sets, public_false_refusals, thresholds_to_write, within_budget)
from benchmarks.train_selector import trees_fingerprint


def _case(source: str, n: int) -> Case:
    return Case(text=f"q{n}", lang="zh", query=n, hits=[], selection=None, answerer=None, answerable=True, source=source,
                article=f"{source}/{n // 10}")  # ten questions per article


def test_each_public_set_is_judged_on_its_own_and_a_set_too_small_is_not():
    big = [_case("cmrc", i) for i in range(MIN_SET_QUESTIONS)]
    translated = [_case("xquad", i) for i in range(MIN_SET_QUESTIONS)]
    tiny = [_case("trial", i) for i in range(3)]
    assert judged_sets(big + translated + tiny) == ["cmrc", "xquad"]

    # Refuse 1% of one set and 5% of the other: pooled that is 3%, but the target holds per set.
    def refused(c: Case) -> bool:
        return c.query < (MIN_SET_QUESTIONS // 100 if c.source == "cmrc" else 5 * MIN_SET_QUESTIONS // 100)
    rates = public_false_refusals(big + translated + tiny, refused)
    assert set(rates) == {"cmrc", "xquad"}
    assert rates["cmrc"].rate == 0.01 and rates["xquad"].rate == 0.05
    assert rates["cmrc"].upper >= rates["cmrc"].rate
    assert not within_budget(0.0, rates)
    at_target = RefusalRate(MAX_FALSE_REFUSALS_PUBLIC, MAX_FALSE_REFUSALS_PUBLIC)
    assert within_budget(MAX_FALSE_REFUSALS_DEV, {"cmrc": RefusalRate(0.01, 0.01), "xquad": at_target})
    assert not within_budget(MAX_FALSE_REFUSALS_DEV + 0.01, {"cmrc": RefusalRate(0.0, 0.0)})


def test_a_public_set_is_judged_by_the_upper_end_of_its_article_bootstrap():
    # 2% refused either way, over 50 articles of 20 questions each.
    articles = np.repeat(np.arange(50), 20)
    spread = np.zeros(1000, dtype=bool)
    spread[::50] = True  # one refusal in every other article
    clustered = np.zeros(1000, dtype=bool)
    clustered[:20] = True  # every refusal in one article
    spread_upper = article_bootstrap_upper(spread, articles)
    clustered_upper = article_bootstrap_upper(clustered, articles)
    # Refusals that cluster in a few articles say less about unseen articles.
    assert 0.02 < spread_upper < clustered_upper
    assert clustered_upper > MAX_FALSE_REFUSALS_PUBLIC > spread_upper
    # The same input gives the same bound: a tuning run must not change its choice by chance.
    assert article_bootstrap_upper(clustered, articles) == clustered_upper
    # A point estimate under the target is not enough when its upper end is over it.
    assert not within_budget(0.0, {"xquad": RefusalRate(0.02, clustered_upper)})


def test_write_keeps_the_threshold_of_a_language_scored_by_trees_the_out_of_fold_models_lack():
    shipped = {"trees": {}, "trees_by_language": {"en": {}},
               "refusal": {"threshold": {"zh": 0.01, "en": 0.03}, "chosen_on": "en: under its own trees"}}
    chosen = {"zh": 0.02, "en": 0.02}
    # The out-of-fold models have shared trees only: English was priced on other trees.
    written, kept = thresholds_to_write(shipped, chosen, [{"trees": {}}, {"trees": {}}])
    assert written == {"zh": 0.02, "en": 0.03} and kept == ["en"]
    # Out-of-fold English trees of another fit (a refit not shipped) price English on other trees too.
    other = {"trees": {}, "trees_by_language": {"en": {"trees": [1]}},
             "fitted_with_by_language": {"en": trees_fingerprint({"trees": [1]})}}
    assert thresholds_to_write(shipped, chosen, [other] * 2) == ({"zh": 0.02, "en": 0.03}, ["en"])
    # When every out-of-fold model carries English trees fitted with the shipped ones, the English choice is written.
    fitted_with = {"trees": {}, "trees_by_language": {"en": {"trees": [2]}},
                   "fitted_with_by_language": {"en": trees_fingerprint({})}}
    written, kept = thresholds_to_write(shipped, chosen, [fitted_with] * 2)
    assert written == chosen and kept == []
    # A selector with no trees of its own for any language: everything chosen is written.
    written, kept = thresholds_to_write({"trees": {}, "refusal": {"threshold": {"zh": 0.01}}}, chosen, [{"trees": {}}])
    assert written == chosen and kept == []


def test_english_questions_are_priced_with_the_english_readers_halves_once_both_are_trained(tmp_path, monkeypatch):
    """The tuning scripts reorder English questions with the half models of the English questions'
    own reader (the product reads them with ``reader_en.npz``), and refuse a half saved before the
    other was trained (its combination weight is not chosen yet)."""
    import json

    import pytest

    import benchmarks.train_reader as train_reader
    from assistant.answer.reader import LANGUAGE_MODEL_PATHS
    from benchmarks.tune_answers import language_half_readers

    with np.load(LANGUAGE_MODEL_PATHS["en"], allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    meta = json.loads(str(arrays["meta"]))
    assert "table" in meta["training"]
    monkeypatch.setattr(train_reader, "LANGUAGE_HALF_MODELS", {"en": str(tmp_path / "half{}.npz")})
    for half in range(train_reader.HALVES):
        np.savez(tmp_path / f"half{half}.npz", **arrays)
    readers = language_half_readers()
    assert sorted(readers) == list(range(train_reader.HALVES))
    assert all(set(r) == {"en"} and r["en"].reads_renderings for r in readers.values())

    untrained = {**meta, "training": {k: v for k, v in meta["training"].items() if k != "table"}}
    np.savez(tmp_path / "half1.npz", **{**arrays, "meta": np.array(json.dumps(untrained))})
    with pytest.raises(SystemExit, match="no weight yet"):
        language_half_readers()
    (tmp_path / "half1.npz").unlink()
    with pytest.raises(SystemExit, match="no half readers"):
        language_half_readers()


def test_half_readers_of_another_training_than_the_shipped_readers_are_reported(tmp_path, monkeypatch):
    """The choosers' reports name the half readers that were not trained in the run that trained
    the shipped reader they stand in for (their out-of-fold table differs from the one the shipped
    reader's weight was chosen on): a screen in another checkout can leave such halves behind."""
    import json

    import benchmarks.train_reader as train_reader
    import benchmarks.tune_answers as tune_answers
    from assistant.answer.reader import LANGUAGE_MODEL_PATHS, MODEL_PATH

    def copy(source, target, table=None):
        with np.load(source, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
        meta = json.loads(str(arrays["meta"]))
        if table is not None:
            meta["training"]["table"] = table
        np.savez(target, **{**arrays, "meta": np.array(json.dumps(meta))})

    monkeypatch.setattr(train_reader, "HALF_MODEL", str(tmp_path / "shared{}.npz"))
    monkeypatch.setattr(train_reader, "LANGUAGE_HALF_MODELS", {"en": str(tmp_path / "en{}.npz")})
    for half in range(train_reader.HALVES):
        copy(MODEL_PATH, tmp_path / f"shared{half}.npz")  # the shipped reader's own table: its run
        copy(LANGUAGE_MODEL_PATHS["en"], tmp_path / f"en{half}.npz")
    assert tune_answers.half_readers_unmatched() == []
    assert "Half readers: all trained in the runs" in "\n".join(tune_answers.side_model_lines())
    copy(MODEL_PATH, tmp_path / "shared1.npz", table=["| weight | another run |"])
    found = tune_answers.half_readers_unmatched()
    assert len(found) == 1 and "shared1.npz" in found[0] and "reader.npz" in found[0]
    assert any("shared1.npz" in line for line in tune_answers.side_model_lines())
