"""Progress you can see: a rich bar per dataset with questions/s and ETA, or plain lines.

The display is chosen once (rich on a terminal, plain lines otherwise, or none)
and fed with the events tasks emit (``start``, ``progress``, ``finish``,
``warning``, ``error``, ``loading``, ``loaded``). It writes to stderr only.
"""

from __future__ import annotations

import sys
import time
from typing import Any, Protocol, TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn


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


class _Rate(TextColumn):
    def __init__(self) -> None:
        super().__init__("")

    def render(self, task: Any) -> Any:  # noqa: D102
        from rich.text import Text

        speed = task.finished_speed or task.speed
        return Text(f"{speed:.2f} q/s" if speed else "  — q/s", style="progress.data.speed")


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


OTHER_COLUMNS = 52
"""Characters the bar, count, rate and ETA need, so that a long name never pushes them off the line."""


class RichDisplay:
    """One bar per (model, dataset) on stderr; names are shortened so the numbers always fit."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(file=sys.stderr)
        self.progress = Progress(
            TextColumn("{task.description}"), BarColumn(bar_width=None if self.console.width >= 120 else 16),
            MofNCompleteColumn(), _Rate(), TextColumn("ETA"), TimeRemainingColumn(),
            console=self.console, transient=False,
        )
        self.progress.start()
        self.bars: dict[tuple[str, str], TaskID] = {}

    def handle(self, model: str, event: dict[str, Any]) -> None:  # noqa: D102
        kind, abbr = event.get("event"), event.get("abbr", "")
        key = (model, abbr)
        if kind == "start":
            label = shorten(f"{shorten(model, 16)} {abbr}", max(16, self.console.width - OTHER_COLUMNS))
            self.bars[key] = self.progress.add_task(label, total=event["total"], completed=event.get("done", 0))
        elif kind == "progress" and key in self.bars:
            self.progress.advance(self.bars[key], event["n"])
        elif kind == "warning":
            self.progress.console.print(f"[yellow]warning[/yellow] {model} {abbr}: {event['message']}".replace(" : ", ": "))
        elif kind == "error":
            self.progress.console.print(f"[red]failed[/red] {model} {abbr}: {event['error']}")
        elif kind == "loading":
            self.progress.console.print(f"loading model {model} …")
        elif kind == "note":
            self.progress.console.print(event["message"])

    def close(self) -> None:  # noqa: D102
        self.progress.stop()


class PlainDisplay:
    """Plain lines on stderr (no terminal): starts, finishes and a line every few seconds."""

    def __init__(self, every: float = 5.0, stream: TextIO | None = None) -> None:
        self.every = every
        self.stream = stream
        """Where the lines go (default: the current stderr); a task's log file for the runners."""
        self.state: dict[tuple[str, str], list[float]] = {}

    def _line(self, text: str) -> None:
        print(text, file=self.stream or sys.stderr, flush=True)

    def handle(self, model: str, event: dict[str, Any]) -> None:  # noqa: D102
        kind, abbr = event.get("event"), event.get("abbr", "")
        key = (model, abbr)
        now = time.monotonic()
        if kind == "start":
            self.state[key] = [event.get("done", 0), event["total"], now, now, event.get("done", 0)]
            self._line(f"[{model}] {abbr}: {event.get('done', 0)}/{event['total']} done, starting")
        elif kind == "progress" and key in self.state:
            st = self.state[key]
            st[0] += event["n"]
            if now - st[3] >= self.every:
                st[3] = now
                rate = (st[0] - st[4]) / max(now - st[2], 1e-9)
                eta = (st[1] - st[0]) / rate if rate else float("inf")
                self._line(f"[{model}] {abbr}: {int(st[0])}/{int(st[1])} ({rate:.2f} q/s, ETA {eta:.0f}s)")
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
