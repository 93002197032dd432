"""The reader: the cross-encoder that reorders the selector's shortlist (assistant/answer/reader.py)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from assistant.answer import AnswerSettings
from assistant.answer.reader import (
    LANGUAGE_MODEL_PATHS, MODEL_PATH, SentenceReader, combine, load_reader, packaged_reader_paths, pair_ids,
    preload_reader, reader_path, rendered_question)
from assistant.config import Settings
from assistant.embed.e5_numpy import load_weights, default_weights_path
from assistant.query import parse_query
from assistant.text import match_form

# Written for these tests: one sentence states the asked fact, the others share its words.
RAIN = ["兰州是甘肃省省会，黄河穿城而过。", "兰州年平均降水量约为327毫米，多集中在夏季。", "兰州的降水研究由兰州大学承担。"]


@pytest.fixture(scope="module")
def reader() -> SentenceReader:
    loaded = load_reader()
    assert loaded is not None, f"the package ships {MODEL_PATH.name}"
    return loaded


def test_the_packaged_reader_loads_without_pickle_and_says_how_it_was_trained(reader):
    with np.load(MODEL_PATH, allow_pickle=False) as data:
        assert "meta" in data.files and "head.w" in data.files
    assert reader.shortlist >= 2 and reader.weight >= 0
    assert reader.meta["base"] == default_weights_path().name
    assert reader.meta["training"]["table"]  # the out-of-fold figures it was chosen by


@pytest.mark.parametrize("question", ["兰州的年平均降水量是多少？", "How much rain does Lanzhou get in a year?"])
def test_the_reader_ranks_the_stating_sentence_above_ones_that_share_its_words(reader, question):
    scores = reader.scores(match_form(question), [match_form(s) for s in RAIN])
    assert int(np.argmax(scores)) == 1


def test_a_pairs_score_is_the_same_whatever_it_is_asked_with_and_when():
    """Pairs run one at a time (on several cores at once) and are remembered: the score of a
    sentence does not depend on the other sentences of the call, and a remembered score (or one
    scored again after the memory dropped it) is the one first computed."""
    fresh = SentenceReader.load(MODEL_PATH)
    question = match_form("兰州的年平均降水量是多少？")
    sentences = [match_form(s) for s in RAIN]
    together = fresh.scores(question, sentences + sentences[:1], memory=2)
    assert together[0] == together[3]
    alone = np.array([fresh.scores(question, [s])[0] for s in sentences])
    np.testing.assert_array_equal(together[:3], alone)
    for memory in (0, 2, 100):
        np.testing.assert_array_equal(fresh.scores(question, sentences, memory), together[:3])
    assert fresh.scores(question, [], memory=2).shape == (0,)


def test_a_pair_is_cut_to_its_limits_and_keeps_the_question_first(reader):
    weights = reader.weights
    (ids,) = pair_ids(weights, "问题" * 200, ["句子" * 500], reader.limits)
    assert len(ids) <= reader.limits.total_tokens
    tok = weights.tokenizer
    assert ids[0] == tok.bos and ids[-1] == tok.eos
    question_part = ids[1: ids.index(tok.eos)]
    assert len(question_part) == reader.limits.question_tokens
    assert ids[len(question_part) + 1: len(question_part) + 3] == [tok.eos, tok.eos]


def test_rerank_only_reassigns_the_shortlists_probabilities(reader):
    sentences = [match_form(s) for s in RAIN] + ["兰州牛肉面闻名全国。"] * 6
    p = np.array([0.6, 0.3, 0.2, 0.1, 0.05, 0.04, 0.03, 0.02, 0.01])
    out = reader.rerank(match_form("兰州的年平均降水量是多少？"), sentences, p)
    top = np.argsort(-p)[: reader.shortlist]
    rest = np.setdiff1d(np.arange(len(p)), top)
    assert sorted(out[top]) == sorted(p[top])  # the same values, rank by rank
    assert np.array_equal(out[rest], p[rest])  # outside the shortlist nothing moves
    assert out.max() == p.max()  # so refusal, which reads the best probability, is unchanged
    expected = top[np.argsort(-combine(p[top], reader.scores(match_form("兰州的年平均降水量是多少？"),
                                                             [sentences[i] for i in top]), reader.weight),
                              kind="stable")]
    assert np.array_equal(np.argsort(-out, kind="stable")[: reader.shortlist], expected)


def test_a_longer_shortlist_lets_a_sentence_ranked_below_the_trained_one_lead(reader):
    # The stating sentence ranked last of eight by the selector, three lookalikes above it.
    question = match_form("兰州的年平均降水量是多少？")
    sentences = [match_form(RAIN[0]), match_form(RAIN[2])] + ["兰州牛肉面闻名全国。"] * 5 + [match_form(RAIN[1])]
    p = np.array([0.30, 0.29, 0.28, 0.27, 0.26, 0.25, 0.24, 0.23])
    assert int(np.argmax(reader.rerank(question, sentences, p))) != 7  # out of the trained shortlist
    longer = reader.rerank(question, sentences, p, shortlist=8)
    assert int(np.argmax(longer)) == 7 and sorted(longer) == sorted(p)


def test_combine_is_the_selector_order_at_weight_zero():
    p = np.array([0.9, 0.5, 0.2])
    assert np.array_equal(np.argsort(-combine(p, np.array([-5.0, 0.0, 5.0]), 0.0)), [0, 1, 2])
    assert np.array_equal(np.argsort(-combine(p, np.array([-5.0, 0.0, 5.0]), 1000.0)), [2, 1, 0])


def test_the_reader_is_a_setting_and_leaves_refusal_alone(tiny_assistant, monkeypatch):
    monkeypatch.setenv("ASSISTANT_READER", "false")
    assert AnswerSettings.from_config(Settings()).reader is False
    answerer = tiny_assistant.answerer
    off = answerer.with_settings(replace(answerer.settings, reader=False))
    assert off.reader is None and answerer.reader is not None
    query = parse_query("兰州市科技局局长是谁？")
    hits = tiny_assistant.retriever().run(query, k=10)
    with_reader, without = answerer.select(query, hits), off.select(query, hits)
    assert with_reader.best_probability == without.best_probability
    assert sorted(s.probability for s in with_reader.scored) == sorted(s.probability for s in without.scored)


def test_the_numpy_reader_computes_what_the_training_model_computes(tmp_path, monkeypatch):
    """The format contract between benchmarks/train_reader.py (PyTorch) and reader.py (numpy):
    a reader trained a few steps and exported scores the same pairs the same way."""
    pytest.importorskip("torch")
    import benchmarks.train_reader as train_reader

    monkeypatch.setattr(train_reader, "LAYERS", 2)
    monkeypatch.setattr(train_reader, "QUESTIONS_PER_STEP", 2)
    weights = load_weights(str(default_weights_path()))
    groups = [
        {"set": "made-up", "question": match_form("兰州的年平均降水量是多少？"), "sentences": [match_form(s) for s in RAIN],
         "labels": [0, 1, 0], "p": [0.5, 0.3, 0.2], "shortlist": 3},
        {"set": "made-up", "question": match_form("Which river runs through Lanzhou?"),
         "sentences": [match_form(s) for s in RAIN], "labels": [1, 0, 0], "p": [0.4, 0.4, 0.2], "shortlist": 3},
    ]
    tokens = train_reader._tokenized(weights, groups)
    model = train_reader.train(weights, groups, tokens, "test")
    # training moved the adapters away from their zero start
    assert any(float(layer.adapters["qkv_w_b"].detach().abs().max()) > 0 for layer in model.layers)
    path = tmp_path / "reader.npz"
    train_reader.export(model, {"table": ["made-up"]}, 0.5, path)
    exported = SentenceReader.load(path)
    assert len(exported.weights.layers) == 2
    assert not exported.reads_renderings  # the shared reader reads questions as asked
    # Exported by the English questions' training (--rendered), it says it reads renderings.
    monkeypatch.setattr(train_reader, "RENDERED", True)
    train_reader.export(model, {"table": ["made-up"]}, 0.5, tmp_path / "reader_en.npz")
    english = SentenceReader.load(tmp_path / "reader_en.npz")
    assert english.reads_renderings and not english.reads_collection_renderings
    # ... and, trained with the collection's renderings on, that it reads those too.
    monkeypatch.setattr(train_reader, "QUESTION_RENDERINGS", "collection")
    train_reader.export(model, {"table": ["made-up"]}, 0.5, tmp_path / "reader_en_collection.npz")
    assert SentenceReader.load(tmp_path / "reader_en_collection.npz").reads_collection_renderings
    expected = train_reader.score(model, weights, tokens, [0, 1])
    for i, group in enumerate(groups):
        got = exported.scores(group["question"], group["sentences"])
        np.testing.assert_allclose(got, expected[i], atol=2e-3)


def _with_head_scaled(source: Path, target: Path, factor: float) -> None:
    """A copy of the reader at ``source`` whose scores are ``factor`` times its own."""
    with np.load(source, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    arrays["head.w"] = arrays["head.w"] * np.float32(factor)
    arrays["head.b"] = arrays["head.b"] * np.float32(factor)
    np.savez_compressed(target, **arrays)


def _halves_and_a_doubled_reader(tmp_path: Path, monkeypatch) -> Path:
    """The half models are the packaged reader; the "shipped" one (returned) is it with every
    score doubled."""
    import benchmarks.train_reader as train_reader

    monkeypatch.setattr(train_reader, "HALF_MODEL", str(tmp_path / "half{}.npz"))
    for half in range(train_reader.HALVES):
        _with_head_scaled(MODEL_PATH, tmp_path / f"half{half}.npz", 1.0)
    shipped = tmp_path / "reader.npz"
    _with_head_scaled(MODEL_PATH, shipped, 2.0)
    return shipped


def test_a_reader_whose_scores_spread_twice_as_wide_ships_with_half_the_weight(tmp_path, monkeypatch):
    import benchmarks.train_reader as train_reader

    shipped = _halves_and_a_doubled_reader(tmp_path, monkeypatch)
    meta = SentenceReader.load(shipped).meta
    chosen = meta["training"].get("chosen_weight", meta["weight"])  # the weight chosen out of fold
    names = [f"made-up/article {i}" for i in range(8)]
    assert {train_reader.half_of(n) for n in names} == set(range(train_reader.HALVES))
    groups = [{"group": n, "question": match_form(q), "sentences": [match_form(s) for s in RAIN]}
              for n in names for q in ("兰州的年平均降水量是多少？", "Which river runs through Lanzhou?")]
    scale = train_reader.rescale(groups, shipped)
    rescaled = SentenceReader.load(shipped)
    assert rescaled.weight == pytest.approx(chosen / 2, rel=1e-3) and scale["weight"] == rescaled.weight
    # Only the weight changes: the scores are the doubled reader's, and a second run changes nothing.
    doubled = 2 * SentenceReader.load(MODEL_PATH).scores(match_form("兰州的年平均降水量是多少？"), RAIN)
    np.testing.assert_allclose(rescaled.scores(match_form("兰州的年平均降水量是多少？"), RAIN), doubled, rtol=1e-4)
    train_reader.rescale(groups, shipped)
    assert SentenceReader.load(shipped).weight == rescaled.weight

def test_a_language_with_its_own_weight_is_reranked_with_it(tmp_path, monkeypatch):
    import benchmarks.train_reader as train_reader

    # Rescaled for English only: the shared weight stays, English gets the halves' choice at the
    # doubled reader's scale.
    shipped = _halves_and_a_doubled_reader(tmp_path, monkeypatch)
    before = SentenceReader.load(shipped)
    groups = [{"group": f"made-up/article {i}", "question": match_form("兰州的年平均降水量是多少？"),
               "sentences": [match_form(s) for s in RAIN]} for i in range(8)]
    scale = train_reader.rescale(groups, shipped, chosen=1000.0, language="en")
    reader = SentenceReader.load(shipped)
    assert reader.weight == before.weight and reader.weight_by_language == {"en": scale["weight"]}
    assert scale["weight"] == pytest.approx(500.0, rel=1e-3)
    # At a weight of 500 the reader alone orders English questions' shortlists; Chinese ones keep
    # the shared weight, and a language without its own weight reads the shared one.
    question = match_form("兰州的年平均降水量是多少？")
    sentences = [match_form(s) for s in RAIN]
    p = np.linspace(0.5, 0.3, len(sentences))
    by_reader = np.argsort(-reader.scores(question, sentences), kind="stable")
    assert np.array_equal(np.argsort(-reader.rerank(question, sentences, p, shortlist=len(p), lang="en"),
                                     kind="stable"), by_reader)
    shared = reader.rerank(question, sentences, p, shortlist=len(p), lang="zh")
    assert np.array_equal(shared, reader.rerank(question, sentences, p, shortlist=len(p)))
    expected = np.argsort(-combine(p, reader.scores(question, sentences), reader.weight), kind="stable")
    assert np.array_equal(np.argsort(-shared, kind="stable"), expected)


def test_a_preload_still_running_and_the_first_answer_share_one_load(tmp_path, monkeypatch):
    path = tmp_path / "reader.npz"  # a path of its own, so no earlier test has cached it
    path.write_bytes(MODEL_PATH.read_bytes())
    loads = []
    real_load = SentenceReader.load.__func__

    def counted_load(cls, *args, **kwargs):
        loads.append(args)
        return real_load(cls, *args, **kwargs)

    monkeypatch.setattr(SentenceReader, "load", classmethod(counted_load))
    thread = preload_reader(path)
    first = load_reader(path)  # asked at once, while the preload is loading: waits for it
    thread.join(timeout=120)
    assert not thread.is_alive()
    assert load_reader(path) is first and first is not None
    assert len(loads) == 1


def test_the_reader_runs_only_for_questions_the_threshold_lets_through(tiny_assistant, monkeypatch):
    answerer = tiny_assistant.answerer
    reader = answerer.reader
    calls = []
    real_scores = reader.scores
    monkeypatch.setattr(reader, "scores", lambda *a: calls.append(a) or real_scores(*a))
    query = parse_query("遂宁市技术合同认定登记额是多少？")
    hits = tiny_assistant.retriever().run(query, k=10)
    refused = answerer.with_settings(replace(answerer.settings, threshold=1.0)).run(query, hits)
    assert refused.refused and calls == []
    answered = answerer.with_settings(replace(answerer.settings, threshold=0.0)).run(query, hits)
    assert not answered.refused and len(calls) == 1


def test_the_readers_memory_is_a_setting(monkeypatch):
    assert AnswerSettings().reader_memory > 0
    monkeypatch.setenv("ASSISTANT_READER_MEMORY", "0")
    assert AnswerSettings.from_config(Settings()).reader_memory == 0


def test_an_english_question_is_read_with_its_first_renderings_only_by_a_reader_trained_so(tmp_path, reader):
    english = parse_query("How much rain does Lanzhou get in a year?")
    assert english.expansion_groups  # the dictionary renders some of its words
    rendered = rendered_question(english.match, english.expansion_groups, english.lang)
    firsts = [forms[0] for _, forms in english.expansion_groups if forms]
    assert rendered == f"{english.match} ({' '.join(firsts)})"
    chinese = parse_query("兰州的年平均降水量是多少？")
    assert rendered_question(chinese.match, chinese.expansion_groups, chinese.lang) == chinese.match
    # A reader file says whether it was trained on renderings, and the reader reads as it was trained.
    with np.load(MODEL_PATH, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    for flag in (False, True):
        meta = {**reader.meta, "question_renderings": flag}
        path = tmp_path / f"reader-{flag}.npz"
        np.savez(path, **{**arrays, "meta": np.array(json.dumps(meta))})
        again = SentenceReader.load(path)
        read = again.question_text(english.match, english.expansion_groups, english.lang)
        assert read == (rendered if flag else english.match)


def test_the_collections_renderings_are_read_only_by_a_reader_trained_with_them(tmp_path, reader, tiny_assistant):
    from assistant.collection_renderings import with_collection_renderings

    # "universities": the dictionary gives 大学 first; the tiny corpus writes 高校.
    english = with_collection_renderings(parse_query("Which universities work with Inner Mongolia's consortia?"),
                                         tiny_assistant.index, 0.6, 1)
    assert english.collection_renderings
    firsts = rendered_question(english.match, english.expansion_groups, english.lang)
    both = rendered_question(english.match, english.expansion_groups, english.lang, english.collection_renderings)
    first_words = [forms[0] for _, forms in english.expansion_groups if forms]
    added = [w for _, words in english.collection_renderings for w in words if w not in first_words]
    assert "高校" in added and both == f"{firsts[:-1]} {' '.join(added)})"  # after the first renderings
    # The first renderings are read as the shipped reader was trained to, repeats and all ...
    repeated = parse_query("Which of the three cities has three labs?")
    firsts_repeated = [forms[0] for _, forms in repeated.expansion_groups if forms]
    assert len(set(firsts_repeated)) < len(firsts_repeated)
    assert rendered_question(repeated.match, repeated.expansion_groups, repeated.lang,
                             english.collection_renderings).startswith(f"{repeated.match} ({' '.join(firsts_repeated)}")
    # ... and a collection word they already hold is not read again.
    again = ((english.collection_renderings[0][0], (first_words[0], "高校")),)
    assert rendered_question(english.match, english.expansion_groups, english.lang, again) == f"{firsts[:-1]} 高校)"
    chinese = parse_query("内蒙古有哪些高校参与创新联合体？")
    assert rendered_question(chinese.match, chinese.expansion_groups, chinese.lang,
                             english.collection_renderings) == chinese.match
    with np.load(MODEL_PATH, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    for flag, expected in ((False, english.match), (True, firsts), ("collection", both)):
        path = tmp_path / f"reader-{flag}.npz"
        np.savez(path, **{**arrays, "meta": np.array(json.dumps({**reader.meta, "question_renderings": flag}))})
        read = SentenceReader.load(path).question_text(english.match, english.expansion_groups, english.lang,
                                                       english.collection_renderings)
        assert read == expected


def test_english_questions_are_reordered_by_the_english_reader_chinese_ones_by_the_shared_one(tiny_assistant,
                                                                                             monkeypatch):
    english_path = LANGUAGE_MODEL_PATHS["en"]
    assert english_path.is_file(), f"the package ships {english_path.name}"
    assert reader_path("en") == english_path and reader_path("zh") == MODEL_PATH
    assert reader_path("en", own_language_readers=False) == MODEL_PATH
    assert packaged_reader_paths() == [MODEL_PATH, english_path]
    assert packaged_reader_paths(own_language_readers=False) == [MODEL_PATH]

    answerer = tiny_assistant.answerer
    shared, english = answerer.reader_for("zh"), answerer.reader_for("en")
    assert shared is answerer.reader and english is load_reader(english_path) and english is not shared
    assert english.reads_renderings and not shared.reads_renderings
    off = answerer.with_settings(replace(answerer.settings, language_readers=False))
    assert off.reader_for("en") is shared
    # A reader handed to the answerer (a tuning script's half model) reads every language unless
    # a language's own is handed too.
    def handed(**readers):
        return type(answerer)(answerer.index, answerer.embedder, answerer.prompts_dir, answerer.settings, **readers)

    assert handed(reader=shared).reader_for("en") is shared
    with_own = handed(reader=shared, language_readers={"en": english})
    assert with_own.reader_for("en") is english and with_own.reader_for("zh") is shared
    assert with_own.with_settings(off.settings).reader_for("en") is shared

    # What the English reader reads is the question with its renderings.
    asked = answerer.resolved(parse_query("What was the registered value of Suining's technology contracts?"))
    hits = tiny_assistant.retriever().run(asked, k=10)
    selection = answerer.select(asked, hits, rerank=False)
    assert len(selection.scored) >= 2
    read_as = []
    real_scores = english.scores
    monkeypatch.setattr(english, "scores", lambda question, *a: read_as.append(question) or real_scores(question, *a))
    answerer.reranked(asked, selection)
    rendered = rendered_question(asked.match, asked.expansion_groups, asked.lang)
    assert rendered != asked.match and read_as == [rendered]


def test_the_english_readers_training_writes_its_own_files_and_marks_its_reader(monkeypatch):
    """``train_reader.py --rendered`` trains the English questions' reader: its shortlists, half
    models, report and shipped file are its own (the shared reader's stay), and configuring back
    gives the shared reader's again (what it exports is tested with the format contract above)."""
    import benchmarks.train_reader as train_reader

    for name in ("CACHE", "GROUPS", "HALF_MODEL", "REPORT", "SHIPPED", "LIMITS", "RENDERED"):
        monkeypatch.setattr(train_reader, name, getattr(train_reader, name))  # restored after the test
    def paths():
        return (train_reader.GROUPS, train_reader.HALF_MODEL, train_reader.REPORT, train_reader.SHIPPED)

    train_reader.configure(False)
    shared = paths()
    assert shared[-1] == MODEL_PATH and not train_reader.RENDERED
    train_reader.configure(True)
    assert not set(paths()) & set(shared)
    assert train_reader.SHIPPED == LANGUAGE_MODEL_PATHS["en"]
    assert train_reader.HALF_MODEL == train_reader.LANGUAGE_HALF_MODELS["en"]  # what the tuning scripts load
    assert train_reader.RENDERED and train_reader.LIMITS.question_tokens > 40  # room for the renderings
    train_reader.configure(False)
    assert paths() == shared and not train_reader.RENDERED


def test_a_reader_trained_with_a_no_answer_option_folds_it_into_its_head(tmp_path, monkeypatch, capsys):
    """``train(..., no_answer=True)`` (benchmarks/train_answerability.py): a shortlist without a
    gold sentence is trained on too (its mass goes to the learned "no answer" logit), and the
    exported model scores each sentence against that logit, as the PyTorch model does."""
    pytest.importorskip("torch")
    import benchmarks.train_reader as train_reader

    monkeypatch.setattr(train_reader, "LAYERS", 2)
    monkeypatch.setattr(train_reader, "QUESTIONS_PER_STEP", 1)
    weights = load_weights(str(default_weights_path()))
    sentences = [match_form(s) for s in RAIN]
    groups = [
        {"set": "made-up", "question": match_form("兰州的年平均降水量是多少？"), "sentences": sentences, "labels": [0, 1, 0]},
        {"set": "made-up", "question": match_form("兰州大学的校长是谁？"), "sentences": sentences, "labels": [0, 0, 0]},
    ]
    tokens = train_reader._tokenized(weights, groups)
    train_reader.train(weights, groups, tokens, "plain")
    assert "[plain] epoch 1 step 1/1 " in capsys.readouterr().err  # only the answerable shortlist
    model = train_reader.train(weights, groups, tokens, "test", no_answer=True)
    log = capsys.readouterr().err
    assert "[test] epoch 1 step 2/2 " in log and "[test] no-answer logit " in log
    assert float(log.split("no-answer logit ")[1].split()[0]) != 0.0  # the logit was trained
    train_reader.export(model, {}, 0.0, tmp_path / "answerability.npz")
    exported = SentenceReader.load(tmp_path / "answerability.npz")
    expected = train_reader.score(model, weights, tokens, [0, 1])
    for i, group in enumerate(groups):
        np.testing.assert_allclose(exported.scores(group["question"], group["sentences"]), expected[i], atol=2e-3)
