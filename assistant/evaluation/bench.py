"""Passage-retrieval benchmark on public data (CMRC 2018 dev, XQuAD-zh) with the product's own pipeline.

Each benchmark passage becomes one article; it is chunked, embedded and indexed exactly like the
default corpus, and a question's passage ranking is the order in which its chunks' articles first
appear in the retriever's ranking. Nothing here knows the questions when the index is built.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Sequence

from assistant.answer import AnswerSettings, ExtractiveAnswerer
from assistant.config import PROJECT_ROOT, Settings
from assistant.embed import load_embedder
from assistant.evaluation import metrics
from assistant.indexer import corpus_fingerprint, cross_lingual_name, index_articles
from assistant.query import parse_query
from assistant.retrieve import Retriever
from assistant.index.store import DamagedIndexError, open_index, read_manifest
from assistant.types import Article, Hit

KS = (1, 5, 10)
SHARED_BENCH = PROJECT_ROOT.parent / "shared" / "bench"


# Part of a benchmark a question belongs to. The answer stage learns from the "train" part of
# CMRC 2018 dev and XQuAD (and all of cmrc2018_trial); figures are reported on "test" only.
# The split is by article, so no test passage's article was seen in training.
PARTS = ("test", "train", "all")
TRAIN_ONLY = {"cmrc2018_trial"}


def default_part(benchmark: str) -> str:
    """"test" for a set the answer stage trained on part of, "all" for any other set."""
    from assistant.answer.selector import SentenceSelector

    trained_on = SentenceSelector.load().model.get("training", {}).get("sets", {})
    return "test" if benchmark in trained_on and benchmark not in TRAIN_ONLY else "all"


def article_part(benchmark: str, title: str) -> str:
    """"train" or "test" for a passage, decided by its article title (stable across runs)."""
    if benchmark in TRAIN_ONLY:
        return "train"
    return "test" if int(hashlib.sha1(title.encode("utf-8")).hexdigest()[:8], 16) % 2 == 0 else "train"


@dataclass(frozen=True)
class BenchQuestion:
    id: str
    text: str
    lang: str
    passage_id: str
    answers: tuple[str, ...] = ()


def resolve_bench(name_or_dir: str) -> Path:
    path = Path(name_or_dir)
    for candidate in (path, SHARED_BENCH / name_or_dir):
        if (candidate / "passages.jsonl").is_file() and (candidate / "questions.jsonl").is_file():
            return candidate
    raise FileNotFoundError(
        f"no benchmark '{name_or_dir}': pass a folder holding passages.jsonl and questions.jsonl "
        f"(or a name under {SHARED_BENCH})"
    )


def _read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


SCRIPTS = ("simplified", "traditional")


def to_script(text: str, script: str) -> str:
    """The text in the benchmark's script, or converted to Traditional (OpenCC s2t)."""
    if script == "simplified":
        return text
    if script != "traditional":
        raise ValueError(f"unknown script {script!r}; choose one of {', '.join(SCRIPTS)}")
    return _s2t().convert(text)


@lru_cache(maxsize=1)
def _s2t():
    import opencc

    return opencc.OpenCC("s2t")


def load_passages(folder: Path, script: str = "simplified") -> list[Article]:
    return [Article(doc_id=str(p["id"]), title=to_script(p.get("title", ""), script),
                    text=to_script(p["text"].strip(), script), path=str(folder))
            for p in _read_jsonl(folder / "passages.jsonl")]


def load_bench_questions(folder: Path, part: str = "all", script: str = "simplified") -> list[BenchQuestion]:
    """Chinese questions, plus the English originals where the set has them (XQuAD).

    ``part`` keeps the questions whose passage's article is in that part ("train"/"test",
    see :func:`article_part`), or all of them. Answers are the Chinese gold spans (compared
    script-insensitively). ``script="traditional"`` converts the Chinese questions.
    """
    if part not in PARTS:
        raise ValueError(f"unknown part {part!r}; choose one of {', '.join(PARTS)}")
    titles = {str(p["id"]): p.get("title", "") for p in _read_jsonl(folder / "passages.jsonl")}
    out = []
    for q in _read_jsonl(folder / "questions.jsonl"):
        passage = str(q["passage_id"])
        if part != "all" and article_part(folder.name, titles.get(passage, "")) != part:
            continue
        if not str(q.get("question") or "").strip():
            continue  # a blank question (cmrc2018_trial has one) asks nothing
        answers = tuple(q.get("answers") or ())
        out.append(BenchQuestion(str(q["id"]), to_script(q["question"], script), "zh", passage, answers))
        if q.get("question_en"):
            out.append(BenchQuestion(str(q["id"]), q["question_en"], "en", passage, answers))
    return out


def ensure_bench_index(folder: Path, index_dir: Path, settings: Settings,
                       progress: Callable[[str, int, int], None] | None = None, script: str = "simplified",
                       reuse_from: Sequence[Path] = ()) -> None:
    """Build the benchmark's own index unless one for the same passages, script and settings exists.

    ``reuse_from``: other benchmark indexes whose vectors may be reused (a Traditional copy
    embeds the same Simplified text as the original).
    """
    passages_file = folder / "passages.jsonl"
    digest = hashlib.sha256(passages_file.read_bytes()).hexdigest() + ("" if script == "simplified" else f":{script}")
    fingerprint = corpus_fingerprint({"passages": digest}, settings)
    try:
        manifest = read_manifest(index_dir)
    except DamagedIndexError:
        manifest = None  # an older format or a broken build: rebuilt below, reusing its vectors
    encoder = load_embedder(settings.encoder, threads=settings.encoder_threads).name
    if (manifest and manifest.corpus_fingerprint == fingerprint and manifest.encoder == encoder
            and manifest.extra.get("cross_lingual_encoder") == cross_lingual_name(settings)):
        return
    index_articles(load_passages(folder, script), index_dir, settings, {"passages": digest}, fingerprint,
                   [str(passages_file.resolve())], progress, reuse_from=reuse_from)


def passage_ranking(hits: Sequence[Hit]) -> list[str]:
    """Passage ids in the order their best chunk appears."""
    return list(dict.fromkeys(hit.chunk.doc_id for hit in hits))


def score_rankings(rankings: Sequence[tuple[str, list[str]]]) -> dict:
    """R@k and MRR@10 from (gold passage id, ranked passage ids) pairs."""
    n = len(rankings)
    out = {f"R@{k}": round(sum(gold in ranked[:k] for gold, ranked in rankings) / n, 4) for k in KS}
    ranks = [ranked.index(gold) + 1 if gold in ranked else None for gold, ranked in rankings]
    out["MRR@10"] = round(metrics.mrr_at_k(ranks, k=10), 4)
    out["questions"] = n
    return out


def run_bench(folder: Path, settings: Settings, modes: Sequence[str], limit: int | None = None,
              progress: Callable[[str, int, int], None] | None = None, part: str = "test",
              script: str = "simplified", reuse_from: Sequence[Path] = ()) -> dict:
    """Passage retrieval and answer figures for each retriever mode and question language."""
    questions = load_bench_questions(folder, part, script)
    if not questions:
        raise ValueError(f"{folder.name} has no questions in part '{part}'"
                         + (" (it is training data only: use --part all)" if folder.name in TRAIN_ONLY else ""))
    if limit:  # the first N question ids, in every language the set has them
        keep = set(list(dict.fromkeys(q.id for q in questions))[:limit])
        questions = [q for q in questions if q.id in keep]
    ensure_bench_index(folder, settings.index_dir, settings, progress, script, reuse_from)
    index = open_index(settings)
    embedder = load_embedder(settings.encoder, threads=settings.encoder_threads)
    answerer = ExtractiveAnswerer(index, embedder, settings.prompts_dir, AnswerSettings.from_config(settings))
    results: dict = {}
    rows: list[dict] = []
    for mode in modes:
        retriever = Retriever.from_config(index, embedder, mode, settings)
        for lang in sorted({q.lang for q in questions}, reverse=True):
            subset = [q for q in questions if q.lang == lang]
            rankings, latencies, quotes = [], [], []
            for i, q in enumerate(subset, start=1):
                t = time.perf_counter()
                query = parse_query(q.text)
                hits = retriever.run(query, k=50)
                answer = answerer.run(query, hits[:10])
                latencies.append((time.perf_counter() - t) * 1000)
                rankings.append((q.passage_id, passage_ranking(hits)))
                quotes.append((q.answers, answer.refused, answer.quotes()))
                rows.append(question_row(q, mode, rankings[-1][1], answer.refused, quotes[-1][2], latencies[-1]))
                if progress:
                    progress(f"{mode}/{lang}", i, len(subset))
            row = score_rankings(rankings)
            row.update(metrics.quote_scores(quotes)._asdict())
            row["latency_ms_p50"] = round(metrics.percentile(latencies, 50), 2)
            row["latency_ms_p95"] = round(metrics.percentile(latencies, 95), 2)
            results.setdefault(mode, {})[lang] = row
    return {
        "benchmark": folder.name,
        "part": part,
        "script": script,
        "passages": len(index.article_ids()),
        "chunks": index.chunk_count,
        "encoder": index.manifest.encoder,
        "chunker": index.manifest.chunker,
        "results": results,
        "rows": rows,
    }


def question_row(question: BenchQuestion, mode: str, ranking: Sequence[str], refused: bool,
                 quotes: Sequence[str], latency_ms: float) -> dict:
    """One line of results.jsonl: what a question got, to find the questions behind a figure."""
    in_first, in_any = metrics.quotes_hold_answer(question.answers, refused, quotes)
    return {
        "id": question.id,
        "lang": question.lang,
        "retriever": mode,
        "question": question.text,
        "answers": list(question.answers),
        "passage_id": question.passage_id,
        "gold_rank": ranking.index(question.passage_id) + 1 if question.passage_id in ranking else None,
        "top_passages": list(ranking[:5]),
        "refused": refused,
        "quotes": list(quotes),
        "answer_in_first_quote": in_first,
        "answer_in_any_quote": in_any,
        "latency_ms": round(latency_ms, 1),
    }


def write_bench_report(report: dict, out_dir: Path, command: str) -> str:
    """metrics.json (the figures), report.md (returned too) and results.jsonl (a row per question
    and retriever) in ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    figures = {k: v for k, v in report.items() if k != "rows"}
    (out_dir / "metrics.json").write_text(json.dumps(figures, ensure_ascii=False, indent=2), encoding="utf-8")
    with (out_dir / "results.jsonl").open("w", encoding="utf-8") as f:
        for row in report["rows"]:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    markdown = bench_markdown(report, command)
    (out_dir / "report.md").write_text(markdown, encoding="utf-8")
    return markdown


def bench_markdown(report: dict, command: str) -> str:
    lines = [f"# Retrieval and answers: {report['benchmark']} ({report['part']} part, {report['script']} script)", "",
             f"- command: `{command}`",
             f"- passages: {report['passages']} ({report['chunks']} chunks), encoder `{report['encoder']}`, "
             f"chunker {report['chunker']['max_tokens']} tokens / overlap {report['chunker']['overlap_tokens']}",
             "- every passage of the set is indexed; a passage's rank is the rank of its best chunk",
             "- questions: those whose passage's article is in the named part (the answer stage was trained on "
             "the other part; see eval/README.md)",
             "- answer columns: gold answer inside the first quote / inside any quote, answerable questions "
             "refused, mean characters of the first quote and of all quotes of an answer",
             "- each question's ranking, quotes and judgements: results.jsonl beside this report", "",
             "| retriever | questions | R@1 | R@5 | R@10 | MRR@10 | first quote | any quote | refused | "
             "first quote chars | quoted chars | p50 ms | p95 ms |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for mode, by_lang in report["results"].items():
        for lang, r in by_lang.items():
            lines.append(f"| {mode} | {lang} ({r['questions']}) | {r['R@1']:.3f} | {r['R@5']:.3f} | {r['R@10']:.3f} | "
                         f"{r['MRR@10']:.3f} | {_f(r['first_quote'])} | {_f(r['any_quote'])} | {_f(r['refused'])} | "
                         f"{r['mean_first_quote_chars']} | {r['mean_quoted_chars']} | "
                         f"{r['latency_ms_p50']} | {r['latency_ms_p95']} |")
    return "\n".join(lines) + "\n"


def _f(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"
