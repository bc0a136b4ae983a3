"""A real, tiny OpenAI-compatible HTTP server for tests, with scripted replies.

Why a real server rather than a mocked client: the answer chain talks to its
LLM through ``langchain_openai.ChatOpenAI`` → ``openai`` → ``httpx`` → TCP, and
the failures we care about (wrong URL, dead server, timeouts, SSE parsing)
live in those layers. Serving the actual protocol on 127.0.0.1 exercises all
of them, while the reply stays fully under the test's control – e.g. a
fabricated citation ``[7]`` or a made-up number the chain must catch.

Speaks just enough of the API:

* ``GET  /v1/models``
* ``POST /v1/chat/completions`` – plain JSON, or ``"stream": true`` as SSE
  (``data: {chunk}`` lines ending with ``data: [DONE]``).

``chunk_delay_s`` slows a stream down, chunk by chunk, so a test can see the
reply half-written. Faults, for the fallback tests: ``status`` (an HTTP error code, or a list of
codes used one per request, 200 meaning answer normally) and ``fault``:
``"malformed"`` (a 200 whose body is not JSON), ``"no_choices"`` (JSON
without ``choices``) or ``"cut"`` (the connection closes halfway through the
body or the stream).

Usage::

    with ScriptedOpenAIServer(reply="余新镇[1]") as srv:
        ChatOpenAI(base_url=srv.base_url, api_key="x", model="m").invoke("hi")
        srv.requests[-1]["messages"]   # what the client sent
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# A reply is a fixed string, or a function of the request body (to answer
# differently per prompt). A list of them is used one per request, in order.
Reply = str | Callable[[dict[str, Any]], str]


class ScriptedOpenAIServer:
    """OpenAI chat-completions server on 127.0.0.1:<free port>, run in a thread."""

    def __init__(self, reply: Reply | list[Reply] = "OK", model: str = "scripted-model") -> None:
        self.reply: Reply | list[Reply] = reply
        self.model = model
        self.requests: list[dict[str, Any]] = []  # chat-completion bodies received, in order
        self.delay_s: float = 0.0  # sleep before answering, to test client timeouts
        self.chunk_delay_s: float = 0.0  # sleep before each streamed chunk, so a page can be seen mid-reply
        self.status: int | list[int] = 200  # e.g. 401/500, or [500, 200] for one failure then an answer
        self.fault: str = ""  # "", "malformed", "no_choices" or "cut"
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> "ScriptedOpenAIServer":
        # A short poll interval keeps stop() (and so each test's teardown) near-instant.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="scripted-openai", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self) -> "ScriptedOpenAIServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- behaviour --------------------------------------------------------

    def _next_status(self) -> int:
        with self._lock:
            if isinstance(self.status, list):
                return self.status.pop(0) if self.status else 200
            return self.status

    def _next_reply(self, body: dict[str, Any]) -> str:
        with self._lock:
            self.requests.append(body)
            reply = self.reply
            if isinstance(reply, list):
                if not reply:
                    raise AssertionError("ScriptedOpenAIServer: more requests than scripted replies")
                reply = reply.pop(0)
        return reply(body) if callable(reply) else reply

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            # HTTP/1.0: every response closes its connection, which also ends an SSE stream cleanly.
            protocol_version = "HTTP/1.0"

            def log_message(self, format: str, *args: Any) -> None:  # keep pytest output clean
                pass

            def _json(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                if self.path.rstrip("/") in ("/v1/models", "/models"):
                    self._json(200, {"object": "list", "data": [
                        {"id": server.model, "object": "model", "created": 0, "owned_by": "tests"}]})
                else:
                    self._json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})

            def do_POST(self) -> None:
                if self.path.rstrip("/") not in ("/v1/chat/completions", "/chat/completions"):
                    self._json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})
                    return
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                text = server._next_reply(body)
                if server.delay_s:
                    time.sleep(server.delay_s)
                status = server._next_status()
                if status != 200:
                    self._json(status, {"error": {"message": "scripted failure", "type": "scripted", "code": status}})
                    return
                if body.get("stream"):
                    self._stream(body, text)
                elif server.fault == "malformed":
                    self._raw(200, b'{"id": "x", "choices": [{"message": {"content": "\xe4\xbd')
                elif server.fault == "no_choices":
                    self._json(200, {"id": "x", "object": "chat.completion", "model": server.model})
                elif server.fault == "cut":
                    data = json.dumps(_completion(server.model, body, text), ensure_ascii=False).encode()
                    self._raw(200, data[: len(data) // 2], length=len(data))
                else:
                    self._json(200, _completion(server.model, body, text))

            def _raw(self, status: int, data: bytes, length: int | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data) if length is None else length))
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, body: dict[str, Any], text: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.end_headers()
                chunks = _chunks(server.model, body, text)
                for chunk in chunks[: len(chunks) // 2] if server.fault else chunks:  # a fault strikes halfway
                    time.sleep(server.chunk_delay_s)
                    self.wfile.write(f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode())
                    self.wfile.flush()
                if server.fault == "cut":
                    return
                if server.fault:
                    self.wfile.write(b'data: {"choices": [{"delta": \n\n' if server.fault == "malformed" else b'data: {"id": "x"}\n\n')
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()

        return Handler


def _usage(body: dict[str, Any], text: str) -> dict[str, int]:
    # Characters, not tokens: plausible enough for code that only reads the numbers.
    prompt = sum(len(str(m.get("content", ""))) for m in body.get("messages", []))
    return {"prompt_tokens": prompt, "completion_tokens": len(text), "total_tokens": prompt + len(text)}


def _completion(model: str, body: dict[str, Any], text: str) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                     "logprobs": None, "finish_reason": "stop"}],
        "usage": _usage(body, text),
    }


def _chunks(model: str, body: dict[str, Any], text: str, size: int = 4) -> list[dict[str, Any]]:
    """Split *text* into SSE chunks of a few characters, as a real server would stream tokens."""
    base = {"id": f"chatcmpl-{uuid.uuid4().hex[:12]}", "object": "chat.completion.chunk",
            "created": int(time.time()), "model": model}
    deltas = [{"role": "assistant", "content": ""}] + [
        {"content": text[i:i + size]} for i in range(0, len(text), size)]
    chunks = [{**base, "choices": [{"index": 0, "delta": d, "logprobs": None, "finish_reason": None}]}
              for d in deltas]
    chunks.append({**base, "choices": [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}]})
    if (body.get("stream_options") or {}).get("include_usage"):
        chunks.append({**base, "choices": [], "usage": _usage(body, text)})
    return chunks
