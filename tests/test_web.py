"""The Gradio front-end: HTML rendering of answers (no server), then the real app over HTTP."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from assistant.types import Answer, Chunk, Citation, Hit
from assistant.web import EMPTY_QUESTION, UNEXPECTED_ERROR, answer_html, citation_html, reply_html

# -- rendering ----------------------------------------------------------------------------

ARTICLE = "前言。全市登记额达17.73亿元。去年登记额达17.73亿元。后记。"


def cited(quote_start: int, quote_end: int, text: str = ARTICLE, chunk_start: int = 0,
          url: str | None = "http://example.gov.cn/a.html") -> tuple[Citation, list[Hit]]:
    """A citation of ``text[quote_start:quote_end]`` whose chunk (passage) starts at ``chunk_start``."""
    chunk = Chunk("c1", "doc", text[chunk_start:], chunk_start, len(text), 0, "标题")
    citation = Citation(1, "doc", "标题", "遂宁日报", "2024-12-09", url, "c1", chunk.text,
                        text[quote_start:quote_end], quote_start, quote_end)
    return citation, [Hit(chunk, 1.0, 1)]


def marked(fragment: str) -> tuple[str, str, str]:
    """(before, inside, after) the single <mark> of an HTML fragment."""
    before, rest = fragment.split("<mark>")
    inside, after = rest.split("</mark>")
    return before, inside, after


def test_highlight_marks_the_cited_occurrence_not_the_first():
    second = ARTICLE.index("去年登记额达17.73亿元") + 2  # "登记额达17.73亿元" also occurs earlier
    citation, hits = cited(second, second + len("登记额达17.73亿元"), chunk_start=3)
    before, inside, after = marked(citation_html(citation, hits))
    assert inside == "登记额达17.73亿元"
    assert before.endswith("全市登记额达17.73亿元。去年")
    assert after.startswith("。后记。")


def test_highlight_falls_back_to_first_occurrence_without_the_chunk():
    start = ARTICLE.index("全市")
    citation, _ = cited(start, start + 4)
    _, inside, after = marked(citation_html(citation, hits=[]))
    assert inside == "全市登记"
    assert after.startswith("额达17.73亿元。去年")


def test_article_text_is_escaped_inside_and_outside_the_mark():
    text = "a<script>alert(1)</script> & <b>bold</b> \"q\" end"
    start = text.index("<b>")
    citation, hits = cited(start, start + len("<b>bold</b>"), text=text)
    fragment = citation_html(citation, hits)
    before, inside, after = marked(fragment)
    assert inside == "&lt;b&gt;bold&lt;/b&gt;"
    assert "a&lt;script&gt;alert(1)&lt;/script&gt; &amp; " in before
    assert after.startswith(" &quot;q&quot; end")
    assert "<script>" not in fragment and "<b>" not in fragment


def test_summary_and_link():
    citation, hits = cited(0, 3)
    fragment = citation_html(citation, hits)
    assert "<summary>[1] 标题 · 遂宁日报 · 2024-12-09</summary>" in fragment
    assert 'href="http://example.gov.cn/a.html"' in fragment


def test_only_web_urls_are_linked():
    citation, hits = cited(0, 3, url="javascript:alert(1)")
    assert "href" not in citation_html(citation, hits)
    citation, hits = cited(0, 3, url=None)
    assert "<a " not in citation_html(citation, hits)


def test_reply_is_one_html_block_without_blank_lines():
    text = "第一段。\n\n第二段<有尖括号>。"
    citation, hits = cited(0, 4, text=text)
    reply = answer_html(Answer("q", "答案[1]\n\n第二行", False, [citation], hits), reply_id=7)
    assert "\n\n" not in reply  # a blank line would end the HTML block in the chat's Markdown
    assert "第二段&lt;有尖括号&gt;" in reply
    assert reply.startswith('<p>答案<a href="#src-7-1" title="出处 [1]">[1]</a><br><br>第二行</p>')


def test_markers_link_to_their_source_and_a_dangling_marker_is_plain_text():
    citation, hits = cited(0, 4)
    reply = answer_html(Answer("q", "答案[1]，另见[3]。", False, [citation], hits), reply_id=7)
    assert '<a href="#src-7-1" title="出处 [1]">[1]</a>' in reply
    assert '<p id="src-7-1">' in reply  # inside the collapsed <details>: following the link opens it
    assert "另见[3]" in reply and "#src-7-3" not in reply  # [3] points at no passage: no link
    other = answer_html(Answer("q", "答案[1]。", False, [citation], hits))
    assert re.search(r'id="(src-\d+-1)"', other).group(1) != re.search(r'id="(src-\d+-1)"', answer_html(
        Answer("q", "答案[1]。", False, [citation], hits))).group(1)  # two replies never share an anchor


def test_english_reply_uses_english_labels():
    citation, hits = cited(0, 4)
    reply = answer_html(Answer("q", "The answer[1].", False, [citation], hits, lang="en"))
    assert "<strong>Sources</strong>" in reply and "出处" not in reply


def test_refusal_says_so_and_offers_related_passages_to_open():
    _, hits = cited(0, 4)
    reply = answer_html(Answer("q", "抱歉，没有依据。用 `assistant ingest` 加入文章。", True, [], hits, related=hits[:1]))
    assert reply.startswith("<blockquote><p><strong>未找到依据</strong><br>抱歉，没有依据。用 <code>assistant ingest</code>")
    assert reply.count("<details>") == 1 and "<mark>" not in reply and "href" not in reply
    assert answer_html(Answer("q", "抱歉。", True, [], [])).count("<details>") == 0


def test_declined_small_talk_is_a_plain_reply_not_a_refusal():
    _, hits = cited(0, 4)
    text = "I answer questions about the articles in the collection."
    reply = answer_html(Answer("thanks!", text, True, [], hits, lang="en", declined=True))
    assert reply == f"<p>{text}</p>"  # no "No grounded answer" heading, no passages to open
    refusal = answer_html(Answer("q", text, True, [], hits, lang="en"))
    assert refusal.startswith("<blockquote><p><strong>No grounded answer</strong>")


class _BrokenAssistant:
    """Stands in for a pipeline that fails unexpectedly (the real one cannot be made to, on demand)."""

    def ask(self, question: str):
        raise RuntimeError("faiss exploded at /secret/path")


def test_chat_reply_never_raises():
    reply = reply_html(_BrokenAssistant(), "问题")
    assert reply == UNEXPECTED_ERROR and "secret" not in reply
    assert reply_html(_BrokenAssistant(), "   ") == EMPTY_QUESTION


# -- the real app over HTTP ---------------------------------------------------------------


@pytest.fixture(scope="module")
def client(app_url):
    from gradio_client import Client

    return Client(app_url, verbose=False, download_files=False)


def test_api_answers_chinese_question_with_citation(client):
    result = client.predict("遂宁市技术合同认定登记额是多少？", api_name="/ask")
    assert not result["refused"]
    assert result["citations"][0]["doc_id"] == "a_suining"
    assert "17.73亿元" in result["answer"] and "[1]" in result["answer"]
    first = result["citations"][0]
    assert first["quote"] in first["text"]


def test_api_answers_english_question_with_citation(client):
    result = client.predict("How many innovation consortia has Inner Mongolia set up?", api_name="/ask")
    assert not result["refused"]
    assert result["citations"][0]["doc_id"] == "b_mongolia"
    assert "24" in result["answer"]


def test_api_refuses_off_topic_question(client):
    result = client.predict("上海迪士尼乐园的门票多少钱？", api_name="/ask")
    assert result["refused"] is True
    assert result["citations"] == []


def test_api_reports_empty_question_as_error(client):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="empty"):
        client.predict("  ", api_name="/ask")


def test_chat_reply_over_real_index(tiny_assistant):
    reply = reply_html(tiny_assistant, "甘肃省首批组建了几家企业创新联合体？")
    assert "[1]" in reply and "<details>" in reply and "<mark>" in reply
    assert "甘肃" in reply


def test_chat_reply_explains_a_too_long_question(tiny_assistant):
    reply = reply_html(tiny_assistant, "问" * (tiny_assistant.settings.max_question_chars + 1))
    assert "limit" in reply and "<details>" not in reply


def test_a_generated_answer_streams_into_the_chat_then_shows_checked(tiny_settings, tiny_assistant):
    from langchain_core.language_models.fake_chat_models import FakeListChatModel

    from assistant.pipeline import Assistant
    from assistant.web import stream_reply

    model = FakeListChatModel(responses=["截至2022年5月，内蒙古共组建并备案各类创新联合体24个[1]。"])
    assistant = Assistant(tiny_settings, chat_model=model)
    steps = list(stream_reply(assistant, "内蒙古组建了多少个创新联合体？", []))
    drafts, (final, answer) = steps[:-1], steps[-1]
    assert len(drafts) > 3 and all(d.endswith("▌</p>") and a is None for d, a in drafts)
    assert answer.mode == "llm" and answer.sentences[0].status == "verified"
    assert "<details>" in final and "24个" in final and "▌" not in final


def test_a_chat_follow_up_shows_the_question_it_answers(tiny_assistant):
    from assistant.conversation import Turn
    from assistant.web import stream_reply

    turns = [Turn("内蒙古组建了多少个创新联合体？", "内蒙古组建了多少个创新联合体？", "…24个[1]。")]
    *_, (final, answer) = stream_reply(tiny_assistant, "那甘肃呢？", turns)
    assert answer.standalone_question == "甘肃组建了多少个创新联合体？"
    assert "按此问题回答：甘肃组建了多少个创新联合体？" in final and "5家" in final


@pytest.mark.parametrize("question, says", [(123, "must be text"), ("问" * 3000, "characters long")])
def test_api_reports_bad_input_in_one_line_and_logs_no_traceback(client, app_url, capfd, question, says):
    import httpx

    capfd.readouterr()
    reply = httpx.post(f"{app_url}gradio_api/call/ask", json={"data": [question]}, timeout=30)
    event = reply.json()["event_id"]
    stream = httpx.get(f"{app_url}gradio_api/call/ask/{event}", timeout=60).text
    assert "event: error" in stream and says in stream
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err


def test_lone_surrogates_are_dropped_not_an_error(tiny_assistant):
    answer = tiny_assistant.ask("遂宁市技术合同认定登记额\udc80是多少？")
    assert not answer.refused and "17.73亿元" in answer.text
    assert answer.question == "遂宁市技术合同认定登记额是多少？"


@pytest.mark.parametrize("k", [0, -1, 101, 2.5, True])
def test_ask_refuses_a_bad_k(tiny_assistant, k):
    from assistant.pipeline import QuestionError

    with pytest.raises(QuestionError, match="k \\(passages to retrieve\\)"):
        tiny_assistant.ask("遂宁市技术合同认定登记额是多少？", k=k)


@pytest.mark.parametrize("k", [0, -1, 101])
def test_the_langchain_retriever_refuses_a_bad_k(tiny_assistant, k):
    from assistant.langchain import AssistantRetriever
    from assistant.pipeline import QuestionError

    with pytest.raises(QuestionError, match="k \\(passages to retrieve\\)"):
        AssistantRetriever(assistant=tiny_assistant, k=k).invoke("遂宁市")


def test_the_langchain_retriever_refuses_an_oversized_question_at_once(tiny_assistant):
    import time

    from assistant.langchain import AssistantRetriever
    from assistant.pipeline import QuestionError

    started = time.perf_counter()
    with pytest.raises(QuestionError, match="characters long"):
        AssistantRetriever(assistant=tiny_assistant).invoke("创新" * 60_000)
    assert time.perf_counter() - started < 5  # refused before any work, not after minutes of it


def test_two_quotes_of_one_passage_are_one_source_with_both_marked():
    from dataclasses import replace

    from assistant.render import answer_to_text

    first, hits = cited(3, 16)
    second = replace(first, n=2, quote=ARTICLE[17:30], quote_start=17, quote_end=30)
    answer = Answer("登记额是多少？", "全市登记额达17.73亿元[1]。去年登记额达17.73亿元[2]。", False, [first, second], hits)
    fragment = answer_html(answer)
    assert fragment.count("<details>") == 1 and "<summary>[1][2] 标题" in fragment
    assert fragment.count("<mark>") == 2 and "<mark>全市登记额达17.73亿元</mark>" in fragment
    assert "<mark>去年登记额达17.73亿元</mark>" in fragment
    text = answer_to_text(answer)
    assert text.count("标题  (") == 1 and "[1][2] 标题" in text
    assert "“全市登记额达17.73亿元”" in text and "“去年登记额达17.73亿元”" in text


def test_gradio_upload_route_takes_files_only_from_the_page_and_within_the_limit(app_url, tiny_settings):
    import httpx

    for origin in ({}, {"Origin": "http://evil.example"}):
        reply = httpx.post(f"{app_url}gradio_api/upload", files={"files": ("x.txt", b"hello")}, headers=origin)
        assert reply.status_code == 403 and "own page" in reply.json()["detail"]
    page = {"Origin": app_url.rstrip("/")}
    big = b"x" * (tiny_settings.upload_max_bytes + 1)
    assert httpx.post(f"{app_url}gradio_api/upload", files={"files": ("x.txt", big)}, headers=page).status_code == 413
    small = httpx.post(f"{app_url}gradio_api/upload", files={"files": ("x.txt", b"hello")}, headers=page)
    assert small.status_code == 200
    for name in ("x.exe", "x.txt.svg", "noext"):
        other = httpx.post(f"{app_url}gradio_api/upload", files={"files": (name, b"hello")}, headers=page)
        assert other.status_code == 403 and "only .txt" in other.json()["detail"], name
    mixed = httpx.post(f"{app_url}gradio_api/upload", headers=page,
                       files=[("files", ("a.md", b"ok")), ("files", ("b.html", b'filename="c.exe"')), ("files", ("d.js", b""))])
    assert mixed.status_code == 403 and mixed.json()["detail"].startswith("d.js")  # names from part headers only
    raw = httpx.post(f"{app_url}gradio_api/upload", content=b"hello", headers={**page, "Content-Type": "text/plain"})
    assert raw.status_code == 403
    several = [("files", (f"f{i}.txt", b"x" * 2_000_000)) for i in range(3)]  # each under the limit
    assert httpx.post(f"{app_url}gradio_api/upload", files=several, headers=page).status_code == 200


@pytest.mark.parametrize("disposition, boundary", [
    ('form-data; name="files"; filename="ok.txt"; filename="evil.exe"', "XyZ"),  # Gradio takes the last
    ('form-data; name="files"; filename ="evil.exe"', "XyZ"),
    ('form-data; name="files"; filename="evil.exe"', "XyZ; boundary=Other"),
])
def test_an_upload_cannot_smuggle_another_file_type(app_url, disposition, boundary):
    import httpx

    body = (f'--XyZ\r\nContent-Disposition: {disposition}\r\nContent-Type: text/plain\r\n\r\nhello\r\n--XyZ--\r\n').encode()
    reply = httpx.post(f"{app_url}gradio_api/upload", content=body,
                       headers={"Origin": app_url.rstrip("/"), "Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert reply.status_code == 403, reply.text


def test_the_recording_route_is_closed(app_url):
    import httpx

    reply = httpx.post(f"{app_url}gradio_api/process_recording", files={"files": ("a.wav", b"RIFF")},
                       headers={"Origin": app_url.rstrip("/")})
    assert reply.status_code == 403


def test_nothing_outside_the_app_can_be_downloaded(app_url):
    import httpx

    for path in ("/etc/passwd", str(Path(__file__).resolve()), str(Path(__file__).resolve().parent.parent / "README.md")):
        reply = httpx.get(f"{app_url}gradio_api/file={path}")
        assert reply.status_code in (403, 404), path


def test_a_page_of_another_site_cannot_ask_through_the_browser(app_url, client):
    import httpx

    foreign = httpx.post(f"{app_url}gradio_api/call/ask", json={"data": ["遂宁市技术合同认定登记额是多少？"]},
                         headers={"Origin": "http://evil.example"})
    assert foreign.status_code == 403 and "cross-origin" in foreign.json()["detail"]
    host = app_url.split("//", 1)[1].rstrip("/")
    same = httpx.post(f"{app_url}gradio_api/call/ask", json={"data": ["遂宁市技术合同认定登记额是多少？"]},
                      headers={"Origin": f"http://{host}"})
    assert same.status_code == 200 and "event_id" in same.json()


def test_two_users_asking_at_once_get_their_own_answers(app_url):
    from concurrent.futures import ThreadPoolExecutor

    from gradio_client import Client

    questions = {"遂宁市技术合同认定登记额是多少？": "17.73亿元", "内蒙古组建了多少个创新联合体？": "24个",
                 "甘肃首批组建了几家企业创新联合体？": "5家", "How many innovation consortia has Inner Mongolia set up?": "24"}

    def ask(question: str) -> str:
        return Client(app_url, verbose=False, download_files=False).predict(question, api_name="/ask")["answer"]

    with ThreadPoolExecutor(len(questions)) as pool:
        answers = dict(zip(questions, pool.map(ask, questions)))
    for question, expected in questions.items():
        assert expected in answers[question], (question, answers[question])


def test_feedback_lines_and_helpful_ones_are_eval_questions(tmp_path, tiny_assistant):
    from assistant.evaluation.questions import load_questions
    from assistant.render import answer_to_json
    from assistant.web import record_feedback

    path = tmp_path / "fb" / "feedback.jsonl"
    good = answer_to_json(tiny_assistant.ask("遂宁市技术合同认定登记额是多少？"))
    refused = answer_to_json(tiny_assistant.ask("上海迪士尼乐园的门票多少钱？"))
    record_feedback(path, good, helpful=True)
    record_feedback(path, good, helpful=False)
    record_feedback(path, refused, helpful=True)
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [line["helpful"] for line in lines] == [True, False, True]
    assert lines[0]["doc"] == ["a_suining"] and "17.73亿元" in lines[0]["evidence"][0]
    assert "doc" not in lines[1] and "doc" not in lines[2]
    report = load_questions(path)
    assert [q.question for q in report.questions] == ["遂宁市技术合同认定登记额是多少？"] and report.skipped == 2


def page_words(app, prop: str) -> set[str]:
    """The English words the page shows in ``prop`` ("label", "value") of its components (page
    words are translation keys that Gradio resolves in the browser's language)."""
    from assistant.web import I18N_WORDS

    found = set()
    for component in app.get_config_file()["components"]:
        value = str(component.get("props", {}).get(prop))  # a translation key prints as __i18n__{...}
        if value.startswith("__i18n__"):
            found.add(I18N_WORDS["en"][json.loads(value[len("__i18n__"):])["key"]])
    return found


def test_every_page_word_is_in_both_languages():
    from assistant.web import I18N_WORDS

    assert I18N_WORDS["zh"].keys() == I18N_WORDS["en"].keys()
    assert all(I18N_WORDS["zh"][k] != I18N_WORDS["en"][k] for k in I18N_WORDS["zh"] if k != "title")


def test_the_chat_offers_examples_settings_and_feedback(tiny_assistant):
    from assistant.web import EXAMPLES, build_app

    app = build_app(tiny_assistant)
    assert {"Passages retrieved", "Retrieval", "Answers", "Examples"} <= page_words(app, "label")
    assert {"👍 Helpful", "👎 Not helpful"} <= page_words(app, "value")
    assert len(EXAMPLES) >= 4 and any(q.isascii() for q in EXAMPLES) and not all(q.isascii() for q in EXAMPLES)


def test_the_evaluation_tab_lists_reports_and_shows_one(tmp_path, tiny_assistant):
    from assistant.web import build_app, eval_reports, report_view

    (tmp_path / "reports" / "set_a").mkdir(parents=True)
    (tmp_path / "reports" / "set_a" / "report.md").write_text("# Evaluation report\n\nhit@5 0.9", encoding="utf-8")
    (tmp_path / "reports" / "set_a" / "metrics.json").write_text("{}", encoding="utf-8")
    (tmp_path / "reports" / "notes").mkdir()
    (tmp_path / "reports" / "notes" / "report.md").write_text("not an eval report", encoding="utf-8")
    assert eval_reports(tmp_path) == ["reports/set_a"]
    text, plot = report_view(tmp_path, "reports/set_a")
    assert "hit@5 0.9" in text and plot is None
    assert report_view(tmp_path, "../../etc")[0].startswith("没有这个报告")  # nothing outside the folder
    assert {"Report", "Evidence hit@k"} <= page_words(build_app(tiny_assistant), "label")


def test_uploaded_temp_files_are_gone_when_the_server_stops(tiny_assistant):
    import httpx

    from assistant.web import build_app, launch_options
    from tests.conftest import free_port

    app = build_app(tiny_assistant)
    _, url, _ = app.launch(server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True,
                           **launch_options(tiny_assistant.settings))
    try:
        reply = httpx.post(f"{url}gradio_api/upload", files={"files": ("left.txt", "一段文字".encode())},
                           headers={"Origin": url.rstrip("/")})
        assert reply.status_code == 200
        stored = Path(reply.json()[0])
        assert stored.is_file() and stored.name == "left.txt"
    finally:
        app.close()
    assert not stored.exists()
