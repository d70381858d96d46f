"""Typed progress events: one class per kind, JSON only on the worker's stdout, one plain line each."""

from __future__ import annotations

import pytest

from toolkit.engine.events import (
    EVENTS,
    Failed,
    Finish,
    Interrupted,
    Loaded,
    Loading,
    Merged,
    Note,
    Plan,
    Progress,
    Scored,
    Start,
    Warned,
    from_json,
    to_json,
)

EXAMPLES = [Plan(100, 2), Start("x-a", 60, 10), Progress("x-a", 6), Finish("x-a", 1.5), Finish("x-a"),
            Warned("slow", "x-a"), Warned("no pad token"), Failed("x-a", "boom"), Loading("m"),
            Loaded("m", {"dtype": "float32"}), Note("note: cpu"), Scored("x-a", "ok", 50.0), Scored("x-b", "failed",
            error="boom"), Merged("x-a"), Interrupted()]


@pytest.mark.parametrize("event", EXAMPLES, ids=lambda e: type(e).__name__)
def test_every_event_survives_the_worker_boundary(event):
    wire = to_json(event)
    assert wire["event"] == event.KIND and from_json(wire) == event


def test_the_wire_form_is_the_one_workers_have_always_written():
    assert to_json(Start("x-a", 60, 10)) == {"event": "start", "abbr": "x-a", "total": 60, "done": 10}
    assert to_json(Finish("x-a")) == {"event": "finish", "abbr": "x-a"}
    assert to_json(Warned("no pad token")) == {"event": "warning", "message": "no pad token"}
    assert set(EVENTS) == {"plan", "start", "progress", "finish", "warning", "error", "loading", "loaded", "note",
                           "scored", "merged", "usage", "interrupted"}  # usage: issue 12's API backend


def test_what_is_no_event_is_refused_not_guessed():
    assert from_json({"event": "teleport"}) is None
    assert from_json({"event": "start", "abbr": "x"}) is None  # a field missing
    assert from_json({"event": "start", "abbr": "x", "total": 1, "colour": "red"}) is None


def test_each_event_has_its_plain_line():
    lines = {type(e).__name__ + str(i): e.line("m") for i, e in enumerate(EXAMPLES)}
    assert lines["Start1"] == "[m] x-a: 10/60 done, starting"
    assert lines["Finish3"] == "[m] x-a: finished in 1.5s" and lines["Finish4"] == "[m] x-a: finished"
    assert lines["Warned5"] == "warning [m] x-a: slow" and lines["Failed7"] == "failed [m] x-a: boom"
    assert lines["Scored11"] == "[m] x-a: scored ok 50.00" and lines["Scored12"] == "[m] x-b: scored failed boom"
    assert lines["Plan0"] is None and lines["Progress2"] is None and lines["Merged13"] is None
