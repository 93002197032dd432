"""A scripted OpenAI-compatible chat server on 127.0.0.1, so tests run the real client over real HTTP.

Each request to ``/v1/chat/completions`` takes the next scripted :class:`Reply` (the last one
repeats). A reply's ``content`` may be a function of the request body, so a test can write an
answer from the passages the assistant actually sent. The server records every request body,
answers streaming requests as server-sent events, and shuts itself down after ``lifetime``
seconds even if a test forgets to.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

Content = str | Callable[[dict], str]


@dataclass
class Reply:
    content: Content = ""
    status: int = 200  # anything else: an error body with this HTTP status
    delay: float = 0.0  # seconds before the first byte
    garbage: bool = False  # a 200 whose body is not JSON
    pieces: int = 4  # streamed in this many chunks
    drop_after: int | None = None  # streaming: close the connection after this many chunks
    chunk_delay: float = 0.0  # streaming: seconds between chunks (a server trickling tokens)
    finish: str = "stop"  # the finish reason sent at the end ("length": cut at max_tokens)


class FakeChatServer:
    def __init__(self, replies: list[Reply] | None = None, lifetime: float = 120.0) -> None:
        self.replies = list(replies or [Reply("")])
        self.requests: list[dict] = []
        self.streams: list[dict] = []  # per streamed reply: chunks sent, and whether the client hung up
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                server.requests.append(body)
                reply = server.replies[min(len(server.requests), len(server.replies)) - 1]
                time.sleep(reply.delay)
                if reply.status != 200:
                    self._send(reply.status, {"error": {"message": "scripted failure", "type": "server_error"}})
                    return
                if reply.garbage:
                    self._raw(200, "text/html", b"<html>502 Bad Gateway</html>")
                    return
                text = reply.content(body) if callable(reply.content) else reply.content
                if body.get("stream"):
                    self._stream(body, text, reply.pieces, reply.drop_after, reply.chunk_delay, reply.finish)
                else:
                    self._send(200, _completion(body, text))

            def _send(self, status: int, payload: dict) -> None:
                self._raw(status, "application/json", json.dumps(payload).encode())

            def _raw(self, status: int, kind: str, data: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, body: dict, text: str, pieces: int, drop_after: int | None, delay: float,
                        finish: str = "stop") -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                step = max(1, -(-len(text) // pieces))
                record = {"sent": 0, "hung_up": False}
                server.streams.append(record)
                for sent, start in enumerate(range(0, len(text), step)):
                    if sent == drop_after:  # the server dies mid-answer: no more bytes, connection closed
                        self.close_connection = True
                        self.wfile.flush()
                        self.connection.shutdown(socket.SHUT_RDWR)
                        return
                    time.sleep(delay)
                    try:
                        self._event(_chunk(body, {"content": text[start:start + step]}))
                    except (BrokenPipeError, ConnectionResetError):  # the client gave up: fine
                        record["hung_up"] = True
                        return
                    record["sent"] += 1
                self._event(_chunk(body, {}, finish=finish))
                if (body.get("stream_options") or {}).get("include_usage"):
                    usage = _chunk(body, None)
                    usage["usage"] = _usage(body, text)
                    self._event(usage)
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()

            def _event(self, payload: dict) -> None:
                self.wfile.write(b"data: " + json.dumps(payload, ensure_ascii=False).encode() + b"\n\n")
                self.wfile.flush()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}/v1"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._stopper = threading.Timer(lifetime, self.stop)
        self._stopper.daemon = True

    def __enter__(self) -> "FakeChatServer":
        self._thread.start()
        self._stopper.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        self._stopper.cancel()
        self._server.shutdown()
        self._server.server_close()

    def script(self, *replies: Reply) -> None:
        """The replies for the next requests (the last one repeats)."""
        self.replies = list(replies)
        self.requests.clear()
        self.streams.clear()


def _usage(body: dict, text: str) -> dict:
    prompt = sum(len(m.get("content") or "") for m in body.get("messages", []))
    return {"prompt_tokens": prompt // 2, "completion_tokens": max(1, len(text) // 2),
            "total_tokens": prompt // 2 + max(1, len(text) // 2)}


def _completion(body: dict, text: str) -> dict:
    return {"id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()),
            "model": body.get("model", "fake"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": _usage(body, text)}


def _chunk(body: dict, delta: dict | None, finish: str | None = None) -> dict:
    choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
    return {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": int(time.time()),
            "model": body.get("model", "fake"), "choices": choices}


def passages_of(body: dict) -> dict[int, str]:
    """The numbered passages the assistant sent, by number (their text only)."""
    import re

    user = next(m["content"] for m in body["messages"] if m["role"] == "user")
    return {int(m.group(1)): m.group(2).strip()
            for m in re.finditer(r'<passage n="(\d+)"[^>]*>\n(.*?)\n</passage>', user, re.S)}
