"""Progress: rate and ETA from the time since a bar started, an overall bar, no foreign bars (issue 10, item 8)."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

import toolkit.cli.progress as progress
from toolkit.cli.progress import PlainDisplay, RichDisplay
from toolkit.engine.events import Finish, Plan, Progress, Start


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(progress.time, "monotonic", fake)
    return fake


def _shown(display: RichDisplay) -> list[str]:
    out = Console(record=True, width=120, color_system=None, file=io.StringIO())
    out.print(display.progress.make_tasks_table(display.progress.tasks))
    return [line.rstrip() for line in out.export_text().splitlines()]


def test_a_slow_dataset_shows_its_rate_and_eta_from_the_first_batch(clock):
    display = RichDisplay(Console(file=io.StringIO(), width=120))
    display.handle("", Plan(total=100))
    display.handle("smol", Start(abbr="ceval-law", total=60, done=0))
    clock.now += 60  # one batch a minute: rich's 30-second speed window would see none
    display.handle("smol", Progress(abbr="ceval-law", n=6))
    overall, bar = _shown(display)
    display.close()
    assert overall.startswith("all datasets") and "6/100" in overall
    assert "0.10 q/s" in overall and "0:01:00 ETA 0:15:40" in overall  # 94 left at 0.1 q/s
    assert "smol ceval-law" in bar and "6/60" in bar and "0.10 q/s" in bar and "0:01:00 ETA 0:09:00" in bar


def test_resumed_questions_count_as_done_but_not_in_the_rate(clock):
    display = RichDisplay(Console(file=io.StringIO(), width=120))
    display.handle("", Plan(total=40))
    display.handle("smol", Start(abbr="a", total=20, done=20))
    display.handle("smol", Finish(abbr="a"))
    display.handle("smol", Start(abbr="b", total=20, done=10))
    clock.now += 10
    display.handle("smol", Progress(abbr="b", n=5))
    overall, first, second = _shown(display)
    display.close()
    assert "35/40" in overall and "0.50 q/s" in overall and "ETA 0:00:10" in overall
    assert "20/20" in first and "done" in first
    assert "15/20" in second and "0.50 q/s" in second and "ETA 0:00:10" in second


def test_plain_lines_carry_the_measured_rate_and_the_whole_run(clock):
    out = io.StringIO()
    display = PlainDisplay(every=5, stream=out)
    display.handle("", Plan(total=100))
    display.handle("smol", Start(abbr="ceval-law", total=60, done=0))
    clock.now += 60
    display.handle("smol", Progress(abbr="ceval-law", n=6))
    assert out.getvalue().splitlines()[-1] == (
        "[smol] ceval-law: 6/60 (0.10 q/s, ETA 0:09:00); all datasets: 6/100, 0:01:00 elapsed, ETA 0:15:40")


def test_transformers_loading_bar_never_reaches_the_terminal(tiny_model_dir, capfd, monkeypatch):
    from transformers.utils import logging as hf_logging

    from toolkit.config.spec import ModelSpec
    from toolkit.models.hf import HFModel

    monkeypatch.setattr("sys.stderr.isatty", lambda: True, raising=False)
    hf_logging.enable_progress_bar()
    try:
        HFModel.load(ModelSpec(abbr="tiny", path=str(tiny_model_dir), hf_type="base"), device="cpu")
        assert not hf_logging.is_progress_bar_enabled()
    finally:
        hf_logging.disable_progress_bar()
    err = capfd.readouterr().err
    assert "Loading weights" not in err and "it/s" not in err


def test_at_80_columns_a_single_models_bars_keep_the_dataset_name_and_every_number(clock):
    console = Console(file=io.StringIO(), width=80)
    display = RichDisplay(console)
    display.handle("", Plan(total=300, models=1))
    display.handle("SmolLM2-135M-Instruct", Start(abbr="ceval-middle_school_mathematics", total=150, done=0))
    clock.now += 30
    display.handle("SmolLM2-135M-Instruct", Progress(abbr="ceval-middle_school_mathematics", n=15))
    out = Console(record=True, width=80, color_system=None, file=io.StringIO())
    out.print(display.progress.make_tasks_table(display.progress.tasks))
    display.close()
    lines = out.export_text().splitlines()
    assert len(lines) == 2 and all(len(line) <= 80 for line in lines)
    assert lines[1].startswith("ceval-middle_school_mathematics") and "SmolLM2" not in lines[1]
    assert lines[1].rstrip().endswith("15/150 0.50 q/s 0:00:30 ETA 0:04:30")
