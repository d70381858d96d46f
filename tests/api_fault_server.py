"""A small OpenAI-compatible server on 127.0.0.1 that misbehaves on purpose (fault-injection tests).

It answers ``/v1/completions`` (text, and ``echo`` + ``logprobs`` prompt scores) and
``/v1/chat/completions`` deterministically: a prompt always gets the same answer, and
a character-level "tokenizer" gives every prompt character a log-probability derived
from a hash of the text up to it, so candidates that differ in their last character
share every score before it. ``/v1/models`` lists the model.

A *plan* decides what each request gets: ``plan(prompt_text, attempt)`` returns one of

* ``"ok"`` — a normal answer;
* ``"429"`` — Too Many Requests with ``Retry-After: <retry_after>``;
* ``"500"`` / ``"503"`` — a server error;
* ``"400"`` — a bad request (not retried); ``"401"`` — a refused key (these errors, and 500/503,
  repeat the request's ``Authorization`` header in their message, as careless gateways do);
* ``"slow"`` — the answer after ``slow_seconds`` (past the client's time-out);
* ``"drop"`` — the connection closed without a response;
* ``"reset"`` — the connection reset (RST);

where ``attempt`` counts the requests for that prompt so far (1, 2, …). Two switches make it
a hosted chat API's look-alike: ``hosted="chat-only"`` answers ``/v1/completions`` with
404 (OpenAI's "This is a chat model …"), ``hosted="no-echo"`` answers completions but
ignores ``echo`` and gives no prompt log-probabilities. Every request
is logged (``log``: prompt text, attempt, behaviour, time). Bound to 127.0.0.1 only,
on a free port; requests are bounded by the test that sends them.
"""

from __future__ import annotations

import hashlib
import json
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Plan = Callable[[str, int], str]


def _h(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


def answer_letter(prompt: str) -> str:
    """The letter this server's "model" answers for ``prompt`` (deterministic)."""
    return "ABCD"[_h(prompt) % 4]


def char_logprob(prefix: str) -> float:
    """The log-probability of ``prefix``'s last character given the ones before it."""
    return -((_h(prefix) % 5000) / 1000.0) - 0.01


@dataclass
class Logged:
    """One request as the server saw it."""

    path: str
    prompt: str
    attempt: int
    behaviour: str
    at: float
    authorization: str | None


def _prompt_text(body: dict[str, Any]) -> str:
    if "messages" in body:
        return "".join(f"<{m.get('role')}>{m.get('content')}" for m in body["messages"])
    prompt = body.get("prompt", "")
    return "\x1e".join(prompt) if isinstance(prompt, list) else str(prompt)


def _echo_choice(index: int, prompt: str) -> dict[str, Any]:
    tokens = list(prompt)
    logprobs = [None] + [char_logprob(prompt[: i + 1]) for i in range(1, len(tokens))]
    return {"index": index, "text": prompt, "finish_reason": "length",
            "logprobs": {"tokens": tokens, "token_logprobs": logprobs, "text_offset": list(range(len(tokens))),
                         "top_logprobs": None}}


def respond(path: str, body: dict[str, Any]) -> dict[str, Any]:
    """The normal answer to a request."""
    usage = {"prompt_tokens": len(_prompt_text(body)), "completion_tokens": 0}
    if path.endswith("/chat/completions"):
        text = answer_letter(_prompt_text(body))
        usage["completion_tokens"] = 1
        return {"object": "chat.completion", "model": body.get("model"), "usage": usage,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}]}
    prompt = body.get("prompt", "")
    if body.get("echo"):
        prompts = prompt if isinstance(prompt, list) else [prompt]
        usage["prompt_tokens"] = sum(len(p) for p in prompts)
        return {"object": "text_completion", "model": body.get("model"), "usage": usage,
                "choices": [_echo_choice(i, p) for i, p in enumerate(prompts)]}
    text = " " + answer_letter(str(prompt)) + "\n\nQuestion: more"
    stops = body.get("stop") or []
    finish = "length"
    for stop in stops:
        if stop in text:
            text, finish = text.split(stop)[0], "stop"
    usage["completion_tokens"] = len(text)
    return {"object": "text_completion", "model": body.get("model"), "usage": usage,
            "choices": [{"index": 0, "text": text, "finish_reason": finish}]}


class FaultServer:
    """See the module docstring. Use as a context manager, or :meth:`start` / :meth:`stop`."""

    def __init__(self, plan: Plan | None = None, *, retry_after: str = "1", slow_seconds: float = 2.0,
                 model: str = "fault-model", hosted: str | None = None) -> None:
        self.plan: Plan = plan or (lambda prompt, attempt: "ok")
        self.hosted = hosted
        self.retry_after = retry_after
        self.slow_seconds = slow_seconds
        self.model = model
        self.log: list[Logged] = []
        self._attempts: dict[str, int] = {}
        self._lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0
        self._httpd: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        """The base URL (``http://127.0.0.1:PORT/v1``)."""
        assert self._httpd is not None
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def behaviours(self) -> dict[str, int]:
        """How many requests got each behaviour."""
        out: dict[str, int] = {}
        for entry in self.log:
            out[entry.behaviour] = out.get(entry.behaviour, 0) + 1
        return out

    def _next(self, path: str, prompt: str, authorization: str | None) -> str:
        with self._lock:
            attempt = self._attempts.get(prompt, 0) + 1
            self._attempts[prompt] = attempt
            behaviour = self.plan(prompt, attempt)
            self.log.append(Logged(path, prompt, attempt, behaviour, time.monotonic(), authorization))
        return behaviour

    def start(self) -> FaultServer:
        """Listen on 127.0.0.1 (a free port) in a background thread."""
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.fault = self  # type: ignore[attr-defined]
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, name="fault-server", daemon=True).start()
        return self

    def behave(self, handler: _Handler, behaviour: str, body: dict[str, Any]) -> None:
        """Answer one request as ``behaviour`` says."""
        chat = handler.path.endswith("/chat/completions")
        if behaviour == "ok" and self.hosted == "chat-only" and not chat:
            handler.send(404, {"error": {"message": "This is a chat model and not supported in the v1/completions "
                                                    "endpoint. Did you mean to use v1/chat/completions?"}})
        elif behaviour == "ok" and self.hosted == "no-echo" and not chat:
            handler.send(200, respond(handler.path, {k: v for k, v in body.items() if k not in ("echo", "logprobs")}))
        elif behaviour == "ok":
            handler.send(200, respond(handler.path, body))
        elif behaviour == "429":
            handler.send(429, {"error": {"message": "rate limited"}}, {"Retry-After": self.retry_after})
        elif behaviour in ("400", "401", "500", "503"):
            # like careless gateways, the error repeats the request's key: the client must scrub it
            handler.send(int(behaviour), {"error": {"message": f"injected {behaviour} for the key "
                                                               f"{handler.headers.get('Authorization')}"}})
        elif behaviour == "slow":
            time.sleep(self.slow_seconds)
            try:
                handler.send(200, respond(handler.path, body))
            except OSError:  # the client gave up
                pass
        elif behaviour == "drop":
            handler.close_connection = True
            handler.connection.shutdown(socket.SHUT_RDWR)
        elif behaviour == "reset":
            handler.close_connection = True
            handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            handler.connection.close()
        else:
            raise ValueError(f"unknown behaviour {behaviour!r}")

    def stop(self) -> None:
        """Stop listening."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> FaultServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    @property
    def fault(self) -> FaultServer:
        return self.server.fault  # type: ignore[attr-defined]

    def log_message(self, *args: Any) -> None:  # quiet
        return None

    def send(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path.rstrip("/").endswith("/models"):
            self.send(200, {"object": "list", "data": [{"id": self.fault.model, "object": "model"}]})
        elif self.path == "/health":
            self.send(200, {})
        else:
            self.send(404, {"error": {"message": "not found"}})

    def do_POST(self) -> None:
        fault = self.fault
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        if not self.path.endswith(("/completions", "/chat/completions")):
            self.send(404, {"error": {"message": f"no route {self.path}"}})
            return
        if body.get("model") != fault.model:
            self.send(404, {"error": {"message": f"The model `{body.get('model')}` does not exist."}})
            return
        behaviour = fault._next(self.path, _prompt_text(body), self.headers.get("Authorization"))
        with fault._lock:
            fault.in_flight += 1
            fault.max_in_flight = max(fault.max_in_flight, fault.in_flight)
        try:
            fault.behave(self, behaviour, body)
        finally:
            with fault._lock:
                fault.in_flight -= 1
