"""Progress events: what a run and its tasks tell whoever shows progress, as frozen dataclasses.

The engine emits them; a :class:`Display` (the CLI's rich bars or plain lines, a task's log
file, a test's recorder) receives each with the model it concerns. They become JSON only
where a worker process talks to its runner (:func:`to_json` on one side, :func:`from_json`
on the other: ``@@toolkit {"event": "start", "abbr": …}`` lines on the worker's stdout).

Each event knows its one plain line (:meth:`line`), which the task logs and the plain
display print; a new event is one class here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol


@dataclass(frozen=True)
class Event:
    """Base class: ``KIND`` names the event on the wire."""

    KIND: ClassVar[str] = ""

    def line(self, model: str) -> str | None:
        """The event as one plain line (None: not shown as a line of its own)."""
        return None


@dataclass(frozen=True)
class Plan(Event):
    """The run's questions: ``total`` over all datasets and ``models`` models (before any task starts)."""

    KIND: ClassVar[str] = "plan"
    total: int
    models: int = 0


@dataclass(frozen=True)
class Start(Event):
    """A dataset (slice) starts: ``total`` questions, ``done`` of them already predicted (resumed)."""

    KIND: ClassVar[str] = "start"
    abbr: str
    total: int
    done: int = 0

    def line(self, model: str) -> str:
        """``[model] abbr: done/total done, starting``."""
        return f"[{model}] {self.abbr}: {self.done}/{self.total} done, starting"


@dataclass(frozen=True)
class Progress(Event):
    """``n`` more questions of a dataset were predicted."""

    KIND: ClassVar[str] = "progress"
    abbr: str
    n: int


@dataclass(frozen=True)
class Finish(Event):
    """A dataset (slice) is predicted; ``seconds`` when it inferred anything."""

    KIND: ClassVar[str] = "finish"
    abbr: str
    seconds: float | None = None

    def line(self, model: str) -> str:
        """``[model] abbr: finished`` (``in N s`` when it inferred anything)."""
        return f"[{model}] {self.abbr}: finished" + (f" in {self.seconds}s" if self.seconds is not None else "")


@dataclass(frozen=True)
class Warned(Event):
    """Something a person should know that does not stop the task (``abbr``: the dataset, if one)."""

    KIND: ClassVar[str] = "warning"
    message: str
    abbr: str | None = None

    def line(self, model: str) -> str:
        """``warning [model] abbr: message``."""
        return f"warning [{model}] {self.abbr or ''}: {self.message}"


@dataclass(frozen=True)
class Failed(Event):
    """A dataset failed; ``error`` is the error's last line (the whole one is in the run's status folder)."""

    KIND: ClassVar[str] = "error"
    abbr: str
    error: str

    def line(self, model: str) -> str:
        """``failed [model] abbr: error``."""
        return f"failed [{model}] {self.abbr}: {self.error}"


@dataclass(frozen=True)
class Loading(Event):
    """A model starts loading."""

    KIND: ClassVar[str] = "loading"
    model: str

    def line(self, model: str) -> str:
        """``loading model NAME …``."""
        return f"loading model {model} …"


@dataclass(frozen=True)
class Loaded(Event):
    """A model is loaded; ``describe`` is what its backend says of it (for the manifest)."""

    KIND: ClassVar[str] = "loaded"
    model: str
    describe: Mapping[str, Any] = field(default_factory=dict)

    def line(self, model: str) -> str:
        """``loaded model NAME``."""
        return f"loaded model {model}"


@dataclass(frozen=True)
class Note(Event):
    """A message about the whole run (the device it uses, a setting a config overrides, …)."""

    KIND: ClassVar[str] = "note"
    message: str

    def line(self, model: str) -> str:
        """The message itself."""
        return self.message


@dataclass(frozen=True)
class Scored(Event):
    """A dataset's predictions were scored: its result's status and value (or error)."""

    KIND: ClassVar[str] = "scored"
    abbr: str
    status: str
    value: float | None = None
    error: str | None = None

    def line(self, model: str) -> str:
        """``[model] abbr: scored STATUS VALUE`` (or the error instead of the value)."""
        shown = f" {self.value:.2f}" if self.value is not None else f" {self.error or ''}"
        return f"[{model}] {self.abbr}: scored {self.status}{shown}".rstrip()


@dataclass(frozen=True)
class Merged(Event):
    """A dataset's predictions were merged into OpenCompass's file without scoring (``--mode infer``)."""

    KIND: ClassVar[str] = "merged"
    abbr: str


@dataclass(frozen=True)
class Usage(Event):
    """What a task's requests to an API cost: requests, retries, failures and tokens (:func:`add_usage` sums them)."""

    KIND: ClassVar[str] = "usage"
    usage: Mapping[str, Any] = field(default_factory=dict)

    def line(self, model: str) -> str:
        """``[model] API usage: …``."""
        return f"[{model}] API usage: {usage_text(self.usage)}"


def usage_text(usage: Mapping[str, Any]) -> str:
    """``12 requests (2 retries, 1 failed), 3,456 prompt + 78 completion tokens``."""
    return (f"{usage.get('requests', 0):,} requests ({usage.get('retries', 0):,} retries, "
            f"{usage.get('failed', 0):,} failed), {usage.get('prompt_tokens', 0):,} prompt + "
            f"{usage.get('completion_tokens', 0):,} completion tokens")


def add_usage(total: Mapping[str, Any], more: Mapping[str, Any]) -> dict[str, Any]:
    """Two usage counts added up, key by key (``statuses`` too).

    Example:
        >>> add_usage({"requests": 2, "statuses": {"429": 1}}, {"requests": 3, "statuses": {"429": 1, "500": 2}})
        {'requests': 5, 'statuses': {'429': 2, '500': 2}}
    """
    out: dict[str, Any] = dict(total)
    for key, value in more.items():
        if isinstance(value, Mapping):
            out[key] = add_usage(out.get(key) or {}, value)
        elif isinstance(value, (int, float)):
            out[key] = out.get(key, 0) + value
    return out


@dataclass(frozen=True)
class Interrupted(Event):
    """The worker was interrupted (Ctrl-C); what it saved stays."""

    KIND: ClassVar[str] = "interrupted"


EVENTS: Mapping[str, type[Event]] = {cls.KIND: cls for cls in (Plan, Start, Progress, Finish, Warned, Failed, Loading,
                                                               Loaded, Note, Scored, Merged, Usage, Interrupted)}
EventSink = Callable[[Event], None]
"""Where a task sends its events."""


def to_json(event: Event) -> dict[str, Any]:
    """The wire form: ``{"event": KIND, field: value…}``, fields that are None left out."""
    data: dict[str, Any] = {"event": event.KIND}
    for f in dataclasses.fields(event):
        value = getattr(event, f.name)
        if value is not None:
            data[f.name] = dict(value) if isinstance(value, Mapping) else value
    return data


def from_json(data: Mapping[str, Any]) -> Event | None:
    """The event a worker sent; None for what is no event (an unknown kind or fields)."""
    cls = EVENTS.get(str(data.get("event")))
    if cls is None:
        return None
    try:
        return cls(**{k: v for k, v in data.items() if k != "event"})
    except TypeError:
        return None


class Display(Protocol):
    """Receives the events of a run, each with the model it concerns ("" for the whole run)."""

    def handle(self, model: str, event: Event) -> None:
        """Show one event."""
        ...

    def close(self) -> None:
        """Finish the display (the run's inference is over)."""
        ...


class NullDisplay:
    """Shows nothing."""

    def handle(self, model: str, event: Event) -> None:
        """Show nothing."""

    def close(self) -> None:
        """Nothing to finish."""
