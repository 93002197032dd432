"""The question loader on a deliberately broken sample, and the shipped question set itself."""

from collections import Counter
from pathlib import Path

import pytest

from assistant.evaluation.metrics import evidence_covered
from assistant.evaluation.questions import KINDS, load_questions

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = Path(__file__).parent / "data" / "eval_sample.jsonl"
QUESTION_SET = ROOT / "eval" / "corpus_zh_en.jsonl"
CORPUS = ROOT / "corpus"

# --- loader ----------------------------------------------------------------------------------


def test_loader_reports_bad_lines_by_number_and_keeps_the_good_ones():
    report = load_questions(SAMPLE)
    assert [q.id for q in report.questions] == ["zh-001", "en-001", "en-002"]
    assert [p.split(":")[0] for p in report.problems] == ["line 3", "line 4", "line 6", "line 7", "line 9"]
    bad_json, missing, wrong_type, duplicate, too_little_evidence = report.problems
    assert "not valid JSON" in bad_json
    assert "missing 'question'" in missing
    assert "'evidence' must be a list" in wrong_type
    assert "duplicate id 'zh-001'" in duplicate and "line 1" in duplicate
    assert "give one per document" in too_little_evidence
    assert report.summary() == "3 questions loaded, 5 lines skipped"


def test_loader_fills_fields_and_detects_language():
    by_id = {q.id: q for q in load_questions(SAMPLE).questions}
    single, unanswerable, multi = by_id["zh-001"], by_id["en-001"], by_id["en-002"]
    assert single.docs == ("004_111ded2fd1d310bd",) and single.answerable
    assert single.answer == "17.73亿元" and single.kind == "number"
    assert unanswerable.docs == () and unanswerable.evidence == () and not unanswerable.answerable
    assert unanswerable.lang == "en" and multi.lang == "en"  # no "lang" field: detected
    assert multi.docs == ("000_dbc8066ea398bbda", "001_2c62cb16d225f48b") and multi.answer is None


def test_loader_fails_clearly_on_unreadable_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="question file not found"):
        load_questions(tmp_path / "missing.jsonl")
    latin1 = tmp_path / "latin1.jsonl"
    latin1.write_bytes('{"id": "x", "question": "café"}\n'.encode("latin-1"))
    with pytest.raises(ValueError, match="not UTF-8"):
        load_questions(latin1)


# --- the shipped question set ------------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped():
    return load_questions(QUESTION_SET)


@pytest.fixture(scope="module")
def raw_texts():
    return {path.stem: path.read_text(encoding="utf-8") for path in sorted(CORPUS.glob("*.txt"))}


def test_question_set_loads_cleanly_and_is_big_enough(shipped):
    assert shipped.problems == []
    assert len(shipped.questions) >= 60


def test_question_set_is_half_chinese_half_english(shipped):
    langs = Counter(q.lang for q in shipped.questions)
    assert set(langs) == {"zh", "en"}
    assert abs(langs["zh"] - langs["en"]) <= 0.1 * len(shipped.questions)
    assert all(q.id.startswith(f"{q.lang}-") for q in shipped.questions)


def test_question_set_covers_every_article_and_kind(shipped, raw_texts):
    per_doc = Counter(doc for q in shipped.questions for doc in q.docs)
    assert set(per_doc) == set(raw_texts)
    assert min(per_doc.values()) >= 8
    kinds = Counter(q.kind for q in shipped.questions)
    assert set(kinds) == set(KINDS)
    assert kinds["unanswerable"] >= 6
    assert sum(len(q.docs) > 1 for q in shipped.questions) >= 4
    assert all(q.answer for q in shipped.questions if q.answerable)


def test_evidence_is_short_and_verbatim_in_the_raw_file(shipped, raw_texts):
    for q in shipped.questions:
        for snippet in q.evidence:
            assert 10 <= len(snippet) <= 60, (q.id, snippet)
            assert any(snippet in raw_texts[doc] for doc in q.docs), (q.id, snippet)


def test_evidence_is_verbatim_in_the_cleaned_article_text(shipped):
    ingest = pytest.importorskip("assistant.ingest", reason="assistant.ingest not written yet")
    texts = {path.stem: ingest.load_article(path).text for path in sorted(CORPUS.glob("*.txt"))}
    for q in shipped.questions:
        for snippet in q.evidence:
            assert any(snippet in texts[doc] for doc in q.docs), (q.id, snippet)


def test_evidence_does_not_match_other_articles(shipped, raw_texts):
    # Otherwise retrieving the wrong article could count as an evidence hit.
    for q in shipped.questions:
        for snippet in q.evidence:
            wrongly_covered = [d for d in raw_texts if d not in q.docs and evidence_covered(snippet, raw_texts[d])]
            assert not wrongly_covered, (q.id, snippet, wrongly_covered)


def test_questions_paraphrase_rather_than_copy_the_article(shipped, raw_texts):
    # evidence_covered(question, article) would be true if 60% of the question were one
    # verbatim run of the article.
    for q in shipped.questions:
        for doc in q.docs:
            assert not evidence_covered(q.question, raw_texts[doc]), (q.id, q.question)
