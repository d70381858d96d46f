"""Plain lines of progress events: what a task's log file holds (``logs/infer/…``, ``logs/eval/…``).

Starts, finishes, warnings, failures and scores are one line each (:meth:`Event.line`); a
dataset's progress is a line every few seconds with its rate and ETA, measured from when
it started. The CLI's plain display is this writer on stderr plus the run's totals.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import Protocol

from toolkit.engine.events import Event, Progress, Start


class TextSink(Protocol):
    """Where lines go: a text file, stderr, or a run's :class:`~toolkit.engine.rundir.LogStream`."""

    def write(self, text: str, /) -> int:
        """Write ``text``."""
        ...

    def flush(self) -> None:
        """Flush what was written."""
        ...


def clock(seconds: float) -> str:
    """``H:MM:SS``.

    Example:
        >>> clock(3725.4)
        '1:02:05'
    """
    seconds = max(0, int(round(seconds)))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


@dataclass
class Tally:
    """Questions done of a total, counted from when they started (``base``: done before, e.g. resumed)."""

    done: int
    total: int
    started: float
    base: int = 0
    shown: float = 0.0
    """When the last progress line was printed."""

    def rate(self, now: float) -> float | None:
        """Questions per second since the start; None before the first one."""
        return (self.done - self.base) / (now - self.started) if self.done > self.base and now > self.started else None

    def eta(self, now: float) -> str:
        """Time left at the measured rate (``-:--:--`` before there is one)."""
        rate = self.rate(now)
        return clock((self.total - self.done) / rate) if rate else "-:--:--"


class EventLog:
    """Writes events as plain lines to ``stream`` (default: the current stderr), a progress line every ``every`` s."""

    def __init__(self, every: float = 5.0, stream: TextSink | None = None) -> None:
        self.every = every
        self.stream = stream
        self.tallies: dict[tuple[str, str], Tally] = {}

    def _line(self, text: str) -> None:
        print(text, file=self.stream or sys.stderr, flush=True)

    def handle(self, model: str, event: Event) -> None:
        """Write ``model``'s event (a dataset's progress only every few seconds)."""
        now = time.monotonic()
        if isinstance(event, Start):
            self.tallies[model, event.abbr] = Tally(event.done, event.total, now, base=event.done, shown=now)
            self.started(event, now)
        elif isinstance(event, Progress):
            tally = self.tallies.get((model, event.abbr))
            if tally is None:
                return
            tally.done += event.n
            self.advanced(event.n)
            if now - tally.shown >= self.every:
                tally.shown = now
                rate = (tally.done - tally.base) / max(now - tally.started, 1e-9)
                eta = clock((tally.total - tally.done) / rate) if rate else "-:--:--"
                self._line(f"[{model}] {event.abbr}: {tally.done}/{tally.total} ({rate:.2f} q/s, ETA {eta})"
                           + self.suffix(now))
            return
        line = event.line(model)
        if line is not None:
            self._line(line)

    def started(self, event: Start, now: float) -> None:
        """A dataset started (a subclass counts it into its totals)."""

    def advanced(self, n: int) -> None:
        """``n`` more questions are done (a subclass counts them into its totals)."""

    def suffix(self, now: float) -> str:
        """What a progress line adds after the dataset's own numbers (a subclass: the whole run's)."""
        return ""

    def close(self) -> None:
        """Nothing to finish: every line is flushed as it is written."""
