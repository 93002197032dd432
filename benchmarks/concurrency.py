"""Many users at once: throughput and latency of the chat app's `/ask` API with 1, 4 and 16 clients.

The app (``assistant.web.build_app``, the same Gradio app ``assistant serve`` runs) over the default
corpus index is started in its own process on 127.0.0.1, with the default settings (one loaded index
shared by every request; ``chat_concurrency`` questions answered at once, the rest queue). C clients
(threads here, each with its own HTTP connection) then ask a fixed batch of 48 questions (the test
split's, cycled), client i asking questions i, i+C, i+2C, ... one after the other, all clients
starting together. Per setting: throughput (48 / wall time), per-call latency p50 / p95 (queueing
included), the server's CPU time per question, its RSS after the run (from /proc/PID/status), and how
many answers differ from the single-client run's. The concurrency limit is also varied at 16 clients.

    python benchmarks/concurrency.py            # -> benchmarks/concurrency.md (~3 min)
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CALLS = 48
CLIENTS = (1, 4, 16)
LIMITS = (1, 4)  # besides the default, each at 16 clients


def serve(limit: str, port: int) -> None:
    """The server process: the app over the default index, until stdin closes."""
    from assistant.config import Settings
    from assistant.pipeline import Assistant
    from assistant.web import build_app, launch_options

    # reader_memory 0: the batch repeats its questions (and the warm-up asked them all), so a
    # remembering reader would answer from memory; these figures are for fresh questions.
    limits = {} if limit == "default" else {"chat_concurrency": int(limit)}
    settings = Settings(reader_memory=0, **limits)
    assistant = Assistant.open(settings)
    app = build_app(assistant)
    app.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, **launch_options(settings))
    print(json.dumps({"ready": True, "limit": settings.chat_concurrency}), flush=True)
    sys.stdin.read()  # the parent closes our stdin (or ends us) when done
    app.close()


def ask(client, url: str, question: str) -> tuple[float, str]:
    started = time.perf_counter()
    event = client.post(f"{url}gradio_api/call/ask", json={"data": [question]}).json()["event_id"]
    stream = client.get(f"{url}gradio_api/call/ask/{event}").text
    data = next(line[6:] for line in stream.splitlines() if line.startswith("data: "))
    return time.perf_counter() - started, json.loads(data)[0]["answer"]


def proc_status(pid: int) -> dict:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM", "Threads"):
            out[key] = int(value.split()[0]) / (1024 if key != "Threads" else 1)
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    out["cpu_s"] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
    return out


def run_clients(url: str, batch: list[str], clients: int) -> tuple[float, list[tuple[int, float, str]]]:
    """(wall seconds, [(call index, seconds, answer)]) with ``clients`` clients asking ``batch`` together."""
    import httpx

    results: list[tuple[int, float, str]] = []
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)

    def client(i: int) -> None:
        with httpx.Client(timeout=600) as http:
            start.wait()
            for j in range(i, len(batch), clients):
                seconds, answer = ask(http, url, batch[j])
                with lock:
                    results.append((j, seconds, answer))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    start.wait()
    began = time.perf_counter()
    for t in threads:
        t.join()
    return time.perf_counter() - began, sorted(results)


def percentile(values: list[float], p: float) -> float:
    from assistant.evaluation.metrics import percentile as pct

    return pct(values, p)


def server(limit: str):
    from tests.conftest import free_port

    port = free_port()
    proc = subprocess.Popen([sys.executable, __file__, "--serve", limit, str(port)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if not line:
        raise SystemExit(f"the server (limit {limit}) did not start")
    info = json.loads(line)
    return proc, f"http://127.0.0.1:{port}/", info["limit"]


def stop(proc) -> None:
    proc.stdin.close()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.terminate()
        proc.wait(timeout=30)


def measure(limit: str, clients_list: tuple[int, ...], batch: list[str], reference: dict[int, str] | None):
    import httpx

    proc, url, effective = server(limit)
    rows = []
    try:
        opened = proc_status(proc.pid)
        with httpx.Client(timeout=600) as http:  # warm: every distinct question once, one at a time
            for q in dict.fromkeys(batch):
                ask(http, url, q)
        warm = proc_status(proc.pid)
        for clients in clients_list:
            before = proc_status(proc.pid)
            wall, results = run_clients(url, batch, clients)
            after = proc_status(proc.pid)
            if reference is None:
                reference = {j: answer for j, _, answer in results}
            times = [s for _, s, _ in results]
            rows.append({"limit": effective, "clients": clients, "calls": len(results), "wall_s": wall,
                         "qps": len(results) / wall, "p50": percentile(times, 50), "p95": percentile(times, 95),
                         "cpu_s_per_q": (after["cpu_s"] - before["cpu_s"]) / len(results),
                         "rss_mb": after["VmRSS"], "threads": after["Threads"],
                         "differ": sum(answer != reference[j] for j, _, answer in results)})
            print(rows[-1], flush=True)
        final = proc_status(proc.pid)
    finally:
        stop(proc)
    return rows, reference, {"limit": effective, "opened_mb": opened["VmRSS"], "warm_mb": warm["VmRSS"],
                             "final_mb": final["VmRSS"], "peak_mb": final["VmHWM"]}


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        serve(sys.argv[2], int(sys.argv[3]))
        return
    from assistant.config import Settings
    from assistant.index.store import read_manifest

    questions = [json.loads(line)["question"] for line in (ROOT / "eval" / "corpus_zh_en.test.jsonl").read_text(
        encoding="utf-8").splitlines() if line.strip()]
    batch = [questions[i % len(questions)] for i in range(CALLS)]
    began = time.perf_counter()
    default_rows, reference, default_mem = measure("default", CLIENTS, batch, None)
    limit_rows, memory = [], [default_mem]
    for limit in LIMITS:
        rows, _, mem = measure(str(limit), (16,), batch, reference)
        limit_rows += rows
        memory.append(mem)
    settings = Settings()
    manifest = read_manifest(settings.index_dir)
    minutes = (time.perf_counter() - began) / 60

    def row(r: dict) -> str:
        return (f"| {r['limit']} | {r['clients']} | {r['calls']} | {r['qps']:.1f} | {r['p50'] * 1000:.0f} ms | "
                f"{r['p95'] * 1000:.0f} ms | {r['wall_s']:.1f} s | {r['cpu_s_per_q'] * 1000:.0f} ms | "
                f"{r['rss_mb']:,.0f} | {r['differ']} |")

    header = ["| limit | clients | calls | questions/s | p50 | p95 | all answered after | server CPU per question | "
              "server RSS after, MiB | answers differing from 1 client |",
              "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    d = default_mem
    report = "\n".join([
        "# Concurrent questions to the chat app", "",
        f"- measured {time.strftime('%Y-%m-%d')} on {platform.machine()} ({os.cpu_count()} cores); command: `python benchmarks/concurrency.py` ({minutes:.0f} min)",
        f"- the app (`assistant.web.build_app`) in its own process over the default index ({manifest.counts['articles']} "
        f"articles, {manifest.counts['chunks']} chunks), default settings (`chat_concurrency` = "
        f"{settings.chat_concurrency}): one `Assistant`, one loaded index, shared by every request",
        f"- {CALLS} `/ask` calls per row (the test split's {len(questions)} questions, cycled) over Gradio's HTTP API; "
        "C clients each ask their share one after the other, all starting together; latency per call includes "
        "waiting in Gradio's queue; one untimed warm-up pass (each distinct question once) before the first row",
        "- limit = `ASSISTANT_CHAT_CONCURRENCY` (questions answered at once; the rest queue); CPU = the server "
        "process's user + system time over the row / calls", "",
        "## 1, 4 and 16 clients at the default settings", "", *header, *(row(r) for r in default_rows), "",
        f"Server RSS (MiB): {d['opened_mb']:,.0f} after opening, {d['warm_mb']:,.0f} after the warm-up pass, "
        + ", ".join(f"{r['rss_mb']:,.0f} after {r['clients']} client{'s' if r['clients'] > 1 else ''}" for r in default_rows)
        + f"; peak {d['peak_mb']:,.0f}. Threads: " + ", ".join(f"{r['threads']:.0f}" for r in default_rows) + ".", "",
        "## The concurrency limit, at 16 clients", "", *header,
        *(row(r) for r in sorted(limit_rows + [r for r in default_rows if r["clients"] == 16], key=lambda r: r["limit"])),
        "", "Server RSS per limit (MiB, after warm-up -> after the 16-client row; peak): "
        + "; ".join(f"limit {m['limit']}: {m['warm_mb']:,.0f} -> {m['final_mb']:,.0f}; {m['peak_mb']:,.0f}" for m in memory),
        ""]) + "\n"
    (ROOT / "benchmarks" / "concurrency.md").write_text(report, encoding="utf-8")
    print(report)


if __name__ == "__main__":
    main()
