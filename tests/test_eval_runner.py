"""Tests for the evaluation runner, report and suite: a small question set over the tiny corpus.

``evaluate_file`` runs the real pipeline (``Assistant.ask``) per retriever and writes
results.jsonl, metrics.json, report.md and hit_at_k.png; ``assistant eval`` wraps it.
"""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.cli import app
from assistant.evaluation.questions import EvalQuestion, QuestionFileError
from assistant.evaluation.report import breakdown
from assistant.evaluation.runner import Judgement, QuestionResult, judge
from assistant.evaluation.suite import evaluate_file
from assistant.retrieve import MODES
from assistant.types import Answer, Chunk, Citation, Hit

# Evidence strings are copied verbatim from tests/conftest.py's TINY_ARTICLES.
QUESTION_LINES = [
    {"id": "zh-1", "question": "遂宁市技术合同认定登记额是多少？", "lang": "zh", "doc": "a_suining",
     "evidence": ["全市技术合同认定登记额达17.73亿元、同比增长33.21%"], "answer": "17.73亿元", "kind": "number"},
    {"id": "en-1", "question": "How many innovation consortia has Inner Mongolia set up?", "lang": "en",
     "doc": "b_mongolia", "evidence": ["内蒙古共组建并备案各类创新联合体24个"], "answer": "24个", "kind": "number"},
    {"id": "zh-2", "question": "甘肃省依托哪些龙头企业组建创新联合体？", "lang": "zh", "doc": "c_gansu",
     "evidence": ["依托金川集团、酒钢集团等龙头企业"], "answer": "金川集团、酒钢集团", "kind": "list"},
    {"id": "bad-1", "question": "这一行缺少 doc 字段", "evidence": []},  # line 4: malformed
    {"id": "zh-3", "question": "广东省的创新联合体如何备案？", "lang": "zh", "doc": None, "evidence": [],
     "kind": "unanswerable"},
]
VALID_IDS = ["zh-1", "en-1", "zh-2", "zh-3"]
from tests.test_cli import TOP_KEYS as ASK_JSON_KEYS  # noqa: E402 - the one list of the contract's keys
RECORD_KEYS = ASK_JSON_KEYS | {"id", "lang", "kind", "gold_docs", "evidence", "reference_answer", "judgement"}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def overall_rows(report: str) -> list[str]:
    """The table rows of the report's "Overall" section."""
    section = report.split("## Overall", 1)[1].split("\n## ", 1)[0]
    return [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| run |")]


@pytest.fixture(scope="module")
def question_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("questions") / "tiny_set.jsonl"
    path.write_text("".join(json.dumps(q, ensure_ascii=False) + "\n" for q in QUESTION_LINES), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def hybrid_run(tiny_assistant, question_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("eval_hybrid")
    return evaluate_file(tiny_assistant, question_file, out, ["hybrid"])


@pytest.fixture(scope="module")
def compare_run(tiny_assistant, question_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("eval_compare")
    return evaluate_file(tiny_assistant, question_file, out, list(MODES))


# ---------------------------------------------------------------------------------------
# evaluate_file, one retriever
# ---------------------------------------------------------------------------------------


def test_the_malformed_line_is_skipped_and_reported_by_line_number(hybrid_run):
    assert (hybrid_run.loaded, hybrid_run.skipped) == (4, 1)
    assert len(hybrid_run.problems) == 1 and hybrid_run.problems[0].startswith("line 4: missing 'doc'")


def test_results_hold_one_ask_json_record_per_valid_question(hybrid_run):
    records = read_jsonl(hybrid_run.out_dir / "results.jsonl")
    assert [r["id"] for r in records] == VALID_IDS
    judgement_keys = {f.name for f in fields(Judgement)}
    for record, line in zip(records, [q for q in QUESTION_LINES if q["id"] in VALID_IDS]):
        assert set(record) == RECORD_KEYS
        assert set(record["judgement"]) == judgement_keys
        assert record["question"] == line["question"]
        assert record["evidence"] == line["evidence"]
        assert len(record["hits"]) == 3  # every chunk of the tiny index


def test_results_judge_each_answer(hybrid_run):
    records = {r["id"]: r for r in read_jsonl(hybrid_run.out_dir / "results.jsonl")}
    suining = records["zh-1"]
    assert not suining["refused"] and "17.73" in suining["answer"]
    assert suining["judgement"]["first_rank"] == 1
    assert suining["judgement"]["hits"]["1"] is True
    assert suining["judgement"]["citation_recall"] == 1.0 and suining["judgement"]["citation_precision"] == 1.0
    assert suining["judgement"]["answer_f1"] > 0
    guangdong = records["zh-3"]
    assert guangdong["refused"] and guangdong["citations"] == []
    assert guangdong["judgement"]["refused"] is True and guangdong["judgement"]["first_rank"] is None


def test_metrics_break_down_overall_by_language_and_by_kind(hybrid_run):
    metrics = json.loads((hybrid_run.out_dir / "metrics.json").read_text(encoding="utf-8"))
    run = metrics["runs"]["hybrid"]
    assert set(metrics["runs"]) == {"hybrid"}
    overall = run["overall"]
    assert (overall["questions"], overall["answerable"], overall["unanswerable"]) == (4, 3, 1)
    assert overall["evidence_hit"]["1"] == 1.0 and overall["mrr@10"] == 1.0
    assert overall["refusal_accuracy"] == 1.0 and overall["false_refusal_rate"] == 0.0
    assert {lang: m["questions"] for lang, m in run["by_lang"].items()} == {"zh": 3, "en": 1}
    assert {kind: m["questions"] for kind, m in run["by_kind"].items()} == {"number": 2, "list": 1, "unanswerable": 1}
    assert metrics["context"]["questions"] == "4 loaded, 1 skipped"


def test_the_report_names_encoder_index_and_retriever(tiny_assistant, hybrid_run):
    report = (hybrid_run.out_dir / "report.md").read_text(encoding="utf-8")
    assert tiny_assistant.index.manifest.encoder in report
    assert str(tiny_assistant.settings.index_dir) in report
    rows = overall_rows(report)
    assert len(rows) == 1 and rows[0].startswith("| hybrid | 4 |")
    assert "## By language: en" in report and "## By kind: unanswerable" in report


def test_the_hit_curve_is_a_png(hybrid_run):
    data = (hybrid_run.out_dir / "hit_at_k.png").read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 5_000


def test_a_file_without_valid_questions_is_refused(tiny_assistant, tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "x"}\nnot json\n', encoding="utf-8")
    with pytest.raises(QuestionFileError, match="no valid questions.*2 lines skipped.*line 1: missing 'question'"):
        evaluate_file(tiny_assistant, path, tmp_path / "out", ["hybrid"])
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------------------------------
# evaluate_file, all three retrievers
# ---------------------------------------------------------------------------------------


def test_compare_puts_the_three_retrievers_side_by_side(compare_run):
    report = (compare_run.out_dir / "report.md").read_text(encoding="utf-8")
    rows = overall_rows(report)
    assert [row.split("|")[1].strip() for row in rows] == list(MODES)
    metrics = json.loads((compare_run.out_dir / "metrics.json").read_text(encoding="utf-8"))
    assert set(metrics["runs"]) == set(MODES)
    for mode in MODES:
        assert [r["id"] for r in read_jsonl(compare_run.out_dir / mode / "results.jsonl")] == VALID_IDS
    assert (compare_run.out_dir / "hit_at_k.png").read_bytes().startswith(PNG_MAGIC)


# ---------------------------------------------------------------------------------------
# judge and the refusal metrics, on hand-made answers
# ---------------------------------------------------------------------------------------


def make_chunk(doc_id: str, text: str, ordinal: int = 0) -> Chunk:
    return Chunk(chunk_id=f"{doc_id}-{ordinal}", doc_id=doc_id, text=text, start=0, end=len(text), ordinal=ordinal)


def make_answer(question: str, refused: bool, chunks: list[Chunk] = (), cited: list[Chunk] = ()) -> Answer:
    hits = [Hit(chunk=c, score=1.0 / r, rank=r) for r, c in enumerate(chunks, start=1)]
    citations = [Citation(n=n, doc_id=c.doc_id, title="", source=None, date=None, url=None, chunk_id=c.chunk_id,
                          text=c.text, quote=c.text, quote_start=0, quote_end=len(c.text))
                 for n, c in enumerate(cited, start=1)]
    return Answer(question=question, text="…", refused=refused, citations=citations, hits=hits)


UNANSWERABLE = EvalQuestion("u1", "广东省的创新联合体如何备案？", "zh", docs=(), evidence=(), kind="unanswerable")
ANSWERABLE = EvalQuestion("a1", "遂宁市技术合同认定登记额是多少？", "zh", docs=("a_suining",),
                          evidence=("全市技术合同认定登记额达17.73亿元",), answer="17.73亿元", kind="number")


@pytest.mark.parametrize("refused", [True, False])
def test_an_unanswerable_question_is_judged_by_its_refusal_alone(refused):
    judgement = judge(UNANSWERABLE, make_answer(UNANSWERABLE.question, refused))
    assert judgement == Judgement(refused=refused)
    overall = breakdown([QuestionResult(UNANSWERABLE, make_answer(UNANSWERABLE.question, refused), judgement)])["overall"]
    assert overall["refusal_accuracy"] == (1.0 if refused else 0.0)
    assert overall["false_refusal_rate"] is None and "evidence_hit" not in overall


def test_an_answerable_question_is_judged_on_ranks_citations_and_answer():
    other = make_chunk("c_gansu", "甘肃省启动组建第一批企业创新联合体5家。")
    gold = make_chunk("a_suining", "全市技术合同认定登记额达17.73亿元、同比增长33.21%。")
    answer = make_answer(ANSWERABLE.question, False, chunks=[other, gold], cited=[gold, other])
    judgement = judge(ANSWERABLE, answer)
    assert judgement.first_rank == 2
    assert judgement.hits[1] is False and judgement.hits[2] is True and judgement.hits[10] is True
    assert judgement.doc_recall == {1: 0.0, 3: 1.0, 5: 1.0, 10: 1.0}
    assert judgement.citation_recall == 1.0 and judgement.citation_precision == 0.5
    result = QuestionResult(ANSWERABLE, answer, judgement)
    overall = breakdown([result])["overall"]
    assert overall["mrr@10"] == 0.5 and overall["evidence_hit"]["1"] == 0.0 and overall["evidence_hit"]["3"] == 1.0


def test_the_reference_answer_is_looked_for_in_the_first_quote_when_the_evidence_writes_it():
    other = make_chunk("c_gansu", "甘肃省启动组建第一批企业创新联合体5家。")
    gold = make_chunk("a_suining", "全市技术合同认定登记额达17.73亿元、同比增长33.21%。")
    first = judge(ANSWERABLE, make_answer(ANSWERABLE.question, False, chunks=[gold], cited=[gold, other]))
    later = judge(ANSWERABLE, make_answer(ANSWERABLE.question, False, chunks=[gold], cited=[other, gold]))
    assert (first.reference_in_first_quote, first.reference_in_quotes) == (True, True)
    assert (later.reference_in_first_quote, later.reference_in_quotes) == (False, True)
    paraphrased = EvalQuestion("a2", ANSWERABLE.question, "zh", docs=ANSWERABLE.docs, evidence=ANSWERABLE.evidence,
                               answer="about 1.8 billion yuan", kind="number")
    unquotable = judge(paraphrased, make_answer(paraphrased.question, False, chunks=[gold], cited=[gold]))
    assert unquotable.reference_in_first_quote is None and unquotable.reference_in_quotes is None
    results = [QuestionResult(ANSWERABLE, make_answer(ANSWERABLE.question, False), first),
               QuestionResult(ANSWERABLE, make_answer(ANSWERABLE.question, False), later),
               QuestionResult(paraphrased, make_answer(paraphrased.question, False), unquotable)]
    overall = breakdown(results)["overall"]
    # Over the two questions whose reference the evidence writes; the paraphrase is not counted.
    assert (overall["reference_questions"], overall["reference_in_first_quote"], overall["reference_in_quotes"]) == \
        (2, 0.5, 1.0)


def test_only_an_answer_the_model_failed_to_give_counts_as_a_fallback():
    from dataclasses import replace

    answer = make_answer(ANSWERABLE.question, False)
    judgement = judge(ANSWERABLE, answer)
    read_as = replace(answer, notice="Read “acutally” as “actually”")  # a notice, but the answer is the mode's own
    fell_back = replace(answer, notice="the model is down; showing quotes from the passages instead", fell_back=True)
    overall = breakdown([QuestionResult(ANSWERABLE, a, judgement) for a in (answer, read_as, fell_back)])["overall"]
    assert overall["fallbacks"] == 1


def test_a_refused_answerable_question_is_a_false_refusal_with_no_answer_credit():
    gold = make_chunk("a_suining", "全市技术合同认定登记额达17.73亿元、同比增长33.21%。")
    answer = make_answer(ANSWERABLE.question, True, chunks=[gold])
    judgement = judge(ANSWERABLE, answer)
    assert judgement.refused and judgement.first_rank == 1 and judgement.answer_f1 == 0.0
    overall = breakdown([QuestionResult(ANSWERABLE, answer, judgement)])["overall"]
    assert overall["false_refusal_rate"] == 1.0 and overall["refusal_accuracy"] is None


# ---------------------------------------------------------------------------------------
# assistant eval
# ---------------------------------------------------------------------------------------


def test_the_eval_command_writes_the_run_and_reports_the_skipped_line(tiny_settings, tiny_assistant,
                                                                     question_file, tmp_path):
    out = tmp_path / "cli_out"
    result = CliRunner().invoke(app, ["eval", str(question_file), "--out", str(out),
                                      "--index", str(tiny_settings.index_dir)])
    assert result.exit_code == 0, result.output
    assert "4 questions evaluated, 1 lines skipped" in result.stdout
    assert "skipped line 4: missing 'doc'" in result.stderr
    assert "hybrid" in result.stdout and "Traceback" not in result.output
    for name in ("results.jsonl", "metrics.json", "report.md", "hit_at_k.png"):
        assert (out / name).is_file(), name
    assert len(read_jsonl(out / "results.jsonl")) == 4


def test_the_eval_command_refuses_an_unknown_retriever(question_file, tmp_path):
    result = CliRunner().invoke(app, ["eval", str(question_file), "--retriever", "bm25", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: unknown retriever 'bm25'")
    assert not (tmp_path / "o").exists()
