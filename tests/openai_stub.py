"""A real OpenAI-compatible HTTP server for tests: ``POST /v1/chat/completions``.

It listens on a loopback port in a background thread, records every request it gets
(path, headers, JSON body) and answers with a scripted reply: a fixed string, or a
function of the request body (so a reply can cite the source numbers the request
actually used). ``status`` other than 200 makes it answer with an OpenAI-style error;
``delay_s`` makes it slow.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Reply = str | Callable[[dict[str, Any]], str]


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.body.get("messages", []))

    def content_of(self, role: str) -> str:
        """The text of the first message with this role (``system``, ``user``)."""
        for m in self.messages:
            if m.get("role") == role:
                content = m.get("content")
                if isinstance(content, list):  # content parts
                    return "".join(p.get("text", "") for p in content if isinstance(p, dict))
                return str(content)
        raise KeyError(role)


@dataclass
class OpenAIStub:
    reply: Reply = '{"abstain": true, "claims": []}'
    status: int = 200
    delay_s: float = 0.0
    requests: list[Recorded] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        assert self._server is not None, "not started"
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def reset(
        self,
        reply: Reply = '{"abstain": true, "claims": []}',
        status: int = 200,
        delay_s: float = 0.0,
    ) -> None:
        self.reply = reply
        self.status = status
        self.delay_s = delay_s
        self.requests.clear()

    def start(self) -> OpenAIStub:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {"_raw": raw.decode(errors="replace")}
                stub.requests.append(
                    Recorded(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                if stub.delay_s:
                    time.sleep(stub.delay_s)
                if self.path.rstrip("/") != "/v1/chat/completions":
                    self._send(404, {"error": {"message": f"no route {self.path}"}})
                    return
                if stub.status != 200:
                    self._send(
                        stub.status,
                        {"error": {"message": "scripted failure", "type": "server_error"}},
                    )
                    return
                content = stub.reply(body) if callable(stub.reply) else stub.reply
                self._send(200, completion(content, str(body.get("model", "stub"))))

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)
        self._server = None
        self._thread = None


def completion(content: str, model: str) -> dict[str, Any]:
    """A standard ``chat.completion`` object with one assistant message."""
    return {
        "id": "chatcmpl-stub",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
    }
