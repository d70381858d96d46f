"""Progress you can see on stderr: a rich bar per dataset and one over all datasets, with questions/s,
elapsed time and ETA, or plain lines, or only the messages.

The display is chosen once (:func:`make_display`: rich on a terminal, plain lines otherwise)
and the engine feeds it the run's typed events (:mod:`toolkit.engine.events`) through the
:class:`~toolkit.engine.events.Display` protocol. Rates and ETAs are measured from the time
each bar started, so they show from the first batch on even when batches come minutes apart.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, ProgressColumn, TaskID, TextColumn
from rich.progress import Progress as Bars
from rich.text import Text

from toolkit.engine.events import Display, Event, Failed, Finish, Loading, Note, Plan, Progress, Start, Warned
from toolkit.engine.tasklog import EventLog, Tally, TextSink, clock


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
    def render(self, task: Any) -> Text:
        rate = measured_rate(task)
        return Text(f"{rate:.2f} q/s" if rate else "  — q/s", style="progress.data.speed")


class _Time(ProgressColumn):
    """Elapsed since the bar started, then the ETA from the measured rate (or the time it took)."""

    def render(self, task: Any) -> Text:
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
        self.progress = Bars(
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

    def handle(self, model: str, event: Event) -> None:
        """Add, advance or end a bar, or print a message above the bars."""
        if isinstance(event, Plan):
            self.models = event.models
            self.overall = self.progress.add_task(self._label(OVERALL), total=event.total, completed=0)
        elif isinstance(event, Start):
            self._start(model, event)
        elif isinstance(event, Progress):
            if (model, event.abbr) in self.bars:
                self.progress.advance(self.bars[model, event.abbr], event.n)
                if self.overall is not None:
                    self.progress.advance(self.overall, event.n)
        elif isinstance(event, (Finish, Failed)) and (model, event.abbr) in self.bars:
            self.progress.update(self.bars[model, event.abbr], ended=time.monotonic())
        else:
            self._message(model, event)

    def _start(self, model: str, event: Start) -> None:
        label = event.abbr if self.models == 1 else f"{shorten(model, 16)} {event.abbr}"
        bar = self.bars[model, event.abbr] = self.progress.add_task(self._label(label), total=event.total,
                                                                     completed=event.done)
        self._started(bar, event.done)
        if self.overall is not None:
            task = self.progress.tasks[self.overall]
            if task.fields.get("started") is None:
                self._started(self.overall, 0)
            self.progress.update(self.overall, advance=event.done, base=task.fields.get("base", 0) + event.done)

    def _message(self, model: str, event: Event) -> None:
        """Warnings, failures (of a dataset without a bar), a model loading, notes: one line above the bars."""
        if isinstance(event, Warned):
            text = f"[yellow]warning[/yellow] {model} {event.abbr or ''}: {event.message}".replace(" : ", ": ")
        elif isinstance(event, Failed):
            text = f"[red]failed[/red] {model} {event.abbr}: {event.error}"
        elif isinstance(event, Loading):
            text = f"loading model {model} …"
        elif isinstance(event, Note):
            text = event.message
        else:
            return
        self.progress.console.print(text)

    def close(self) -> None:
        """End the overall bar's clock and stop redrawing."""
        if self.overall is not None:
            self.progress.update(self.overall, ended=time.monotonic())
        self.progress.stop()


class PlainDisplay(EventLog):
    """Plain lines on stderr (no terminal): starts, finishes, and a line every few seconds with the
    dataset's rate and ETA and the whole run's (after the run's :class:`~toolkit.engine.events.Plan`)."""

    def __init__(self, every: float = 5.0, stream: TextSink | None = None) -> None:
        super().__init__(every, stream)
        self.overall: Tally | None = None
        """The whole run's questions; its clock starts with the first dataset."""
        self.overall_started = False

    def handle(self, model: str, event: Event) -> None:
        """Write the event; a plan sets up the run's totals."""
        if isinstance(event, Plan):
            self.overall = Tally(0, event.total, 0.0)
            return
        super().handle(model, event)

    def started(self, event: Start, now: float) -> None:
        """Count a started dataset's resumed questions as done (but not into the rate)."""
        if self.overall is None:
            return
        if not self.overall_started:
            self.overall.started, self.overall_started = now, True
        self.overall.done += event.done
        self.overall.base += event.done

    def advanced(self, n: int) -> None:
        """Count ``n`` more questions into the run's total."""
        if self.overall is not None:
            self.overall.done += n

    def suffix(self, now: float) -> str:
        """``; all datasets: done/total, elapsed, ETA`` once a dataset has started."""
        if self.overall is None or not self.overall_started:
            return ""
        o = self.overall
        return f"; {OVERALL}: {o.done}/{o.total}, {clock(now - o.started)} elapsed, ETA {o.eta(now)}"


class QuietDisplay(PlainDisplay):
    """``--display none``: no progress, but notes, warnings and failures still reach stderr."""

    def handle(self, model: str, event: Event) -> None:
        """Write only notes, warnings and failures."""
        if isinstance(event, (Note, Warned, Failed)):
            super().handle(model, event)


def make_display(kind: str = "auto") -> Display:
    """``auto`` (rich on a terminal, else plain), ``rich``, ``plain`` or ``none`` (messages only)."""
    if kind == "auto":
        kind = "rich" if sys.stderr.isatty() else "plain"
    return {"rich": RichDisplay, "plain": PlainDisplay, "none": QuietDisplay}[kind]()
