"""Aggregate judged results into metrics (overall, by language, by kind) and write the run's files."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Sequence

from assistant.evaluation import metrics
from assistant.evaluation.runner import CHAR_BUDGET, CURVE_KS, HIT_KS, QuestionResult
from assistant.render import answer_to_json


def _mean(values: Sequence[float]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def aggregate(results: Sequence[QuestionResult]) -> dict:
    """Metrics of one group of results; retrieval metrics over answerable questions only."""
    answerable = [r for r in results if r.question.answerable]
    refusal = metrics.refusal_metrics((r.question.answerable, r.answer.refused) for r in results)
    out: dict = {"questions": len(results), "answerable": len(answerable), "unanswerable": len(results) - len(answerable)}
    if answerable:
        j = [r.judgement for r in answerable]
        out["evidence_hit"] = {str(k): _mean([float(x.hits[k]) for x in j]) for k in HIT_KS}
        out["evidence_hit_curve"] = {str(k): _mean([float(x.hits[k]) for x in j]) for k in CURVE_KS}
        out[f"evidence_hit_within_{CHAR_BUDGET}_chars"] = _mean([float(x.hit_within_chars) for x in j])
        out["mrr@10"] = round(metrics.mrr_at_k([x.first_rank for x in j], k=10), 4)
        out["doc_recall"] = {str(k): _mean([x.doc_recall[k] for x in j]) for k in HIT_KS}
        answered = [x for x in j if not x.refused]
        out["citation_evidence_recall"] = _mean([x.citation_recall for x in answered])
        # The headline answer figure: over every answerable question, a refusal counting as 0.
        out["cited_evidence"] = _mean([0.0 if x.refused else x.citation_recall for x in j])
        quoted = [sum(len(q) for q in r.answer.quotes()) for r in answerable if not r.answer.refused]
        out["mean_quoted_chars"] = round(sum(quoted) / len(quoted), 1) if quoted else None
        out["citation_precision"] = _mean([x.citation_precision for x in answered])
        f1 = [x.answer_f1 for x in j if x.answer_f1 is not None]
        out["answer_char_f1"] = _mean(f1)
        # Quote-level: over the questions whose reference answer is a span of their evidence, the
        # share whose first quote (any quote) holds it, a refusal counting as not; cited evidence
        # reads whole passages, which hold the evidence whichever of their sentences is quoted.
        spans = [x for x in j if x.reference_in_first_quote is not None]
        out["reference_questions"] = len(spans)
        out["reference_in_first_quote"] = _mean([float(x.reference_in_first_quote) for x in spans])
        out["reference_in_quotes"] = _mean([float(x.reference_in_quotes) for x in spans])
    answers = [r.answer for r in results if not r.answer.refused]
    cited = [c.verified for a in answers for c in a.citations]
    out["verified_citations"] = _mean([float(v) for v in cited])
    sentences = [s.status in ("verified", "reattributed") for a in answers for s in a.sentences]
    out["supported_sentences"] = _mean([float(v) for v in sentences])  # generated answers only
    # llm mode: the model failed and the extractive answer was shown instead (a notice alone, such as
    # a word read as another, is no fallback)
    out["fallbacks"] = sum(r.answer.fell_back for r in results)
    used = [r.answer.usage for r in results if r.answer.usage]
    out["tokens"] = ({"input": round(sum(u["input_tokens"] for u in used) / len(used), 1),
                      "output": round(sum(u["output_tokens"] for u in used) / len(used), 1),
                      "estimated": any(u.get("estimated") for u in used)} if used else None)
    out["refusal_accuracy"] = None if refusal.refusal_accuracy is None else round(refusal.refusal_accuracy, 4)
    out["false_refusal_rate"] = None if refusal.false_refusal_rate is None else round(refusal.false_refusal_rate, 4)
    timings = {part: [r.answer.timings_ms.get(part, 0.0) for r in results] for part in ("retrieve", "answer", "total")}
    out["latency_ms"] = {
        part: {"p50": round(metrics.percentile(v, 50), 2), "p95": round(metrics.percentile(v, 95), 2)}
        for part, v in timings.items() if v
    }
    return out


def breakdown(results: Sequence[QuestionResult]) -> dict:
    """Overall, by language and by kind."""
    groups: dict = {"overall": aggregate(results), "by_lang": {}, "by_kind": {}}
    for field, key in (("lang", "by_lang"), ("kind", "by_kind")):
        values = sorted({getattr(r.question, field) or "unspecified" for r in results})
        for value in values:
            members = [r for r in results if (getattr(r.question, field) or "unspecified") == value]
            groups[key][value] = aggregate(members)
    return groups


def result_record(result: QuestionResult) -> dict:
    """One line of results.jsonl: everything ``ask --json`` returns plus the judgements."""
    q = result.question
    return {
        "id": q.id,
        "lang": q.lang,
        "kind": q.kind,
        "gold_docs": list(q.docs),
        "evidence": list(q.evidence),
        "reference_answer": q.answer,
        **answer_to_json(result.answer),
        "judgement": asdict(result.judgement),
    }


def write_results(out_dir: Path, results: Sequence[QuestionResult]) -> None:
    with (out_dir / "results.jsonl").open("w", encoding="utf-8") as f:
        for r in results:
            f.write(json.dumps(result_record(r), ensure_ascii=False) + "\n")


def _fmt(value) -> str:
    return "–" if value is None else (f"{value:.3f}" if isinstance(value, float) else str(value))


def markdown_report(runs: dict[str, dict], context: dict) -> str:
    """``runs`` maps retriever name -> breakdown(); ``context`` names encoder, index, settings."""
    lines = ["# Evaluation report", ""]
    lines += [f"- {k}: `{v}`" for k, v in context.items()]
    lines += ["", "## Overall", ""]
    lines += _table(runs, lambda b: b["overall"])
    for key, title in (("by_lang", "By language"), ("by_kind", "By kind")):
        names = sorted({g for b in runs.values() for g in b[key]})
        for name in names:
            lines += ["", f"## {title}: {name}", ""]
            lines += _table(runs, lambda b, n=name, k=key: b[k].get(n, {}))
    return "\n".join(lines) + "\n"


def _table(runs: dict[str, dict], pick) -> list[str]:
    header = ["run", "n", "hit@1", "hit@3", "hit@5", "hit@10", f"hit≤{CHAR_BUDGET}ch", "MRR@10",
              "doc R@5", "cited evidence", "answer in 1st quote", "cite prec", "F1", "quoted chars", "refused (unans.)", "false refusals",
              "verified cites", "supported sentences", "fallbacks", "tokens in/out", "p50 ms", "p95 ms"]
    rows = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, b in runs.items():
        m = pick(b)
        if not m:
            continue
        hit = m.get("evidence_hit", {})
        lat = m.get("latency_ms", {}).get("total", {})
        rows.append("| " + " | ".join(_fmt(v) for v in [
            name, m["questions"], hit.get("1"), hit.get("3"), hit.get("5"), hit.get("10"),
            m.get(f"evidence_hit_within_{CHAR_BUDGET}_chars"), m.get("mrr@10"), m.get("doc_recall", {}).get("5"),
            m.get("cited_evidence"), _share_of(m.get("reference_in_first_quote"), m.get("reference_questions")),
            m.get("citation_precision"), m.get("answer_char_f1"), m.get("mean_quoted_chars"),
            m.get("refusal_accuracy"), m.get("false_refusal_rate"), m.get("verified_citations"),
            m.get("supported_sentences"), m.get("fallbacks"), _tokens(m.get("tokens")), lat.get("p50"), lat.get("p95"),
        ]) + " |")
    return rows


def _share_of(share: float | None, n: int | None) -> str | None:
    """A share with the number of questions it is over: "0.812 (48)"."""
    return None if share is None else f"{share:.3f} ({n})"


def _tokens(tokens: dict | None) -> str | None:
    if not tokens:
        return None
    return f"{tokens['input']:.0f} / {tokens['output']:.0f}" + (" (est.)" if tokens["estimated"] else "")


def plot_hit_curves(runs: dict[str, dict], path: Path, title: str) -> None:
    """Evidence hit rate against k, one line per retriever (and per language)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=120)
    styles = {"zh": "-", "en": "--"}
    colours = {"hybrid": "tab:blue", "lexical": "tab:orange", "dense": "tab:green"}
    for name, b in runs.items():
        for lang, m in b["by_lang"].items():
            curve = m.get("evidence_hit_curve")
            if not curve:
                continue
            ks = [int(k) for k in curve]
            ax.plot(ks, [curve[str(k)] for k in ks], styles.get(lang, ":"), color=colours.get(name), marker="o", ms=3,
                    label=f"{name} ({lang})")
    ax.set_xlabel("k (passages read)")
    ax.set_ylabel("evidence hit rate")
    ax.set_ylim(0, 1.02)
    ax.set_xticks(list(CURVE_KS))
    ax.grid(alpha=0.3)
    ax.set_title(title)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
