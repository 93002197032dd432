"""Rule 3 of benchmarks/decisions_2026-12-28.md: which questions the legal-form reading of company
names changes, answered in full with the shipped models before and after.

Only a question whose ``entities.organisations()`` output changes can answer differently, so those
are listed from the dev splits (dev7 by aggregate only) and the public training parts, and each is
answered with the previous ``is_organisation_name`` (copied below as ``old``) and the shipped one.
The test splits and the public test parts are never read.

    python benchmarks/organisation_names.py > benchmarks/organisation_names.txt   # ~3 min
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import json  # noqa: E402

import assistant.entities as E  # noqa: E402
from assistant.config import Settings  # noqa: E402
from assistant.pipeline import Assistant  # noqa: E402
from assistant.query import parse_query  # noqa: E402
from assistant.evaluation import load_questions, metrics  # noqa: E402
from assistant.evaluation.bench import load_bench_questions, resolve_bench  # noqa: E402
from assistant.index.store import open_index  # noqa: E402
from assistant.answer import AnswerSettings, ExtractiveAnswerer  # noqa: E402
from assistant.embed import load_embedder  # noqa: E402
from assistant.retrieve import Retriever  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
new = E.is_organisation_name
def old(name):
    words = [(w.word, w.flag) for w in E.posseg().cut(name)]
    if len(words) == 1:
        return words[0][1] in E._PROPER_TAGS
    suffix = E._ORGANISATION_SUFFIX.search(name)
    before = [flag for word, flag in words if suffix is None or name.find(word) < suffix.start()]
    return not before or before[-1] in E._PROPER_TAGS

def orgs(answerer, text, fn):
    E.is_organisation_name = fn
    return E.organisations(answerer.resolved(parse_query(text)).match)

def answer(answerer, retriever, text, fn):
    E.is_organisation_name = fn
    query = parse_query(text)
    hits = retriever.run(query, k=50)
    return answerer.run(query, hits[:10])

settings = Settings()
a = Assistant.open(settings)
ans = a.answerer
retr = a.retriever()
for d in ["dev", "dev2", "dev3", "dev4", "dev5", "dev6", "dev7"]:
    qs = load_questions(ROOT / "eval" / f"corpus_zh_en.{d}.jsonl").questions
    agg = {"affected": 0, "answerable_refused": [0, 0], "unanswerable_refused": [0, 0], "evidence_cited": [0, 0]}
    for q in qs:
        if orgs(ans, q.question, old) == orgs(ans, q.question, new):
            continue
        agg["affected"] += 1
        out = []
        for i, fn in enumerate((old, new)):
            r = answer(ans, retr, q.question, fn)
            key = "answerable_refused" if q.docs else "unanswerable_refused"
            agg[key][i] += int(r.refused)
            cited = "".join(c.text for c in r.citations) if not r.refused else ""
            held = bool(q.docs) and not r.refused and all(e in cited for e in q.evidence)
            agg["evidence_cited"][i] += int(held)
            out.append((r.refused, held, r.text[:70].replace("\n", " ")))
        if d != "dev7":
            print(d, q.id, "answerable" if q.docs else "UNANSWERABLE", q.question[:50], "\n   before", out[0], "\n   after ", out[1])
    print(d, json.dumps(agg))
for name, part in [("cmrc2018_trial", "all"), ("cmrc2018_dev", "train"), ("xquad_zh", "train")]:
    st = Settings(index_dir=ROOT / "index-bench" / name)
    idx = open_index(st); emb = load_embedder(st.encoder)
    pa = ExtractiveAnswerer(idx, emb, st.prompts_dir, AnswerSettings.from_config(st))
    pr = Retriever.from_config(idx, emb, "hybrid", st)
    n = 0
    for q in load_bench_questions(resolve_bench(name), part):
        if orgs(pa, q.text, old) == orgs(pa, q.text, new):
            continue
        n += 1
        res = []
        for fn in (old, new):
            r = answer(pa, pr, q.text, fn)
            res.append((r.refused, metrics.quotes_hold_answer(q.answers, r.refused, r.quotes())))
        print(name, q.id, q.lang, q.text[:50], res)
    print(name, "affected", n)
