"""Progress you can see: a rich bar per dataset and one over all datasets, with questions/s, elapsed
time and ETA, or plain lines.

The display is chosen once (rich on a terminal, plain lines otherwise, or none)
and fed with the events of the run (``plan``: the questions of the whole run) and of
its tasks (``start``, ``progress``, ``finish``, ``warning``, ``error``, ``loading``,
``loaded``). Rates and ETAs are measured from the time each bar started, so they
show from the first batch on even when batches come minutes apart. It writes to
stderr only.
"""

from __future__ import annotations

import sys
import time
from typing import Any, Protocol, TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TaskID, TextColumn
from rich.text import Text


class Display(Protocol):
    """Receives task events."""

    def handle(self, model: str, event: dict[str, Any]) -> None:
        """Show one event of ``model``'s task."""
        ...

    def close(self) -> None:
        """Finish the display."""
        ...


class NullDisplay:
    """Shows nothing."""

    def handle(self, model: str, event: dict[str, Any]) -> None:  # noqa: D102
        return None

    def close(self) -> None:  # noqa: D102
        return None


def clock(seconds: float) -> str:
    """``H:MM:SS``.

    Example:
        >>> clock(3725.4)
        '1:02:05'
    """
    seconds = max(0, int(round(seconds)))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def measured_rate(task: Any, now: float | None = None) -> float | None:
    """Questions per second since the bar started (rich's own speed looks at the last 30 s only,
    which on a CPU often holds no batch at all); None before the first batch."""
    started = task.fields.get("started")
    if started is None:
        return None
    end = task.fields.get("ended") or (time.monotonic() if now is None else now)
    done = task.completed - task.fields.get("base", 0)
    return done / (end - started) if done > 0 and end > started else None


class _Rate(ProgressColumn):
    def render(self, task: Any) -> Text:  # noqa: D102
        rate = measured_rate(task)
        return Text(f"{rate:.2f} q/s" if rate else "  — q/s", style="progress.data.speed")


class _Time(ProgressColumn):
    """Elapsed since the bar started, then the ETA from the measured rate (or the time it took)."""

    def render(self, task: Any) -> Text:  # noqa: D102
        started = task.fields.get("started")
        if started is None:
            return Text("")
        end = task.fields.get("ended") or time.monotonic()
        elapsed = clock(end - started)
        if task.fields.get("ended") or (task.total is not None and task.completed >= task.total):
            return Text(f"{elapsed} done", style="progress.elapsed")
        rate = measured_rate(task, end)
        eta = clock((task.total - task.completed) / rate) if rate and task.total is not None else "-:--:--"
        return Text(f"{elapsed} ETA {eta}", style="progress.remaining")


def shorten(text: str, width: int) -> str:
    """``text`` cut in the middle to at most ``width`` characters (both ends stay readable).

    Example:
        >>> shorten("SmolLM2-135M-Instruct", 12)
        'SmolL…struct'
    """
    if len(text) <= width:
        return text
    head = (width - 1) // 2
    return text[:head] + "…" + text[len(text) - (width - 1 - head):]


OTHER_COLUMNS = 40
"""Characters the count, rate, elapsed time and ETA need (the bar comes on top), so that a long name never
pushes them off the line."""
OVERALL = "all datasets"


class RichDisplay:
    """One bar per (model, dataset) on stderr, and one over all of them; names are shortened so the
    numbers always fit. Rates and ETAs come from the time since each bar started."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(file=sys.stderr)
        width = self.console.width
        self.bar_width = None if width >= 120 else 16 if width >= 100 else 8
        self.progress = Progress(
            TextColumn("{task.description}"), BarColumn(bar_width=self.bar_width),
            MofNCompleteColumn(), _Rate(), _Time(),
            console=self.console, transient=False,
        )
        self.progress.start()
        self.bars: dict[tuple[str, str], TaskID] = {}
        self.overall: TaskID | None = None
        self.models = 0
        """How many models the run has (from ``plan``): with one, bars are labelled by dataset alone."""

    def _label(self, text: str) -> str:
        return shorten(text, max(16, self.console.width - OTHER_COLUMNS - (self.bar_width or 40)))

    def _started(self, bar: TaskID, base: int) -> None:
        self.progress.update(bar, started=time.monotonic(), base=base)

    def handle(self, model: str, event: dict[str, Any]) -> None:  # noqa: D102
        kind, abbr = event.get("event"), event.get("abbr", "")
        key = (model, abbr)
        if kind == "plan":
            self.models = event.get("models", 0)
            self.overall = self.progress.add_task(self._label(OVERALL), total=event["total"], completed=0)
        elif kind == "start":
            done = event.get("done", 0)
            label = abbr if self.models == 1 else f"{shorten(model, 16)} {abbr}"
            self.bars[key] = self.progress.add_task(self._label(label), total=event["total"], completed=done)
            self._started(self.bars[key], done)
            if self.overall is not None:
                task = self.progress.tasks[self.overall]
                if task.fields.get("started") is None:
                    self._started(self.overall, 0)
                self.progress.update(self.overall, advance=done, base=task.fields.get("base", 0) + done)
        elif kind == "progress" and key in self.bars:
            self.progress.advance(self.bars[key], event["n"])
            if self.overall is not None:
                self.progress.advance(self.overall, event["n"])
        elif kind in ("finish", "error") and key in self.bars:
            self.progress.update(self.bars[key], ended=time.monotonic())
        elif kind == "warning":
            self.progress.console.print(f"[yellow]warning[/yellow] {model} {abbr}: {event['message']}".replace(" : ", ": "))
        elif kind == "error":
            self.progress.console.print(f"[red]failed[/red] {model} {abbr}: {event['error']}")
        elif kind == "loading":
            self.progress.console.print(f"loading model {model} …")
        elif kind == "note":
            self.progress.console.print(event["message"])

    def close(self) -> None:  # noqa: D102
        if self.overall is not None:
            self.progress.update(self.overall, ended=time.monotonic())
        self.progress.stop()


class PlainDisplay:
    """Plain lines on stderr (no terminal): starts, finishes and a line every few seconds."""

    def __init__(self, every: float = 5.0, stream: TextIO | None = None) -> None:
        self.every = every
        self.stream = stream
        """Where the lines go (default: the current stderr); a task's log file for the runners."""
        self.state: dict[tuple[str, str], list[float]] = {}
        self.overall: list[float] | None = None
        """done, total, started (None until the first dataset starts), done when it started."""

    def _line(self, text: str) -> None:
        print(text, file=self.stream or sys.stderr, flush=True)

    def _overall_text(self, now: float) -> str:
        if self.overall is None or self.overall[2] is None:
            return ""
        done, total, started, base = self.overall
        rate = (done - base) / (now - started) if done > base and now > started else None
        eta = clock((total - done) / rate) if rate else "-:--:--"
        return f"; {OVERALL}: {int(done)}/{int(total)}, {clock(now - started)} elapsed, ETA {eta}"

    def handle(self, model: str, event: dict[str, Any]) -> None:  # noqa: D102
        kind, abbr = event.get("event"), event.get("abbr", "")
        key = (model, abbr)
        now = time.monotonic()
        if kind == "plan":
            self.overall = [0, event["total"], None, 0]
        elif kind == "start":
            done = event.get("done", 0)
            self.state[key] = [done, event["total"], now, now, done]
            if self.overall is not None:
                if self.overall[2] is None:
                    self.overall[2] = now
                self.overall[0] += done
                self.overall[3] += done
            self._line(f"[{model}] {abbr}: {done}/{event['total']} done, starting")
        elif kind == "progress" and key in self.state:
            st = self.state[key]
            st[0] += event["n"]
            if self.overall is not None:
                self.overall[0] += event["n"]
            if now - st[3] >= self.every:
                st[3] = now
                rate = (st[0] - st[4]) / max(now - st[2], 1e-9)
                eta = clock((st[1] - st[0]) / rate) if rate else "-:--:--"
                self._line(f"[{model}] {abbr}: {int(st[0])}/{int(st[1])} ({rate:.2f} q/s, ETA {eta})"
                           + self._overall_text(now))
        elif kind == "finish":
            self._line(f"[{model}] {abbr}: finished" + (f" in {event['seconds']}s" if "seconds" in event else ""))
        elif kind == "warning":
            self._line(f"warning [{model}] {abbr}: {event['message']}")
        elif kind == "error":
            self._line(f"failed [{model}] {abbr}: {event['error']}")
        elif kind == "loading":
            self._line(f"loading model {model} …")
        elif kind == "loaded":
            self._line(f"loaded model {model}")
        elif kind == "note":
            self._line(event["message"])
        elif kind == "scored":
            shown = f" {event['value']:.2f}" if event.get("value") is not None else f" {event.get('error') or ''}"
            self._line(f"[{model}] {abbr}: scored {event['status']}{shown}".rstrip())

    def close(self) -> None:  # noqa: D102
        return None


class QuietDisplay(PlainDisplay):
    """``--display none``: no progress, but notes, warnings and failures still reach stderr."""

    def handle(self, model: str, event: dict[str, Any]) -> None:  # noqa: D102
        if event.get("event") in ("note", "warning", "error"):
            super().handle(model, event)


def make_display(kind: str = "auto") -> Display:
    """``auto`` (rich on a terminal, else plain), ``rich``, ``plain`` or ``none`` (messages only)."""
    if kind == "auto":
        kind = "rich" if sys.stderr.isatty() else "plain"
    return {"rich": RichDisplay, "plain": PlainDisplay, "none": QuietDisplay}[kind]()
