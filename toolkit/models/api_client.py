"""An asynchronous client for OpenAI-compatible HTTP APIs: bounded concurrency, a rate limit, retries.

Requests are POSTed as JSON by ``concurrency`` workers sharing one ``httpx.AsyncClient``;
a :class:`RateLimiter` spaces request starts to at most ``qps`` a second. A request is
retried, with exponential back-off and jitter, on 429, 5xx, time-outs and broken
connections; a ``Retry-After`` header is honoured (and pauses every worker, so a
rate-limited server is not hammered by the others). A request that still fails after
its retries comes back as a :class:`CallOutcome` with its error: it fails that one
question, never the run. Statuses that no retry can fix for any request (401, 403,
404) raise :class:`ApiFatalError`, which stops the run at once with a clear message.

The event loop runs in a thread of its own, so the engine's synchronous code gets
outcomes through :meth:`ApiClient.run` as they finish. The API key lives only in the
request headers; every error text is scrubbed of it (:meth:`ApiClient.scrub`).
"""

from __future__ import annotations

import asyncio
import email.utils
import queue
import random
import threading
import time
from collections.abc import Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

RETRY_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 520, 521, 522, 524, 529})
FATAL_STATUSES = frozenset({401, 403, 404})
ERROR_BODY_CHARS = 300


class ApiFatalError(Exception):
    """A status no retry can fix for any request (a refused key, an unknown model or endpoint)."""


@dataclass(frozen=True)
class ApiSettings:
    """How to reach the server and how hard to try."""

    base_url: str
    concurrency: int = 8
    qps: float | None = None
    """Request starts per second at most (None: no limit)."""
    timeout: float = 600.0
    """Seconds to wait for one response."""
    max_retries: int = 5
    backoff_base: float = 1.0
    backoff_cap: float = 60.0
    retry_after_cap: float = 300.0
    """A longer ``Retry-After`` is cut to this many seconds."""


@dataclass
class ApiStats:
    """Counts over a client's life, for the manifest and the summary."""

    requests: int = 0
    """HTTP requests sent (first tries and retries)."""
    succeeded: int = 0
    failed: int = 0
    """Calls that still failed after their retries."""
    retries: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    """Why requests were retried or failed: ``429``, ``500``, ``timeout``, ``connection``…"""

    def as_dict(self) -> dict[str, Any]:
        """Plain data (sorted status counts)."""
        return {"requests": self.requests, "succeeded": self.succeeded, "failed": self.failed,
                "retries": self.retries, "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens, "statuses": dict(sorted(self.statuses.items()))}


@dataclass(frozen=True)
class _Attempt:
    """One request's end: a body, or why not and whether another try may help."""

    body: Any
    reason: str
    error: str
    retry: bool = True
    retry_after: float | None = None


@dataclass(frozen=True)
class CallOutcome:
    """One call's end: the response body, or the error that stopped it, and how many tries it took."""

    key: Hashable
    body: Mapping[str, Any] | None
    error: str | None
    attempts: int


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds: a number of seconds or an HTTP date; None when absent or unreadable.

    Example:
        >>> retry_after_seconds("3")
        3.0
        >>> retry_after_seconds("soon") is None
        True
    """
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def backoff_delay(attempt: int, settings: ApiSettings, retry_after: float | None = None,
                  rng: random.Random | None = None) -> float:
    """Seconds to wait before retry number ``attempt`` (1, 2, …).

    Exponential (``base * 2**(attempt-1)``, capped) with "equal jitter": half the delay
    fixed, half random, so simultaneous failures spread out. A ``Retry-After`` is a lower
    bound (capped at ``retry_after_cap``).
    """
    draw = rng.uniform if rng is not None else random.uniform
    delay = min(settings.backoff_cap, settings.backoff_base * 2 ** max(0, attempt - 1))
    wait = delay / 2 + draw(0, delay / 2)
    if retry_after is not None:
        wait = max(wait, min(retry_after, settings.retry_after_cap))
    return wait


class RateLimiter:
    """Spaces request starts ``1/qps`` seconds apart; :meth:`pause` holds every start until a time."""

    def __init__(self, qps: float | None) -> None:
        self.interval = 1.0 / qps if qps and qps > 0 else 0.0
        self._next = 0.0
        self._paused_until = 0.0
        self._lock = asyncio.Lock()

    def pause(self, seconds: float) -> None:
        """No request starts for ``seconds`` from now (a server's ``Retry-After``)."""
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)

    async def acquire(self) -> None:
        """Wait for this request's turn."""
        async with self._lock:
            now = time.monotonic()
            start = max(now, self._next, self._paused_until)
            self._next = start + self.interval
        if start > now:
            await asyncio.sleep(start - now)


class ApiClient:
    """POSTs JSON requests to ``settings.base_url`` + path; see the module docstring."""

    def __init__(self, settings: ApiSettings, api_key: str | None = None, *,
                 headers: Mapping[str, str] | None = None, rng: random.Random | None = None) -> None:
        self.settings = settings
        self._key = api_key or None
        self._headers = {"Content-Type": "application/json", **dict(headers or {})}
        if self._key:
            self._headers["Authorization"] = f"Bearer {self._key}"
        self.stats = ApiStats()
        self._rng = rng or random.Random()

    def scrub(self, text: str) -> str:
        """``text`` with the API key replaced by ``***`` (errors echo requests at times)."""
        return text.replace(self._key, "***") if self._key else text

    def url(self, path: str) -> str:
        """The full URL of an endpoint path such as ``/completions``."""
        return self.settings.base_url.rstrip("/") + "/" + path.lstrip("/")

    def _count(self, reason: str) -> None:
        self.stats.statuses[reason] = self.stats.statuses.get(reason, 0) + 1

    async def _attempt(self, http: Any, path: str, payload: Mapping[str, Any]) -> _Attempt:
        """One HTTP request and what became of it."""
        import httpx

        try:
            response = await http.post(self.url(path), json=payload)
        except httpx.TimeoutException:
            return _Attempt(None, "timeout", f"no response within {self.settings.timeout:g} s")
        except httpx.TransportError as err:  # refused, reset or dropped connections, protocol errors
            return _Attempt(None, "connection", f"connection failed ({type(err).__name__}: {err})")
        status = response.status_code
        if status == 200:
            try:
                return _Attempt(response.json(), "ok", "")
            except ValueError:
                return _Attempt(None, "bad_json", "the server sent a response that is not JSON")
        error = f"HTTP {status}: {_error_text(response)}"
        if status in FATAL_STATUSES:
            self._count(str(status))
            raise ApiFatalError(self.scrub(f"{self.url(path)} answered {error}"))
        return _Attempt(None, str(status), error, retry=status in RETRY_STATUSES,
                        retry_after=retry_after_seconds(response.headers.get("retry-after")))

    async def _call(self, http: Any, limiter: RateLimiter, key: Hashable, path: str,
                    payload: Mapping[str, Any]) -> CallOutcome:
        attempt = 0
        while True:
            attempt += 1
            await limiter.acquire()
            self.stats.requests += 1
            got = await self._attempt(http, path, payload)
            if got.body is not None:
                self._usage(got.body)
                self.stats.succeeded += 1
                return CallOutcome(key, got.body, None, attempt)
            if not got.retry:  # 400, 413, 422…: this request is wrong, retrying won't help
                return self._failed(key, got.reason, got.error, attempt)
            if attempt > self.settings.max_retries:
                return self._failed(key, got.reason, got.error + f" (after {attempt} tries)", attempt)
            self._count(got.reason)
            self.stats.retries += 1
            if got.retry_after is not None:
                limiter.pause(min(got.retry_after, self.settings.retry_after_cap))
            await asyncio.sleep(backoff_delay(attempt, self.settings, got.retry_after, self._rng))

    def _failed(self, key: Hashable, reason: str, error: str, attempts: int) -> CallOutcome:
        self._count(reason)
        self.stats.failed += 1
        return CallOutcome(key, None, self.scrub(error), attempts)

    def _usage(self, body: Any) -> None:
        usage = body.get("usage") if isinstance(body, Mapping) else None
        if isinstance(usage, Mapping):
            self.stats.prompt_tokens += int(usage.get("prompt_tokens") or 0)
            self.stats.completion_tokens += int(usage.get("completion_tokens") or 0)

    async def _run(self, jobs: list[tuple[Hashable, str, Mapping[str, Any]]], out: queue.Queue) -> None:
        import httpx

        s = self.settings
        limits = httpx.Limits(max_connections=s.concurrency, max_keepalive_connections=s.concurrency)
        timeout = httpx.Timeout(s.timeout, connect=min(s.timeout, 30.0))
        limiter = RateLimiter(s.qps)
        todo: asyncio.Queue = asyncio.Queue()
        for job in jobs:
            todo.put_nowait(job)

        async def worker(http: Any) -> None:
            while True:
                try:
                    key, path, payload = todo.get_nowait()
                except asyncio.QueueEmpty:
                    return
                out.put(await self._call(http, limiter, key, path, payload))

        async with httpx.AsyncClient(headers=self._headers, timeout=timeout, limits=limits, trust_env=False) as http:
            workers = [asyncio.create_task(worker(http)) for _ in range(max(1, min(s.concurrency, len(jobs))))]
            try:
                await asyncio.gather(*workers)
            finally:
                for w in workers:
                    w.cancel()
                await asyncio.gather(*workers, return_exceptions=True)

    def run(self, jobs: Iterable[tuple[Hashable, str, Mapping[str, Any]]]) -> Iterator[CallOutcome]:
        """POST every ``(key, path, payload)``; yield outcomes as they finish (any order).

        Raises :class:`ApiFatalError` (after stopping the other requests) when the server
        refuses the key or does not know the model or endpoint.
        """
        jobs = list(jobs)
        if not jobs:
            return
        loop = _LoopThread(lambda out: self._run(jobs, out))
        try:
            yield from loop.results()
        finally:
            loop.stop()
        loop.raise_failure()


class _LoopThread:
    """An event loop running one coroutine in a thread of its own; its results come through a queue."""

    def __init__(self, make: Any) -> None:
        self.out: queue.Queue = queue.Queue()
        self.loop = asyncio.new_event_loop()
        self.failure: list[BaseException] = []
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._main, args=(make,), name="toolkit-api", daemon=True)
        self.thread.start()

    def _main(self, make: Any) -> None:
        try:
            self.loop.run_until_complete(make(self.out))
        except BaseException as err:  # noqa: BLE001 - handed to the caller's thread (raise_failure)
            self.failure.append(err)
        finally:
            self.loop.close()
            self.done.set()
            self.out.put(None)

    def results(self) -> Iterator[Any]:
        """Each item the coroutine puts, until it ends."""
        while (item := self.out.get()) is not None:
            yield item

    def stop(self) -> None:
        """Cancel what is in flight when the caller stopped early (Ctrl-C, an error), and wait for the thread."""
        if not self.done.is_set():
            try:
                self.loop.call_soon_threadsafe(self._cancel_all)
            except RuntimeError:  # the loop closed meanwhile
                pass
        self.thread.join(timeout=30)

    def _cancel_all(self) -> None:
        for task in asyncio.all_tasks(self.loop):
            task.cancel()

    def raise_failure(self) -> None:
        """Re-raise, in the caller's thread, what ended the coroutine (not a cancellation)."""
        if self.failure and not isinstance(self.failure[0], asyncio.CancelledError):
            raise self.failure[0]


def _error_text(response: Any) -> str:
    """The server's error message (OpenAI's ``{"error": {"message": …}}`` or the body's start)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, Mapping):
        err = body.get("error", body)
        if isinstance(err, Mapping) and err.get("message"):
            return str(err["message"])[:ERROR_BODY_CHARS]
        if isinstance(err, str):
            return err[:ERROR_BODY_CHARS]
        if body.get("message"):
            return str(body["message"])[:ERROR_BODY_CHARS]
    text = (response.text or "").strip().replace("\n", " ")
    return text[:ERROR_BODY_CHARS] or response.reason_phrase or "no message"
