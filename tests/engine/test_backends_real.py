"""The API and vLLM backends on real parts (slow; CI runs these too).

One ``vllm serve`` of the demo model per session (vLLM's own venv, made by
tests/vllm_env.py), 60 C-Eval val questions (3 subjects, 5-shot, OpenCompass's
stock ``ceval_gen`` config): our API backend against that server and our offline
``--backend vllm`` give the HF backend's answers (≥ 99 %; the rates are printed and
recorded as test properties) on byte-identical prompts, in gen and choice modes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

SUBJECTS = ("plant_protection", "art_studies", "college_chemistry")  # short 5-shot prompts, 20+ val questions each
PER_SUBJECT = 20
API_CHOICE_PER_SUBJECT = int(os.environ.get("TOOLKIT_TEST_API_CHOICE_PER_SUBJECT", "4"))
"""Choice through the server checks the first 4 questions of each subject by default (12): vLLM computes
log-probabilities for every echoed prompt token, ~10 s of server CPU a question here, so all 60 would take
~10 minutes of CI. 20 checks all 60 (done for bench/RESULTS.md's api_bench section: 60/60)."""
REPO = Path(__file__).resolve().parents[2]


def _ceval_head(shared_dir: Path, dst: Path, per_subject: int) -> Path:
    """3 C-Eval subjects with their first ``per_subject`` val questions (dev whole: the 5 examples)."""
    src = shared_dir / "data" / "ceval"
    for s in SUBJECTS:
        for split in ("dev", "test"):
            (dst / split).mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src / split / f"{s}_{split}.csv", dst / split / f"{s}_{split}.csv")
        (dst / "val").mkdir(exist_ok=True)
        lines = (src / "val" / f"{s}_val.csv").read_text(encoding="utf-8").splitlines(keepends=True)
        (dst / "val" / f"{s}_val.csv").write_text("".join(lines[: per_subject + 1]), encoding="utf-8")
    return dst


@pytest.fixture(scope="session")
def ceval60(shared_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3 C-Eval subjects with their first 20 val questions."""
    return _ceval_head(shared_dir, tmp_path_factory.mktemp("ceval60"), PER_SUBJECT)


@pytest.fixture(scope="session")
def vllm_python() -> Path:
    """vLLM's own venv (made once, minutes; reused from the cache or $TOOLKIT_VLLM_VENV)."""
    sys.path.insert(0, str(REPO / "tests"))
    from vllm_env import ensure_vllm_venv

    started = time.monotonic()
    python = ensure_vllm_venv()
    print(f"\nvLLM venv ready in {time.monotonic() - started:.0f} s: {python}", file=sys.stderr)
    return python


@pytest.fixture(scope="module")
def vllm_server(vllm_python: Path, demo_model_dir: Path):
    """``vllm serve`` of the demo model on 127.0.0.1, started once for this file and stopped after it, so its
    ~6 GB and its engine's CPU go back to the rest of the suite (or, while developing, one already running:
    ``TOOLKIT_TEST_VLLM_URL=http://127.0.0.1:PORT/v1``, serving the demo model as ``demo``)."""
    from vllm_env import VllmServer

    if os.environ.get("TOOLKIT_TEST_VLLM_URL"):
        class Running:
            url = os.environ["TOOLKIT_TEST_VLLM_URL"].rstrip("/")

        yield Running()
        return
    started = time.monotonic()
    server = VllmServer(vllm_python, demo_model_dir, name="demo").start()
    print(f"\nvLLM server up in {time.monotonic() - started:.0f} s at {server.url}", file=sys.stderr)
    yield server
    server.stop()


def toolkit_eval(out: Path, *args: str, env: dict[str, str] | None = None) -> Path:
    """Run ``toolkit eval`` on the 60 questions; returns the run folder."""
    cmd = [sys.executable, "-m", "toolkit", "eval", "--datasets", "ceval_gen", "--abbr",
           *[f"ceval-{s}" for s in SUBJECTS], "--max-out-len", "16", "--batch-size", "8", "--num-gpus", "0",
           "-w", str(out), "--display", "plain", "--json", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=1800)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return Path(json.loads(proc.stdout)["run_dir"])


def predictions(run_dir: Path) -> dict[str, dict[str, dict]]:
    """abbr/index → record, for the run's only model."""
    (model_dir,) = [p for p in (run_dir / "predictions").iterdir() if p.is_dir()]
    out = {}
    for f in sorted(model_dir.glob("*.json")):
        for idx, rec in json.loads(f.read_text(encoding="utf-8")).items():
            out[f"{f.stem}/{idx}"] = rec
    return out


def answers(records: dict[str, dict]) -> dict[str, str]:
    """The post-processed answer of each question (what is scored)."""
    from toolkit.engine.scoring import resolve_postprocessor

    post = resolve_postprocessor("first_capital_postprocess", {}, options="ABCD")
    return {k: post(r["prediction"]) for k, r in records.items()}


def agreement(ours: dict[str, str], reference: dict[str, str], per_subject: int = PER_SUBJECT) -> float:
    assert set(ours) == set(reference) and len(reference) == len(SUBJECTS) * per_subject
    return sum(ours[k] == reference[k] for k in reference) / len(reference)


@pytest.fixture(scope="session")
def hf_runs(ceval60: Path, demo_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """Our HF backend's predictions, gen and choice (the reference)."""
    out = tmp_path_factory.mktemp("hf")
    data = f"opencompass/ceval-exam={ceval60}"
    runs = {}
    for mode in ("gen", "choice"):
        run = toolkit_eval(out / mode, "--data-path", data, "--hf-type", "base", "--hf-path", str(demo_model_dir),
                           "--infer-mode", mode, "--device", "cpu")
        runs[mode] = predictions(run)
    return runs


@pytest.mark.parametrize("mode", ["gen", "choice"])
def test_api_backend_against_vllm_serve_equals_hf(mode, ceval60, shared_dir, vllm_server, hf_runs, tmp_path,
                                                 record_property):
    per_subject = PER_SUBJECT if mode == "gen" else min(PER_SUBJECT, API_CHOICE_PER_SUBJECT)
    data = ceval60 if per_subject == PER_SUBJECT else _ceval_head(shared_dir, tmp_path / "ceval", per_subject)
    run = toolkit_eval(tmp_path / "api", "--data-path", f"opencompass/ceval-exam={data}", "--hf-type", "base",
                       "--api-base", vllm_server.url, "--api-model", "demo", "--api-concurrency", "4",
                       "--infer-mode", mode)
    ours = predictions(run)
    ref = {k: v for k, v in hf_runs[mode].items() if int(k.rsplit("/", 1)[1]) < per_subject}  # the same questions
    for key in ref:  # byte-identical prompts
        assert ours[key]["origin_prompt"] == ref[key]["origin_prompt"], key
    rate = agreement(answers(ours), answers(ref), per_subject)
    record_property(f"api_{mode}_agreement", rate)
    print(f"\nAPI backend vs HF backend, {mode}: {rate:.1%} of {len(ref)} answers identical", file=sys.stderr)
    assert rate >= 0.99
    manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    usage = manifest["models"][0]["usage"]
    assert usage["succeeded"] >= 3 * per_subject and usage["failed"] == 0 and usage["prompt_tokens"] > 0
    # one request per question (choice: all four candidates echoed in it), plus choice's one probe before them
    assert usage["requests"] == len(ref) + (1 if mode == "choice" else 0), usage


@pytest.mark.parametrize("mode", ["gen", "choice"])
def test_offline_vllm_backend_equals_hf(mode, ceval60, vllm_python, demo_model_dir, hf_runs, tmp_path,
                                        record_property):
    run = toolkit_eval(tmp_path / "vllm", "--data-path", f"opencompass/ceval-exam={ceval60}", "--hf-type", "base",
                       "--hf-path", str(demo_model_dir), "--backend", "vllm", "--infer-mode", mode,
                       "--model-kwargs", "enforce_eager=True",  # no torch.compile: starts in a fraction of the time
                       env={"TOOLKIT_VLLM_PYTHON": str(vllm_python), "VLLM_CPU_KVCACHE_SPACE": "2"})
    ours, ref = predictions(run), hf_runs[mode]
    for key in ref:
        assert ours[key]["origin_prompt"] == ref[key]["origin_prompt"], key
    rate = agreement(answers(ours), answers(ref))
    record_property(f"vllm_{mode}_agreement", rate)
    print(f"\n--backend vllm vs HF backend, {mode}: {rate:.1%} of {len(ref)} answers identical", file=sys.stderr)
    assert rate >= 0.99
    if mode == "choice":  # the letters' scores themselves, not only the argmax
        worst = max(abs(ours[k]["scores"][x] - ref[k]["scores"][x]) for k in ref for x in "ABCD")
        assert worst < 1e-3


def test_the_readme_api_example_runs_as_written(vllm_server, demo_model_dir, tmp_path):
    """The README's copy-paste block: its server command is the one the fixture runs (same arguments, another
    port), and its gen ``toolkit eval`` line against it runs as written after the walkthrough's steps 1-4."""
    import re
    import shlex

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = next(b for b in re.findall(r"```bash\n(.*?)```", readme, flags=re.S) if "--api-base" in b)
    lines = [ln.split("  #")[0].strip() for ln in block.replace("\\\n", " ").splitlines()]
    (serve,) = [ln for ln in lines if "vllm.entrypoints.openai.api_server" in ln]
    readme_args = shlex.split(serve.replace('"$(toolkit demo-model)"', str(demo_model_dir)))
    if readme_args[-1] == "&":
        readme_args.pop()
    assert readme_args[0] == "VLLM_CPU_KVCACHE_SPACE=4" and readme_args[1] == '$VLLM_PY'
    if not os.environ.get("TOOLKIT_TEST_VLLM_URL"):
        from vllm_env import VllmServer

        ours = VllmServer(Path(sys.executable), demo_model_dir, name="demo", port=8000).command()
        assert readme_args[2:] == ours[1:len(readme_args) - 1], (readme_args, ours)
    evals = [ln for ln in lines if ln.startswith("toolkit eval") and "127.0.0.1:8000" in ln]
    assert len(evals) == 2
    work = tmp_path / "repo"
    shutil.copytree(REPO / "examples", work / "examples")
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    from test_readme import _walkthrough  # type: ignore[import-not-found]

    for _, command in _walkthrough()[:5]:  # new-dataset, validate, validate --fix, validate, gen-config
        subprocess.run(["bash", "-c", command], cwd=work, env=env, capture_output=True, text=True)
    assert (work / "configs" / "datasets" / "chinese_core_socialist_values").is_dir()
    assert "--infer-mode choice" in evals[1]  # choice through this server: test_api_backend_against_vllm_serve_equals_hf
    for line in evals[:1]:
        line = line.replace("http://127.0.0.1:8000/v1", vllm_server.url)
        proc = subprocess.run(["bash", "-c", line], cwd=work, env=env, capture_output=True, text=True, timeout=900)
        assert proc.returncode == 0, f"{line}\n{proc.stderr[-3000:]}"
        assert "chinese_core_socialist_values-chinese_core_socialist_values" in proc.stdout and "accuracy" in proc.stdout
