"""The Gradio chat front-end: ``build_app(assistant)`` returns a ready-to-launch ``gr.Blocks``.

The chat reply is one HTML fragment: the answer with its [n] markers, then each citation as a
collapsible ``<details>`` with the quoted span marked in its passage. Article text is escaped
before any tag is added, so nothing from a scraped page is ever interpreted as HTML.

The same app serves ``/ask`` (``api_name="ask"``): question in, the JSON contract of
``assistant ask --json`` out, for ``gradio_client`` and scripts.
"""

from __future__ import annotations

import html
import itertools
import json
import logging
import os
import queue
import re
import threading
import time
from pathlib import Path
from typing import Callable, Iterator
from urllib.parse import urlparse

import gradio as gr

from assistant.answer.llm.chat_model import ReplyAbandoned
from assistant import collection
from assistant.collection import UPLOAD_SUFFIXES, CollectionError, add_uploads, list_articles
from assistant.config import PROJECT_ROOT
from assistant.conversation import Turn
from assistant.ingest import IngestError
from assistant.pipeline import Assistant, QuestionError
from assistant.render import answer_to_json, by_passage
from assistant.index.store import IndexStoreError
from assistant.types import Answer, Citation, Hit

log = logging.getLogger(__name__)

TITLE = "文章问答助手 · Article Q&A"
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


# Fixed words of a reply, in the language of its question (the answer's own language).
REPLY_WORDS = {
    "zh": {"original": "原文", "unsupported": "⚠ 不支持引用它的句子", "sources": "出处",
           "answering": "按此问题回答：", "refused": "未找到依据", "record": "文章信息"},
    "en": {"original": "Original", "unsupported": "⚠ does not support what cites it", "sources": "Sources",
           "answering": "Answering: ", "refused": "No grounded answer", "record": "Article record"},
}
_MARKER = re.compile(r"\[(\d{1,3})\]")
_reply_ids = itertools.count(1)


def _words(lang: str) -> dict[str, str]:
    return REPLY_WORDS.get(lang, REPLY_WORDS["zh"])


def citation_html(citation: Citation, hits: list[Hit]) -> str:
    return passage_html([citation], hits)


def passage_html(citations: list[Citation], hits: list[Hit], lang: str = "zh", anchor: str | None = None) -> str:
    """One collapsible source: the passage of ``citations`` (all quoting the same passage) with
    every quoted span marked, under the numbers that cite it. ``anchor``: the id the answer's
    markers link to; it sits on the passage (hidden while collapsed), so following a marker
    opens the source as well as scrolling to it."""
    words = _words(lang)
    first = citations[0]
    summary = " · ".join(html.escape(x) for x in (first.title, first.source, first.date) if x)
    if first.kind == "record":  # the article's record line, not a passage of its text
        summary = f"{words['record']} · {summary}"
    offsets = [(c, quote_offset(c, hits)) for c in citations]
    spans = [(at, at + len(c.quote)) for c, at in offsets if at >= 0]
    missing = [c.quote for c, at in offsets if at < 0]
    # should not happen (quotes are cut from their passage); still show what was quoted
    body = "".join(f"<mark>{escape_text(q)}</mark><br>" for q in missing) + highlight_spans(first.text, spans)
    url = safe_url(first.url)
    link = (f'<br><a href="{html.escape(url)}" target="_blank" rel="noopener noreferrer">{words["original"]}</a>'
            if url else "")
    unverified = "" if all(c.verified for c in citations) else f" · {words['unsupported']}"
    numbers = "".join(f"[{c.n}]" for c in citations)
    target = f' id="{anchor}"' if anchor else ""
    return f"<details><summary>{numbers} {summary}{unverified}</summary><p{target}>{body}{link}</p></details>"


def related_html(hit: Hit) -> str:
    """A passage offered beside a refusal: collapsible, nothing marked (nothing was quoted)."""
    return f"<details><summary>{html.escape(hit.chunk.title)}</summary><p>{escape_text(hit.chunk.text)}</p></details>"


def answer_html(answer: Answer, reply_id: int | None = None) -> str:
    """The chat reply: any notice and condensed question, the answer with its [n] markers as links
    to their sources, then the sources, one collapsible block per cited passage. A refusal says so
    and offers the nearest passages as possibly related."""
    words = _words(answer.lang)
    reply_id = next(_reply_ids) if reply_id is None else reply_id
    groups = by_passage(answer.citations)
    anchors = {c.n: f"src-{reply_id}-{i}" for i, group in enumerate(groups, 1) for c in group}
    parts = []
    if answer.notice:
        parts.append(f"<p><em>{escape_text(answer.notice)}</em></p>")
    if answer.standalone_question:
        parts.append(f"<p><em>{words['answering']}{escape_text(answer.standalone_question)}</em></p>")
    text = _CODE_SPAN.sub(r"<code>\1</code>", escape_text(answer.text))

    def link(match: re.Match) -> str:  # a marker pointing at no passage stays plain text, never a dead link
        anchor = anchors.get(int(match.group(1)))
        return f'<a href="#{anchor}" title="{words["sources"]} {match.group(0)}">{match.group(0)}</a>' if anchor else match.group(0)

    if answer.declined:  # small talk or an instruction: the reply says what the assistant does
        parts.append(f"<p>{text}</p>")
        return "\n".join(parts)
    if answer.refused:
        parts.append(f"<blockquote><p><strong>{words['refused']}</strong><br>{text}</p></blockquote>")
        # the refusal's text names them (可能相关/Possibly related); here they open to their passages
        parts += [related_html(hit) for hit in answer.related]
        return "\n".join(parts)
    parts.append(f"<p>{_MARKER.sub(link, text)}</p>")
    if groups:
        parts.append(f"<p><strong>{words['sources']}</strong></p>")
        parts += [passage_html(group, answer.hits, answer.lang, anchors[group[0].n]) for group in groups]
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
    closed = threading.Event()

    def sink(text: str) -> None:
        if closed.is_set():  # the tab is gone: stop the model instead of generating for nobody
            raise ReplyAbandoned("the chat closed this reply")
        if text:
            tokens.put(text)

    def work() -> None:
        try:
            outcome["answer"] = assistant.ask(question, history=turns, on_token=sink, **options)
        except Exception as exc:  # reported below, in the chat
            outcome["error"] = exc

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    draft = ""
    shown = time.monotonic()
    try:
        while worker.is_alive() or not tokens.empty():
            try:
                draft += tokens.get(timeout=wait)
            except queue.Empty:
                # While the model thinks (nothing to show yet) the draft is still yielded now
                # and then: Gradio can close this generator only at a yield.
                if time.monotonic() - shown < 10 * wait:
                    continue
            shown = time.monotonic()
            yield f"<p>{escape_text(draft)} ▌</p>", None
    finally:
        # Gradio closes this generator when the page that asked goes away (GeneratorExit at
        # the yield above); the model's next token then ends its stream.
        closed.set()
    worker.join()
    if "answer" in outcome:
        yield answer_html(outcome["answer"]), outcome["answer"]
    elif isinstance(outcome.get("error"), (QuestionError, IndexStoreError)):  # e.g. an index damaged since it opened
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

    This is a guard against other sites, not authentication (anyone who can reach the server
    can use the app): a POST whose ``Origin`` is another site's page is refused, so a page open
    in another tab cannot drive the assistant or upload through the user's browser. Gradio's
    upload route additionally takes only ``.txt``/``.md``/``.html`` files (names read from the
    multipart headers with the parser Gradio itself uses), each within the size limit; the
    collection panel then checks each file's content. Its recording route (audio, run through
    ffmpeg) is closed: the app records nothing.
    """

    def __init__(self, app, suffixes: tuple[str, ...] = UPLOAD_SUFFIXES, max_bytes: int = 5_000_000,
                 max_files: int = 20) -> None:
        self.app = app
        self.suffixes = suffixes
        self.max_bytes = max_bytes
        self.max_files = max_files

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = scope.get("headers") or []
        first = {}
        for name, value in headers:
            first.setdefault(name.lower(), value)
        origin = first.get(b"origin", b"").decode("latin-1")
        host = first.get(b"host", b"").decode("latin-1")
        same_origin = bool(origin) and urlparse(origin).netloc == host
        path = scope["path"].rstrip("/")
        status, reason = 403, None
        if path.endswith("/process_recording"):
            reason = "this app accepts no recordings"
        elif path.endswith("/upload"):
            if not same_origin:
                reason = "uploads are accepted only from this app's own page"
            elif sum(1 for name, _ in headers if name.lower() == b"content-type") != 1:
                reason = "an upload needs exactly one Content-Type header"
            else:
                body = await self._body(receive, self.max_files * (self.max_bytes + 64_000))
                parts = None if body is None else upload_parts(first[b"content-type"], body)
                if parts is None:
                    status, reason = 413, f"at most {self.max_files} files of {self.max_bytes / 1e6:g} MB each"
                elif not parts:
                    reason = "not a file upload"
                else:
                    refused = [n for n, _ in parts if Path(n).suffix.lower() not in self.suffixes]
                    big = [n for n, size in parts if size > self.max_bytes]
                    if refused:
                        reason = f"{refused[0]}: only {', '.join(self.suffixes)} files are accepted"
                    elif big or len(parts) > self.max_files:
                        status, reason = 413, f"at most {self.max_files} files of {self.max_bytes / 1e6:g} MB each"
                    else:
                        receive = _replay(body)
        elif scope["method"] == "POST" and origin and not same_origin:
            reason = "cross-origin requests are not accepted"
        if reason:
            from starlette.responses import JSONResponse

            await JSONResponse({"detail": reason}, status_code=status)(scope, receive, send)
            return
        await self.app(scope, receive, send)

    @staticmethod
    async def _body(receive, limit: int) -> bytes | None:
        """The request body, or None once it passes ``limit`` bytes (the rest is not read)."""
        parts, size = [], 0
        while True:
            message = await receive()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return None
            parts.append(chunk)
            if not message.get("more_body"):
                return b"".join(parts)


def _replay(body: bytes):
    """An ASGI ``receive`` that gives the already-read body again, then waits for disconnect."""
    sent = False

    async def receive():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}
    return receive


def upload_parts(content_type: bytes, body: bytes) -> list[tuple[str, int]]:
    """(file name, size) of each file part of a multipart/form-data body, read as Gradio reads
    it (python-multipart's header parser); a part without a file name counts with name ""
    (so it is refused). Not multipart: no parts."""
    from python_multipart.multipart import parse_options_header

    kind, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        return []
    found = []
    for part in body.split(b"--" + boundary)[1:]:
        if part.startswith(b"--"):  # the closing delimiter
            break
        head, sep, content = part.partition(b"\r\n\r\n")
        if not sep:
            continue
        disposition = b""
        for line in head.split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-disposition":
                disposition = value.strip()
        _, params = parse_options_header(disposition)
        filename = params.get(b"filename")
        found.append(((filename or b"").decode("utf-8", "replace"), len(content.removesuffix(b"\r\n"))))
    return found


# The page's own words, in the browser's language (Gradio picks by the browser's locale; English otherwise).
I18N_WORDS = {
    "zh": {"chat": "对话", "ask": "提问", "placeholder": "例如：遂宁市技术合同认定登记额是多少？", "examples": "示例",
           "helpful": "👍 有帮助", "unhelpful": "👎 没帮助", "settings": "设置", "passages": "检索段落数",
           "retrieval": "检索方式", "answers": "回答方式", "evaluation": "评测", "report": "报告",
           "plot": "证据命中率", "collection": "文章库", "articles": "已收录的文章", "upload": "上传文章（txt、md、html）",
           "add": "加入文章库", "remove_choice": "要移除的文章", "remove": "移除", "title": f"## {TITLE}",
           "intro": "用中文或英文提问：回答引用原文，标注出处 [n]；点击 [n] 打开它引用的段落。"},
    "en": {"chat": "Chat", "ask": "Ask", "placeholder": "e.g. How many innovation consortia has Inner Mongolia formed?",
           "examples": "Examples", "helpful": "👍 Helpful", "unhelpful": "👎 Not helpful", "settings": "Settings",
           "passages": "Passages retrieved", "retrieval": "Retrieval", "answers": "Answers", "evaluation": "Evaluation",
           "report": "Report", "plot": "Evidence hit@k", "collection": "Collection", "articles": "Indexed articles",
           "upload": "Upload articles (txt, md, html)", "add": "Add to the collection", "remove_choice": "Articles to remove",
           "remove": "Remove", "title": f"## {TITLE}",
           "intro": "Ask in Chinese or English: every answer quotes the articles and cites them as [n]; "
                    "click an [n] to open the passage it quotes."},
}
I18N = gr.I18n(**I18N_WORDS, **{"zh-CN": I18N_WORDS["zh"], "zh-TW": I18N_WORDS["zh"], "zh-HK": I18N_WORDS["zh"]})
ARTICLE_COLUMNS = ["标题 / Title", "来源 / Source", "日期 / Date", "段落 / Chunks", "ID"]


def launch_options(settings) -> dict:
    """What every launch of the app passes to Gradio (the CLI and the tests alike)."""
    from starlette.middleware import Middleware

    guard = Middleware(RouteGuard, suffixes=UPLOAD_SUFFIXES, max_bytes=settings.upload_max_bytes)
    return {"max_file_size": settings.upload_max_bytes, "app_kwargs": {"middleware": [guard]},
            "quiet": True, "i18n": I18N}


def article_rows(assistant: Assistant) -> list[list]:
    return [[a.title, a.source or "", a.date or "", a.chunks, a.doc_id] for a in list_articles(assistant.index)]


def _build_progress(progress: gr.Progress):
    """The indexer's (stage, done, total) reports as Gradio's progress bar."""
    labels = {"read": "读取文章 / Reading articles", "embed": "编码段落 / Embedding passages",
              "embed_cross_lingual": "编码段落（英文提问用）/ Embedding passages for English questions"}

    def update(stage: str, done: int, total: int) -> None:
        progress((done, total), desc=labels.get(stage, stage))
    return update


def _change_collection(assistant: Assistant, failed: str, change: Callable[[], str]) -> str:
    """Run one change of the collection, then reopen the index; any failure is one line for the
    user (a failed build leaves the index as it was, so questions go on as before)."""
    try:
        message = change()
    except (CollectionError, IngestError, IndexStoreError) as exc:
        return f"{failed}: {exc}"
    except Exception:
        log.exception("collection change failed")
        return f"{failed}. {UNEXPECTED_ERROR}"
    try:
        assistant.reload()
    except Exception:  # the index did change; the next question tries to open it again
        log.exception("reopening the index after a collection change failed")
        return f"{message} · 新索引暂时无法打开 / the new index could not be opened yet; see the server log"
    return message


def add_uploaded(assistant: Assistant, paths: list[str], progress=None) -> str:
    """Add uploaded files (Gradio's temp copies) to the collection. The temp copies are deleted
    either way: the stored ones live under the corpus folder."""
    if not paths:
        return "先选择文件。 / Choose files first."
    settings = assistant.settings

    def change() -> str:
        files = []
        for path in map(Path, paths):
            if path.stat().st_size > settings.upload_max_bytes:  # before reading it into memory
                raise CollectionError(f"{path.name}: over the {settings.upload_max_mb:g} MB upload limit")
            files.append((path.name, path.read_bytes()))
        stored, report = add_uploads(settings, files, set(assistant.index.article_ids()), progress)
        return (f"已加入 / Added: {', '.join(p.stem for p in stored)} · {report.articles} 篇文章 / articles, "
                f"{report.chunks} 段 / chunks ({report.seconds:.1f}s)")

    try:
        return _change_collection(assistant, "未加入，文章库未变。 / Not added; the collection is unchanged", change)
    finally:
        for path in map(Path, paths):
            path.unlink(missing_ok=True)


def remove_chosen(assistant: Assistant, doc_ids: list[str], progress=None) -> str:
    """Take articles out of the collection (they stay on disk; `assistant add` brings them back)."""
    if not doc_ids:
        return "先选择文章。 / Choose articles first."
    unknown = [d for d in doc_ids if not assistant.index.has_article(d)]
    if unknown:
        return f"没有这篇文章 / No such article: {', '.join(unknown)}"

    def change() -> str:
        report = collection.remove(assistant.settings, doc_ids, progress, ids_only=True)
        return f"已移除 / Removed: {', '.join(doc_ids)} · {report.articles} 篇文章 / articles left"

    return _change_collection(assistant, "未移除，文章库未变。 / Not removed; the collection is unchanged", change)


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
    # delete_cache: Gradio's temp copies (uploads, served images) go after an hour, and all of them when the server stops.
    with gr.Blocks(title=TITLE, analytics_enabled=False, delete_cache=(3600, 3600)) as app:
        gr.Markdown(I18N("title"), elem_id="app-title")
        gr.Markdown(I18N("intro"))
        with gr.Tab(I18N("chat")):
            chat_tab(assistant, respond, feedback)
        with gr.Tab(I18N("collection")):
            collection_tab(assistant, app)
        with gr.Tab(I18N("evaluation")):
            reports = eval_reports(reports_root)
            chosen = gr.Dropdown(reports, value=reports[0] if reports else None, label=I18N("report"))
            text, plot = report_view(reports_root, reports[0] if reports else None)
            report = gr.Markdown(text)
            image = gr.Image(plot, label=I18N("plot"), interactive=False, visible=plot is not None)

            def show(name: str | None):
                body, path = report_view(reports_root, name)
                return body, gr.Image(value=path, visible=path is not None)

            chosen.change(show, [chosen], [report, image], api_visibility="private")
        gr.api(ask, api_name="ask", concurrency_id=_CONCURRENCY_ID, concurrency_limit=assistant.settings.chat_concurrency)
    return app


def collection_tab(assistant: Assistant, app: gr.Blocks) -> None:
    """The indexed articles; upload to add, choose to remove. One change at a time (the index has
    one writer); questions keep being answered from the current index while it is rebuilt."""
    table = gr.Dataframe(article_rows(assistant), headers=ARTICLE_COLUMNS, label=I18N("articles"),
                         interactive=False, wrap=True)
    with gr.Row():
        with gr.Column():
            files = gr.File(label=I18N("upload"), file_count="multiple", file_types=list(UPLOAD_SUFFIXES),
                            type="filepath", elem_id="upload")
            add_button = gr.Button(I18N("add"), variant="primary")
        with gr.Column():
            chosen = gr.Dropdown(sorted(assistant.index.article_ids()), multiselect=True, label=I18N("remove_choice"))
            remove_button = gr.Button(I18N("remove"), variant="stop")
    status = gr.Markdown("", elem_id="collection-status")

    def refreshed(message: str):
        return message, article_rows(assistant), gr.Dropdown(choices=sorted(assistant.index.article_ids()), value=[]), None

    def on_add(paths: list[str] | None, progress=gr.Progress()):
        return refreshed(add_uploaded(assistant, paths or [], _build_progress(progress)))

    def on_remove(doc_ids: list[str] | None, progress=gr.Progress()):
        return refreshed(remove_chosen(assistant, doc_ids or [], _build_progress(progress)))

    def current():  # a page opened after a change (here or by `assistant add`) shows the index as it is now
        return article_rows(assistant), gr.Dropdown(choices=sorted(assistant.index.article_ids()), value=[])

    app.load(current, None, [table, chosen], api_visibility="private")
    outputs = [status, table, chosen, files]
    add_button.click(on_add, [files], outputs, api_visibility="private", concurrency_id="collection", concurrency_limit=1)
    remove_button.click(on_remove, [chosen], outputs, api_visibility="private", concurrency_id="collection",
                        concurrency_limit=1)


def chat_tab(assistant: Assistant, respond, feedback) -> None:
    """The chat, its examples, feedback buttons and settings (inside the app's first tab)."""
    chatbot = gr.Chatbot(
        label=I18N("chat"),
        show_label=False,  # a floating label would sit over the scrolled messages
        height=560,
        buttons=["copy"],  # no "share": it posts to Hugging Face
        feedback_options=None,
        latex_delimiters=[],  # "$" in prices is not LaTeX
    )
    with gr.Row():
        question = gr.Textbox(placeholder=I18N("placeholder"), show_label=False, scale=5, autofocus=True, max_lines=4,
                              elem_id="question")
        send = gr.Button(I18N("ask"), variant="primary", scale=1, min_width=100)
    gr.Examples(examples=[[q] for q in EXAMPLES], inputs=[question], label=I18N("examples"))
    with gr.Row():
        helpful = gr.Button(I18N("helpful"), size="sm")
        unhelpful = gr.Button(I18N("unhelpful"), size="sm")
        thanks = gr.Markdown("")
    with gr.Accordion(I18N("settings"), open=False):
        s = assistant.settings
        k = gr.Slider(1, 20, value=min(s.top_k, 20), step=1, label=I18N("passages"))
        retriever = gr.Radio(["hybrid", "dense", "lexical"], value=s.retriever, label=I18N("retrieval"))
        modes = ["extractive", "llm"] if assistant.llm_configured else ["extractive"]
        mode = gr.Radio(modes, value=assistant.answer_mode(), label=I18N("answers"),
                        info=None if assistant.llm_configured else "llm: set ASSISTANT_LLM to use a chat model")
    turns = gr.State([])  # the chat's questions and answers, for condensing follow-ups
    last = gr.State(None)  # the latest answer (JSON), for the feedback buttons
    limit = assistant.settings.chat_concurrency
    gr.on([question.submit, send.click], respond, [question, chatbot, turns, k, retriever, mode],
          [question, chatbot, turns, last],
          api_visibility="private", concurrency_id=_CONCURRENCY_ID, concurrency_limit=limit)
    helpful.click(lambda answer: feedback(answer, True), [last], [thanks], api_visibility="private")
    unhelpful.click(lambda answer: feedback(answer, False), [last], [thanks], api_visibility="private")
