"""``assistant serve``: the real app on 127.0.0.1, driven by the ``openai`` client."""

from __future__ import annotations

import threading
import time

import httpx
import pytest
import uvicorn

from assistant.serve import build_api
from tests.conftest import free_port

openai = pytest.importorskip("openai")


@pytest.fixture(scope="module")
def base_url(tiny_assistant):
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(build_api(tiny_assistant), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    yield f"http://127.0.0.1:{port}/v1"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def client(base_url):
    return openai.OpenAI(base_url=base_url, api_key="unused", max_retries=0, timeout=60)


def test_models_lists_the_assistant(client):
    assert [m.id for m in client.models.list()] == ["assistant"]


def test_a_question_gets_the_cited_answer_and_its_citations(client):
    reply = client.chat.completions.create(model="assistant",
                                           messages=[{"role": "user", "content": "遂宁市技术合同认定登记额是多少？"}])
    content = reply.choices[0].message.content
    assert "17.73亿元" in content and "[1]" in content
    citations = reply.model_extra["citations"]
    assert citations[0]["n"] == 1 and citations[0]["doc_id"] == "a_suining" and citations[0]["quote"] in citations[0]["text"]
    assert reply.model_extra["refused"] is False


def test_streaming_gives_the_same_answer_and_citations_at_the_end(client):
    messages = [{"role": "user", "content": "How many innovation consortia has Inner Mongolia set up?"}]
    whole = client.chat.completions.create(model="assistant", messages=messages).choices[0].message.content
    chunks = list(client.chat.completions.create(model="assistant", messages=messages, stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == whole
    assert len(chunks) > 2 and chunks[-1].choices[0].finish_reason == "stop"
    assert chunks[-1].model_extra["citations"][0]["doc_id"] == "b_mongolia"


def test_earlier_turns_are_the_chat_history(client):
    reply = client.chat.completions.create(model="assistant", messages=[
        {"role": "user", "content": "内蒙古组建了多少个创新联合体？"},
        {"role": "assistant", "content": "截至2022年5月，内蒙古共组建并备案各类创新联合体24个[1]。"},
        {"role": "user", "content": "那甘肃呢？"},
    ])
    assert "5家" in reply.choices[0].message.content
    assert reply.model_extra["assistant"]["standalone_question"] == "甘肃组建了多少个创新联合体？"


@pytest.mark.parametrize("messages, says", [
    ([{"role": "user", "content": "   "}], "empty"),
    ([], "non-empty list"),
    ([{"role": "assistant", "content": "hi"}], "last message must come from the user"),
])
def test_bad_requests_are_openai_style_errors(client, messages, says):
    with pytest.raises(openai.BadRequestError, match=says):
        client.chat.completions.create(model="assistant", messages=messages)


def test_a_body_that_is_not_json_is_a_400(base_url):
    reply = httpx.post(f"{base_url}/chat/completions", content=b"not json", headers={"Content-Type": "application/json"})
    assert reply.status_code == 400 and "JSON" in reply.json()["error"]["message"]


def test_chained_follow_ups_build_on_each_other(client):
    reply = client.chat.completions.create(model="assistant", messages=[
        {"role": "user", "content": "遂宁市2024年技术合同认定登记额是多少？"},
        {"role": "assistant", "content": "…17.73亿元[1]。"},
        {"role": "user", "content": "那内蒙古呢？"},
        {"role": "assistant", "content": "资料中没有提到。"},
        {"role": "user", "content": "2023年呢？"},
    ])
    assert reply.model_extra["assistant"]["standalone_question"] == "内蒙古2023年技术合同认定登记额是多少？"


def test_an_unexpected_failure_is_an_openai_style_500(tiny_assistant, monkeypatch, client):
    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(tiny_assistant, "ask", broken)
    with pytest.raises(openai.InternalServerError, match="see the server log"):
        client.chat.completions.create(model="assistant", messages=[{"role": "user", "content": "遂宁市？"}])
