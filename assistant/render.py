"""Answer -> the public JSON contract of ``assistant ask --json``, and -> terminal text."""

from __future__ import annotations

from assistant.types import Answer, Citation


def by_passage(citations: list[Citation]) -> list[list[Citation]]:
    """Citations grouped by the passage they quote, in order of first citation: one source entry
    per passage, however many quotes it gives (the CLI's text and the chat's sources)."""
    groups: dict[str, list[Citation]] = {}
    for citation in citations:
        groups.setdefault(citation.chunk_id, []).append(citation)
    return list(groups.values())


def answer_to_json(answer: Answer) -> dict:
    """The documented contract (README, "JSON output"); tests pin every key."""
    return {
        "question": answer.question,
        "answer": answer.text,
        "refused": answer.refused,
        "declined": answer.declined,
        "mode": answer.mode,
        "notice": answer.notice,
        "standalone_question": answer.standalone_question,
        "citations": [
            {
                "n": c.n,
                "doc_id": c.doc_id,
                "title": c.title,
                "source": c.source,
                "date": c.date,
                "url": c.url,
                "chunk_id": c.chunk_id,
                "text": c.text,
                "quote": c.quote,
                "quote_start": c.quote_start,
                "quote_end": c.quote_end,
                "verified": c.verified,
                "kind": c.kind,
            }
            for c in answer.citations
        ],
        "hits": [
            {
                "rank": h.rank,
                "chunk_id": h.chunk.chunk_id,
                "doc_id": h.chunk.doc_id,
                "score": round(h.score, 6),
                "text": h.chunk.text,
            }
            for h in answer.hits
        ],
        "related": [
            {"rank": h.rank, "chunk_id": h.chunk.chunk_id, "doc_id": h.chunk.doc_id, "title": h.chunk.title}
            for h in answer.related
        ],
        "sentences": [
            {"text": s.text, "status": s.status, "citations": list(s.citations), "quotes": list(s.quotes),
             "invalid_citations": list(s.invalid),
             "numbers_found": s.numbers_found}
            for s in answer.sentences
        ],
        "usage": dict(answer.usage),
        "timings_ms": dict(answer.timings_ms),
    }


def answer_to_text(answer: Answer) -> str:
    lines = []
    if answer.notice:
        lines += [f"({answer.notice})", ""]
    if answer.standalone_question:
        lines += [("Answering: " if answer.lang == "en" else "按此问题回答：") + answer.standalone_question, ""]
    lines.append(answer.text)
    if answer.citations:
        lines.append("")
        lines.append("Sources:" if answer.lang == "en" else "出处：")
    for group in by_passage(answer.citations):
        first = group[0]
        meta = " · ".join(x for x in (first.source, first.date, first.doc_id) if x)
        lines.append(f"{''.join(f'[{c.n}]' for c in group)} {first.title}  ({meta})")
        if first.kind == "record":  # the record line the values come from, as the chat shows it
            lines.append(f"    {'Article record' if answer.lang == 'en' else '文章信息'}: {first.text}")
        for c in group:
            unchecked = "" if c.verified else ("  (does not support what cites it)" if answer.lang == "en" else "  （不支持引用它的句子）")
            lines.append(f"    “{c.quote}”{unchecked}")
        if first.url:
            lines.append(f"    {first.url}")
    return "\n".join(lines)
