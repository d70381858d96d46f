"""The async API client against a local fault-injection server (127.0.0.1): retries, back-off,
Retry-After, concurrency and rate limits, failures recorded per request, the key kept secret."""

from __future__ import annotations

import random
import time

import pytest
from api_fault_server import FaultServer

from toolkit.models.api_client import ApiClient, ApiFatalError, ApiSettings, backoff_delay, retry_after_seconds

FAST = dict(backoff_base=0.05, backoff_cap=0.2)


def jobs(n: int, model: str = "fault-model") -> list:
    return [(i, "/completions", {"model": model, "prompt": f"question {i}", "max_tokens": 4}) for i in range(n)]


def script(plans: dict[int, list[str]]):
    """A plan: question i gets plans[i] attempt by attempt (then "ok"); others always "ok"."""
    def plan(prompt: str, attempt: int) -> str:
        steps = plans.get(int(prompt.split()[-1]), [])
        return steps[attempt - 1] if attempt <= len(steps) else "ok"
    return plan


def test_every_request_ends_with_an_answer_or_a_recorded_error() -> None:
    plans = {1: ["429", "ok"], 2: ["500", "503", "ok"], 3: ["slow", "ok"], 4: ["drop", "ok"], 5: ["reset", "ok"],
             6: ["500"] * 10, 7: ["400"], 8: ["drop"] * 10}
    with FaultServer(script(plans), retry_after="0", slow_seconds=1.5) as server:
        client = ApiClient(ApiSettings(server.url, concurrency=4, timeout=0.5, max_retries=3, **FAST))
        outcomes = {o.key: o for o in client.run(jobs(20))}
    assert sorted(outcomes) == list(range(20))  # nothing lost
    failed = {k for k, o in outcomes.items() if o.error}
    assert failed == {6, 7, 8}
    assert all(outcomes[k].body["choices"][0]["text"] for k in outcomes if k not in failed)
    assert "HTTP 500" in outcomes[6].error and "after 4 tries" in outcomes[6].error
    assert outcomes[7].attempts == 1 and "HTTP 400" in outcomes[7].error  # a bad request is not retried
    assert "connection" in outcomes[8].error
    assert outcomes[2].attempts == 3 and outcomes[3].attempts == 2
    s = client.stats
    # retries: 1 (429) + 2 (5xx) + 1 (slow) + 1 (drop) + 1 (reset) + 3 (6) + 3 (8)
    assert s.retries == 12
    assert s.requests == len(server.log) == 20 + 12
    assert (s.succeeded, s.failed) == (17, 3)
    assert s.statuses["timeout"] == 1 and s.statuses["429"] == 1 and s.statuses["connection"] >= 5


def test_retry_after_is_honoured_and_pauses_every_request() -> None:
    plans = {0: ["429", "ok"]}
    with FaultServer(script(plans), retry_after="1") as server:
        client = ApiClient(ApiSettings(server.url, concurrency=1, **FAST))
        started = time.monotonic()
        assert not [o for o in client.run(jobs(3)) if o.error]
    first, retry = [e.at for e in server.log if e.prompt == "question 0"]
    assert retry - first >= 1.0
    # the other questions were held back too (one worker, and the pause applies to all starts)
    assert time.monotonic() - started >= 1.0


def test_retry_after_as_an_http_date() -> None:
    from email.utils import formatdate

    now = time.time()
    assert retry_after_seconds(formatdate(now + 30, usegmt=True), now=now) == pytest.approx(30, abs=1)
    assert retry_after_seconds(formatdate(now - 30, usegmt=True), now=now) == 0
    assert retry_after_seconds(None) is None and retry_after_seconds("") is None


def test_backoff_grows_exponentially_with_jitter_and_is_capped() -> None:
    s = ApiSettings("http://x", backoff_base=1.0, backoff_cap=8.0)
    rng = random.Random(0)
    waits = [[backoff_delay(a, s, rng=rng) for _ in range(50)] for a in (1, 2, 3, 4, 5, 6)]
    for attempt, ws in enumerate(waits, start=1):
        full = min(8.0, 2 ** (attempt - 1))
        assert all(full / 2 <= w <= full for w in ws)
        assert len({round(w, 6) for w in ws}) > 40  # jittered
    assert backoff_delay(1, s, retry_after=5.0, rng=rng) >= 5.0
    assert backoff_delay(1, s, retry_after=10_000.0, rng=rng) == s.retry_after_cap


def test_concurrency_is_bounded() -> None:
    with FaultServer(lambda p, a: "slow", slow_seconds=0.2) as server:
        client = ApiClient(ApiSettings(server.url, concurrency=3, timeout=5, **FAST))
        assert len(list(client.run(jobs(12)))) == 12
    assert server.max_in_flight == 3


def test_requests_per_second_limit() -> None:
    with FaultServer() as server:
        client = ApiClient(ApiSettings(server.url, concurrency=8, qps=10, **FAST))
        assert len(list(client.run(jobs(8)))) == 8
    times = sorted(e.at for e in server.log)
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert min(gaps) >= 0.09  # 10 a second, whatever the concurrency
    assert times[-1] - times[0] >= 0.65


def test_a_refused_key_stops_the_run_and_the_key_is_never_in_the_message() -> None:
    secret = "sk-test-DO-NOT-LEAK-1234567890"
    with FaultServer(lambda p, a: "401") as server:
        client = ApiClient(ApiSettings(server.url, concurrency=2, **FAST), secret)
        with pytest.raises(ApiFatalError) as info:
            list(client.run(jobs(10)))
        assert server.log[0].authorization == f"Bearer {secret}"
    assert "401" in str(info.value) and secret not in str(info.value)
    assert len(server.log) <= 2  # the other requests were never sent


def test_an_unknown_model_is_fatal() -> None:
    with FaultServer() as server:
        client = ApiClient(ApiSettings(server.url, **FAST))
        with pytest.raises(ApiFatalError, match="does not exist"):
            list(client.run(jobs(3, model="nope")))


def test_scrub_removes_the_key() -> None:
    client = ApiClient(ApiSettings("http://127.0.0.1:9"), "sk-abc")
    assert client.scrub("bad key sk-abc given") == "bad key *** given"
    assert ApiClient(ApiSettings("http://127.0.0.1:9")).scrub("x") == "x"


def test_connection_refused_is_recorded_per_request() -> None:
    import socket

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = ApiClient(ApiSettings(f"http://127.0.0.1:{port}/v1", max_retries=1, **FAST))
    outcomes = list(client.run(jobs(2)))
    assert len(outcomes) == 2 and all("connection failed" in o.error for o in outcomes)
    assert client.stats.retries == 2 and client.stats.failed == 2
