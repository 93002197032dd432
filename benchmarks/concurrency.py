"""Many users at once: latency of concurrent `/ask` calls to the chat app, by concurrency limit.

The app over the default corpus index is started on 127.0.0.1 once per limit; N questions
(the test split's, cycled) are sent at the same moment through Gradio's HTTP API, and each
call's wall time (queueing included) is recorded. Every answer is checked to be the one its
own question gets when asked alone.

    python benchmarks/concurrency.py            # -> benchmarks/concurrency.md
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.config import Settings  # noqa: E402
from assistant.pipeline import Assistant  # noqa: E402
from assistant.web import build_app, launch_options  # noqa: E402
from tests.conftest import free_port  # noqa: E402

CALLS = 50


def ask(url: str, question: str) -> tuple[float, str]:
    started = time.perf_counter()
    with httpx.Client(timeout=300) as client:
        event = client.post(f"{url}gradio_api/call/ask", json={"data": [question]}).json()["event_id"]
        stream = client.get(f"{url}gradio_api/call/ask/{event}").text
    data = next(line[6:] for line in stream.splitlines() if line.startswith("data: "))
    return time.perf_counter() - started, json.loads(data)[0]["answer"]


def main() -> None:
    questions = [json.loads(line)["question"] for line in (ROOT / "eval" / "corpus_zh_en.test.jsonl").read_text(
        encoding="utf-8").splitlines() if line.strip()]
    batch = [questions[i % len(questions)] for i in range(CALLS)]
    rows = []
    for limit in (1, 2, 4):
        settings = Settings(chat_concurrency=limit)
        assistant = Assistant.open(settings)
        alone = {q: assistant.ask(q).text for q in set(batch)}
        app = build_app(assistant)
        _, url, _ = app.launch(server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True,
                               **launch_options(settings))
        try:
            ask(url, batch[0])  # warm
            started = time.perf_counter()
            with ThreadPoolExecutor(CALLS) as pool:
                results = list(pool.map(lambda q: ask(url, q), batch))
            wall = time.perf_counter() - started
        finally:
            app.close()
        times = sorted(t for t, _ in results)
        wrong = sum(answer != alone[q] for q, (_, answer) in zip(batch, results))
        rows.append(f"| {limit} | {CALLS} | {statistics.median(times):.2f} s | {times[int(0.95 * (len(times) - 1))]:.2f} s | "
                    f"{wall:.1f} s | {wrong} |")
    report = "\n".join([
        "# Concurrent questions to the chat app", "",
        f"- measured {time.strftime('%Y-%m-%d')} on {platform.machine()} ({os.cpu_count()} cores); "
        "command: `python benchmarks/concurrency.py`",
        f"- {CALLS} `/ask` calls sent at once (the test split's questions, cycled) to the app over the default "
        "corpus; time per call includes waiting in Gradio's queue",
        "- limit = `ASSISTANT_CHAT_CONCURRENCY` (questions answered at once; the rest queue)", "",
        "| limit | calls | p50 | p95 | all answered after | answers differing from asking alone |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |", *rows, ""]) + "\n"
    (ROOT / "benchmarks" / "concurrency.md").write_text(report, encoding="utf-8")
    print(report)


if __name__ == "__main__":
    main()
