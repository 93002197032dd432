"""The Gradio chat front-end: ``build_app(assistant)`` returns a ready-to-launch ``gr.Blocks``.

The chat reply is one HTML fragment: the answer with its [n] markers, then each citation as a
collapsible ``<details>`` with the quoted span marked in its passage. Article text is escaped
before any tag is added, so nothing from a scraped page is ever interpreted as HTML.

The same app serves ``/ask`` (``api_name="ask"``): question in, the JSON contract of
``assistant ask --json`` out, for ``gradio_client`` and scripts.
"""

from __future__ import annotations

import html
import json
import logging
import os
import queue
import re
import threading
import time
from pathlib import Path
from typing import Iterator
from urllib.parse import urlparse

import gradio as gr

from assistant.config import PROJECT_ROOT
from assistant.conversation import Turn
from assistant.pipeline import Assistant, QuestionError
from assistant.render import answer_to_json
from assistant.types import Answer, Citation, Hit

log = logging.getLogger(__name__)

TITLE = "文章问答助手 · Article Q&A"
DESCRIPTION = (
    "用中文或英文提问，回答引用原文并标注出处 [n]；点击出处可展开原文段落。\n\n"
    "Ask in Chinese or English: every answer quotes the articles and cites them as [n]; "
    "click a source to expand the passage it quotes."
)
EMPTY_QUESTION = "请输入一个问题。 / Please type a question."
UNEXPECTED_ERROR = "抱歉，出错了，请稍后再试。 / Sorry, something went wrong; please try again."

_CODE_SPAN = re.compile(r"`([^`\n]+)`")
# One queue for the chat and the API, answering ASSISTANT_CHAT_CONCURRENCY questions at once:
# the index is only read, and each encoder serialises its own calls (embed._BatchingEmbedder._lock).
_CONCURRENCY_ID = "assistant"


# -- HTML rendering (pure functions, testable without a server) ----------------------------


def escape_text(text: str) -> str:
    """Escaped text with line breaks as <br>: the reply must stay one HTML block without blank
    lines, or the chat's Markdown renderer would end the block and re-parse the rest."""
    return "<br>".join(html.escape(line) for line in text.splitlines())


def quote_offset(citation: Citation, hits: list[Hit]) -> int:
    """Where the quote starts within the citation's passage, or -1 if it is not in it.

    The cited chunk's article offset pins the exact occurrence (a quote may repeat in a
    passage); without it, the first occurrence is the best guess.
    """
    for hit in hits:
        if hit.chunk.chunk_id == citation.chunk_id:
            at = citation.quote_start - hit.chunk.start
            if citation.text[at:at + len(citation.quote)] == citation.quote:
                return at
    return citation.text.find(citation.quote)


def highlight(passage: str, start: int, end: int) -> str:
    """The passage escaped, with ``passage[start:end]`` wrapped in <mark>."""
    return highlight_spans(passage, [(start, end)])


def highlight_spans(passage: str, spans: list[tuple[int, int]]) -> str:
    """The passage escaped, each of ``spans`` (merged where they overlap) wrapped in <mark>."""
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out, at = [], 0
    for start, end in merged:
        out.append(f"{escape_text(passage[at:start])}<mark>{escape_text(passage[start:end])}</mark>")
        at = end
    return "".join(out) + escape_text(passage[at:])


def safe_url(url: str | None) -> str | None:
    """Only web links become hrefs; anything else (javascript:, file:) is not linked."""
    return url if url and url.lower().startswith(("http://", "https://")) else None


def citation_html(citation: Citation, hits: list[Hit]) -> str:
    return passage_html([citation], hits)


def passage_html(citations: list[Citation], hits: list[Hit]) -> str:
    """One collapsible source: the passage of ``citations`` (all quoting the same passage) with
    every quoted span marked, under the numbers that cite it."""
    first = citations[0]
    summary = " · ".join(html.escape(x) for x in (first.title, first.source, first.date) if x)
    offsets = [(c, quote_offset(c, hits)) for c in citations]
    spans = [(at, at + len(c.quote)) for c, at in offsets if at >= 0]
    missing = [c.quote for c, at in offsets if at < 0]
    # should not happen (quotes are cut from their passage); still show what was quoted
    body = "".join(f"<mark>{escape_text(q)}</mark><br>" for q in missing) + highlight_spans(first.text, spans)
    url = safe_url(first.url)
    link = (f'<br><a href="{html.escape(url)}" target="_blank" rel="noopener noreferrer">原文 / Original</a>'
            if url else "")
    unverified = ("" if all(c.verified for c in citations)
                  else " · ⚠ 不支持引用它的句子 / does not support what cites it")
    numbers = "".join(f"[{c.n}]" for c in citations)
    return f"<details><summary>{numbers} {summary}{unverified}</summary><p>{body}{link}</p></details>"


def by_passage(citations: list[Citation]) -> list[list[Citation]]:
    """Citations grouped by the passage they quote, in order of first citation."""
    groups: dict[str, list[Citation]] = {}
    for citation in citations:
        groups.setdefault(citation.chunk_id, []).append(citation)
    return list(groups.values())


def answer_html(answer: Answer) -> str:
    """The chat reply: any notice and condensed question, the answer (or refusal) text, then one
    collapsible block per cited passage."""
    parts = []
    if answer.notice:
        parts.append(f"<p><em>{escape_text(answer.notice)}</em></p>")
    if answer.standalone_question:
        parts.append(f"<p><em>按此问题回答 / Answering: {escape_text(answer.standalone_question)}</em></p>")
    text = _CODE_SPAN.sub(r"<code>\1</code>", escape_text(answer.text))
    parts.append(f"<p>{text}</p>")
    parts += [passage_html(group, answer.hits) for group in by_passage(answer.citations)]  # one per passage
    return "\n".join(parts)


# -- handlers -----------------------------------------------------------------------------


def reply_html(assistant: Assistant, question: str) -> str:
    """The assistant's reply to one chat message; never raises."""
    *_, (reply, _) = stream_reply(assistant, question, [])
    return reply


def stream_reply(assistant: Assistant, question: str, turns: list[Turn], wait: float = 0.1,
                 **options) -> Iterator[tuple[str, Answer | None]]:
    """The reply to a chat message as it grows: a generated answer's draft while it streams,
    then the checked answer (with the Answer, for the chat's history). Never raises.

    ``options``: ``k``, ``retriever`` and ``answer`` for :meth:`Assistant.ask` (the chat's settings)."""
    if not question.strip():
        yield escape_text(EMPTY_QUESTION), None
        return
    tokens: queue.Queue = queue.Queue()
    outcome: dict = {}

    def work() -> None:
        try:
            outcome["answer"] = assistant.ask(question, history=turns, on_token=tokens.put, **options)
        except Exception as exc:  # reported below, in the chat
            outcome["error"] = exc

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    draft = ""
    while worker.is_alive() or not tokens.empty():
        try:
            draft += tokens.get(timeout=wait)
        except queue.Empty:
            continue
        yield f"<p>{escape_text(draft)} ▌</p>", None
    worker.join()
    if "answer" in outcome:
        yield answer_html(outcome["answer"]), outcome["answer"]
    elif isinstance(outcome.get("error"), QuestionError):
        yield escape_text(str(outcome["error"])), None
    else:  # the user gets one line; the traceback goes to the server log
        log.error("chat question failed: %r", question[:200], exc_info=outcome.get("error"))
        yield escape_text(UNEXPECTED_ERROR), None


_FEEDBACK_LOCK = threading.Lock()


def record_feedback(path: Path, answer: dict, helpful: bool) -> dict:
    """Append one feedback line for an answer (the JSON of ``assistant ask --json``) and return it.

    A helpful, cited answer is written as a question `assistant eval` reads as it is: its
    cited articles as ``doc``, its quotes as ``evidence``. Any other line lacks them, and eval
    skips it with a note.
    """
    line = {"id": f"feedback-{int(time.time() * 1000)}", "question": answer["question"], "helpful": helpful,
            "answer": answer["answer"], "refused": answer["refused"], "mode": answer.get("mode"),
            "citations": [{k: c[k] for k in ("n", "doc_id", "chunk_id", "quote", "verified")} for c in answer["citations"]],
            "time": time.strftime("%Y-%m-%dT%H:%M:%S")}
    if helpful and answer["citations"] and not answer["refused"]:
        line["doc"] = list(dict.fromkeys(c["doc_id"] for c in answer["citations"]))
        line["evidence"] = list(dict.fromkeys(c["quote"] for c in answer["citations"]))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _FEEDBACK_LOCK, path.open("a", encoding="utf-8") as f:
        f.write(json.dumps(line, ensure_ascii=False) + "\n")
    return line


EXAMPLES = ["遂宁市技术合同认定登记额是多少？", "内蒙古如何为创新联合体备案？",
            "How many innovation consortia has Inner Mongolia set up?", "What does 揭榜挂帅 mean in these articles?"]


def eval_reports(root: Path) -> list[str]:
    """Report folders under ``root`` (``eval/``), newest first, as paths relative to it."""
    found = [p.parent for p in Path(root).rglob("report.md") if (p.parent / "metrics.json").is_file()]
    found.sort(key=lambda folder: (folder / "report.md").stat().st_mtime, reverse=True)
    return [str(folder.relative_to(root)) for folder in found]


def report_view(root: Path, name: str | None) -> tuple[str, str | None]:
    """The markdown of a report under ``root`` and its plot (if any); only folders under ``root``."""
    if not name:
        return "还没有评测报告。运行 `assistant eval FILE` 生成。 / No report yet: run `assistant eval FILE`.", None
    folder = (Path(root) / name).resolve()
    if not folder.is_relative_to(Path(root).resolve()) or not (folder / "report.md").is_file():
        return "没有这个报告。 / No such report.", None
    plot = folder / "hit_at_k.png"
    return (folder / "report.md").read_text(encoding="utf-8"), str(plot) if plot.is_file() else None


class RouteGuard:
    """ASGI middleware: Gradio's routes accept only what this app needs.

    The app has no upload component, so Gradio's upload route (which would otherwise take any
    file from anyone and serve it back from a temp folder) answers 403; and a POST coming from
    a page of another site (an ``Origin`` that is not this server) is refused, so another
    tab's page cannot drive the assistant through the user's browser.
    """

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            headers = dict(scope.get("headers") or [])
            origin = headers.get(b"origin", b"").decode("latin-1")
            host = headers.get(b"host", b"").decode("latin-1")
            reason = None
            if scope["path"].rstrip("/").endswith("/upload"):
                reason = "this app accepts no uploads"
            elif scope["method"] == "POST" and origin and urlparse(origin).netloc != host:
                reason = "cross-origin requests are not accepted"
            if reason:
                from starlette.responses import JSONResponse

                await JSONResponse({"detail": reason}, status_code=403)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def launch_options() -> dict:
    """What every launch of the app passes to Gradio (the CLI and the tests alike)."""
    from starlette.middleware import Middleware

    return {"max_file_size": "1mb", "app_kwargs": {"middleware": [Middleware(RouteGuard)]}, "quiet": True}


def build_app(assistant: Assistant) -> gr.Blocks:
    """The chat page plus the ``/ask`` JSON endpoint, both over the given assistant."""

    def respond(question: str, history: list[dict], turns: list[Turn], k: int, retriever: str, mode: str):
        question = question or ""
        if question.strip():
            history = history + [{"role": "user", "content": escape_text(question.strip())}]
        last = None
        for reply, answer in stream_reply(assistant, question, turns, k=int(k), retriever=retriever, answer=mode):
            if answer is not None:
                turns = turns + [Turn(question.strip(), answer.standalone_question or question.strip(), answer.text)]
                last = answer_to_json(answer)
            yield "", history + [{"role": "assistant", "content": reply}], turns, last

    def feedback(last: dict | None, helpful: bool) -> str:
        if not last:
            return "先提一个问题。 / Ask a question first."
        record_feedback(assistant.settings.feedback_file, last, helpful)
        return f"谢谢！已记录。 / Thanks, noted in {assistant.settings.feedback_file}."

    def ask(question: str) -> dict:
        """Answer one question; returns the JSON contract of `assistant ask --json`."""
        try:
            return answer_to_json(assistant.ask(question))
        except QuestionError as exc:
            # The user's mistake, said in one line: no traceback in the server log unless debugging.
            raise gr.Error(str(exc), print_exception=bool(os.environ.get("ASSISTANT_DEBUG"))) from None
        except Exception as exc:
            log.exception("API question failed: %r", str(question)[:200])
            raise gr.Error(f"unexpected {type(exc).__name__}; see the server log") from None

    reports_root = PROJECT_ROOT / "eval"
    with gr.Blocks(title=TITLE, analytics_enabled=False) as app:
        gr.Markdown(f"## {TITLE}\n\n{DESCRIPTION}")
        with gr.Tab("对话 / Chat"):
            chat_tab(assistant, respond, feedback)
        with gr.Tab("评测 / Evaluation"):
            reports = eval_reports(reports_root)
            chosen = gr.Dropdown(reports, value=reports[0] if reports else None, label="报告 / Report")
            text, plot = report_view(reports_root, reports[0] if reports else None)
            report = gr.Markdown(text)
            image = gr.Image(plot, label="证据命中率 / Evidence hit@k", interactive=False, visible=plot is not None)

            def show(name: str | None):
                body, path = report_view(reports_root, name)
                return body, gr.Image(value=path, visible=path is not None)

            chosen.change(show, [chosen], [report, image], api_visibility="private")
        gr.api(ask, api_name="ask", concurrency_id=_CONCURRENCY_ID, concurrency_limit=assistant.settings.chat_concurrency)
    return app


def chat_tab(assistant: Assistant, respond, feedback) -> None:
    """The chat, its examples, feedback buttons and settings (inside the app's first tab)."""
    chatbot = gr.Chatbot(
        label="对话 / Chat",
        height=560,
        buttons=["copy"],  # no "share": it posts to Hugging Face
        feedback_options=None,
        latex_delimiters=[],  # "$" in prices is not LaTeX
    )
    with gr.Row():
        question = gr.Textbox(
            placeholder="例如：遂宁市技术合同认定登记额是多少？ / e.g. How many innovation consortia has Inner Mongolia formed?",
            show_label=False, scale=5, autofocus=True, max_lines=4,
        )
        send = gr.Button("提问 / Ask", variant="primary", scale=1, min_width=100)
    gr.Examples(examples=[[q] for q in EXAMPLES], inputs=[question], label="示例 / Examples")
    with gr.Row():
        helpful = gr.Button("👍 有帮助 / Helpful", size="sm")
        unhelpful = gr.Button("👎 没帮助 / Not helpful", size="sm")
        thanks = gr.Markdown("")
    with gr.Accordion("设置 / Settings", open=False):
        s = assistant.settings
        k = gr.Slider(1, 20, value=min(s.top_k, 20), step=1, label="检索段落数 / Passages retrieved")
        retriever = gr.Radio(["hybrid", "dense", "lexical"], value=s.retriever, label="检索方式 / Retrieval")
        modes = ["extractive", "llm"] if assistant.llm_configured else ["extractive"]
        mode = gr.Radio(modes, value=assistant.answer_mode(), label="回答方式 / Answers",
                        info=None if assistant.llm_configured else "llm: set ASSISTANT_LLM to use a chat model")
    turns = gr.State([])  # the chat's questions and answers, for condensing follow-ups
    last = gr.State(None)  # the latest answer (JSON), for the feedback buttons
    limit = assistant.settings.chat_concurrency
    gr.on([question.submit, send.click], respond, [question, chatbot, turns, k, retriever, mode],
          [question, chatbot, turns, last],
          api_visibility="private", concurrency_id=_CONCURRENCY_ID, concurrency_limit=limit)
    helpful.click(lambda answer: feedback(answer, True), [last], [thanks], api_visibility="private")
    unhelpful.click(lambda answer: feedback(answer, False), [last], [thanks], api_visibility="private")
