"""bench/gpu_check.py: its pieces, and the whole check in --smoke mode on the CPU (tiny models, a tiny
C-Eval-like bank built from examples/), as it would run on the GPU machine but in seconds."""

from __future__ import annotations

import csv
import doctest
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "bench"
sys.path.insert(0, str(BENCH))

import gpu_check  # noqa: E402
import gpu_context  # noqa: E402
import gpu_models  # noqa: E402
import gpu_ours  # noqa: E402
import gpu_paths  # noqa: E402
import gpu_prep  # noqa: E402
import gpu_report  # noqa: E402

EXAMPLE = REPO / "examples" / "chinese_core_socialist_values"
SUBJECTS = ("computer_network", "operating_system")


def clean_bank(dst: Path, subjects: tuple[str, ...] = SUBJECTS) -> Path:
    """The example bank's dev/val rows as C-Eval subjects (answers stripped: the example keeps its author's ' D')."""
    for s in subjects:
        for split in ("dev", "val"):
            with open(next((EXAMPLE / split).glob("*.csv")), encoding="utf-8", newline="") as fh:
                rows = list(csv.reader(fh))
            col = rows[0].index("answer")
            for row in rows[1:]:
                row[col] = row[col].strip()
            (dst / split).mkdir(parents=True, exist_ok=True)
            with open(dst / split / f"{s}_{split}.csv", "w", encoding="utf-8", newline="") as fh:
                csv.writer(fh, lineterminator="\n").writerows(rows)
    return dst


def table_widths(markdown: str) -> set[int]:
    """Cells per row of every markdown table (one value per table when no cell holds a stray '|')."""
    widths: list[set[int]] = []
    in_table = False
    for line in markdown.splitlines():
        if line.startswith("|"):
            if not in_table:
                widths.append(set())
            widths[-1].add(line.count("|"))
        in_table = line.startswith("|")
    return {len(w) for w in widths}


# -- pieces ---------------------------------------------------------------------------------
@pytest.mark.parametrize("module", [gpu_models, gpu_paths, gpu_ours, gpu_context, gpu_prep])
def test_doctests(module):
    assert doctest.testmod(module).failed == 0


@pytest.mark.parametrize("name", sorted(gpu_models.SHAPES))
def test_parameter_count_is_the_built_models(name):
    import torch
    from transformers import AutoModelForCausalLM, LlamaConfig

    config = LlamaConfig(vocab_size=49152, **gpu_models.SHAPES[name])
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config)
    assert gpu_models.Shape.of(name, 49152).parameters == sum(p.numel() for p in model.parameters())


def test_the_two_shapes_are_about_1b_and_8b():
    assert 0.9e9 < gpu_models.Shape.of("1b", 49152).parameters < 1.3e9
    assert 7.0e9 < gpu_models.Shape.of("8b", 49152).parameters < 8.5e9


def test_limit_and_naive_paths_compute_the_same_scores(tiny_model_dir):
    """Three implementations (prefix cache + batches, whole prompts, one plain forward each) agree in fp32."""
    import torch
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(tiny_model_dir))
    model = gpu_models.build_model("smoke-1b", tok, device="cpu", dtype=torch.float32)
    shared = tuple(range(20, 60))
    items = []
    for i in range(5):
        prompt = shared + tuple(range(100 + i, 100 + i + 3 + i))
        cands = tuple(prompt + (7, 30 + j) for j in range(4))
        items.append(gpu_paths.Item(f"s/{i}", "s", prompt, cands, ppl=cands))
    pad = tok.pad_token_id
    limit1 = gpu_paths.run_limit(model, items, batch_size=1, pad=pad)
    limit3 = gpu_paths.run_limit(model, items, batch_size=3, pad=pad)
    naive = gpu_paths.naive_choice(model, items, batch_size=2, pad=pad)
    ppl = gpu_paths.naive_ppl(model, items, batch_size=2, pad=pad)
    with torch.inference_mode():
        for it in items:
            logp = torch.log_softmax(model(input_ids=torch.tensor([it.choice[0][:-1]])).logits[0, -1].float(), dim=-1)
            expected = [-float(logp[c[-1]]) for c in it.choice]
            for out in (limit1.out, limit3.out, naive.out):
                assert out[it.key] == pytest.approx(expected, abs=1e-4)
            for j, c in enumerate(it.ppl):
                full = torch.log_softmax(model(input_ids=torch.tensor([c])).logits[0, :-1].float(), dim=-1)
                nll = -full.gather(1, torch.tensor(c[1:]).unsqueeze(1)).sum() / len(c)
                assert ppl.out[it.key][j] == pytest.approx(float(nll), abs=1e-4)
    assert limit1.tokens == limit3.tokens == 40 + sum(3 + i + 1 for i in range(5))  # the prefix once, each own part once
    assert naive.tokens == sum(len(it.choice[0]) - 1 for it in items)


def test_agreement_counts_flips_and_tells_near_ties():
    ref = {"a": [1.0, 2.0], "b": [1.0, 1.05], "c": [3.0, 1.0]}
    other = {"a": [1.0, 2.1], "b": [1.06, 1.05], "c": [3.0, 1.0], "d": [0.0, 1.0]}
    a = gpu_ours.agreement(ref, other)
    assert (a["compared"], a["same"], a["flips_on_near_ties"]) == (3, 2, 1)
    assert a["max_abs_diff"] == pytest.approx(0.1)
    assert a["flips"] == [{"key": "b", "ref": 0, "other": 1, "ref_margin": 0.05}]


def test_budget_keeps_time_for_the_mandatory_phases_to_come():
    fresh = gpu_context.Budget(450, still_to_come=["oom", "workers", "8b"])
    assert fresh.allot("1b.naive_gen") == pytest.approx(35, abs=0.1)
    late = gpu_context.Budget(450, started=time.perf_counter() - 300, still_to_come=["oom", "workers", "8b"])
    assert late.allot("1b.naive_gen") == 0.0  # 150 s left, 195 s reserved
    small = gpu_context.Budget(90, still_to_come=["8b"])
    assert small.allot("smoke-1b.naive_gen") == pytest.approx(7.0, abs=0.1)  # 35 s scaled to a 90 s budget


def test_a_later_model_starts_only_with_half_its_reserve_left():
    assert gpu_context.Budget(450, started=time.perf_counter() - 380).can_start("8b")  # 70 s left, 55 s needed
    assert not gpu_context.Budget(450, started=time.perf_counter() - 400).can_start("8b")  # 50 s left
    assert gpu_context.Budget(90, started=time.perf_counter() - 75).can_start("smoke-8b")  # 15 s left, 11 s needed
    assert not gpu_context.Budget(90, started=time.perf_counter() - 85).can_start("smoke-8b")


def test_fit_takes_subjects_in_order_while_they_fit():
    assert gpu_context.fit(["a", "b", "c"], {"a": 4.0, "b": 4.0, "c": 1.0}.get, 5.0) == (["a"], 4.0)
    assert gpu_context.fit(["a"], {"a": 9.0}.get, 1.0) == (["a"], 9.0)  # at least one
    names = [f"s{i}" for i in range(52)]
    order = gpu_context.spread_order(names)
    assert len(order) == 52 and set(order) == set(names) and order[:3] == ["s0", "s7", "s14"]


def test_stage_data_cuts_val_and_gives_test_a_header(tmp_path):
    src = clean_bank(tmp_path / "src", ("computer_network", "not_a_ceval_subject", "operating_system"))
    chosen = gpu_check.stage_data(src, tmp_path / "dst", None, 2)
    assert chosen == ["computer_network", "operating_system"]  # the stock config's order; unknown subjects left out
    val = (tmp_path / "dst" / "val" / "operating_system_val.csv").read_text(encoding="utf-8").splitlines()
    assert len(val) == 3 and val[0] == "id,question,A,B,C,D,answer"
    assert (tmp_path / "dst" / "test" / "operating_system_test.csv").read_text() == "id,question,A,B,C,D\n"
    assert gpu_check.stage_data(src, tmp_path / "one", ["operating_system"], None) == ["operating_system"]
    assert gpu_check.stage_data(src, tmp_path / "max", None, 1, max_subjects=1) == ["computer_network"]


def test_smoke_defaults_to_four_subjects_spread_over_the_categories(shared_dir, tmp_path):
    args = gpu_check.parse(["--smoke"])
    assert (args.max_subjects, args.questions_per_subject, args.device, args.dtype) == (4, 4, "cpu", "float32")
    assert gpu_check.parse([]).max_subjects is None  # the GPU run: all 52
    chosen = gpu_check.stage_data(shared_dir / "data" / "ceval", tmp_path / "s", None, args.questions_per_subject,
                                  args.max_subjects)
    mapping = json.loads((shared_dir / "data" / "ceval" / "subject_mapping.json").read_text(encoding="utf-8"))
    assert len(chosen) == 4 and len({mapping[s][2] for s in chosen}) >= 3  # STEM, Social Science, Humanities


def test_prep_copies_tokenizer_files_only_and_prints_the_call(tmp_path, tiny_model_dir, capsys):
    (tiny_model_dir / "model.safetensors").stat()  # the folder holds weights too
    dest = REPO / ".gpu" / f"test-{os.getpid()}"
    try:
        code = gpu_prep.main(["--no-wheels", "--dest", str(dest), "--ceval", str(clean_bank(tmp_path / "bank")),
                              "--tokenizer", str(tiny_model_dir)])
        printed = json.loads(capsys.readouterr().out)
        assert code == 0
        assert sorted(p.name for p in (dest / "tokenizer").iterdir()) == sorted(printed["tokenizer_files"])
        assert "tokenizer.json" in printed["tokenizer_files"] and not list(dest.rglob("*.safetensors"))
        assert printed["ceval_subjects"] == 2
        source = json.loads((dest / "source.json").read_text(encoding="utf-8"))
        assert source == printed["source"] and len(source["commit"]) >= 7 and isinstance(source["dirty"], bool)
        assert printed["run"] == {"command": "bash bench/gpu_run.sh", "carry": [f".gpu/test-{os.getpid()}"], "timeout_s": 600}
        assert 0 < printed["travelling_mib"] < gpu_prep.LIMIT_MIB
    finally:
        shutil.rmtree(dest, ignore_errors=True)


def test_prep_refuses_a_folder_git_would_send_as_tracked_files(tmp_path):
    with pytest.raises(SystemExit, match="not ignored by git"):
        gpu_prep.main(["--no-wheels", "--dest", str(REPO / "bench" / "not-ignored"), "--ceval", str(tmp_path)])


def test_wheels_are_exactly_what_the_gpu_image_lacks():
    """toolkit's dependencies, and theirs, for Python 3.12 on Linux, less the GPU image's packages."""
    from importlib.metadata import PackageNotFoundError, requires

    from packaging.markers import default_environment
    from packaging.requirements import Requirement

    env = {**default_environment(), "python_version": "3.12", "python_full_version": "3.12.3", "extra": ""}
    seen: set[str] = set()
    todo = ["toolkit"]
    while todo:
        name = todo.pop()
        try:
            reqs = requires(name) or []
        except PackageNotFoundError:
            continue
        for text in reqs:
            req = Requirement(text)
            dep = gpu_prep._norm(req.name)
            if (req.marker is None or req.marker.evaluate(env)) and dep not in seen:
                seen.add(dep)
                if dep not in gpu_prep.GPU_IMAGE:  # what the image has brings its own dependencies
                    todo.append(dep)
    assert seen - gpu_prep.GPU_IMAGE == set(gpu_prep.GPU_MISSING)


def test_shared_ceval_stages_all_52_subjects(shared_dir, tmp_path):
    copied = gpu_prep.copy_ceval(shared_dir / "data" / "ceval", tmp_path / "ceval")
    assert copied == 52
    chosen = gpu_check.stage_data(tmp_path / "ceval", tmp_path / "staged", None, None)
    assert len(chosen) == 52
    rows = 0
    for s in chosen:
        with open(tmp_path / "staged" / "val" / f"{s}_val.csv", encoding="utf-8", newline="") as fh:
            rows += len(list(csv.reader(fh))) - 1
    assert rows == 1346


# -- the whole check, --smoke -----------------------------------------------------------------
@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory, tiny_model_dir):
    root = tmp_path_factory.mktemp("gpu-smoke")
    bank = clean_bank(root / "bank")
    cmd = [sys.executable, str(BENCH / "gpu_check.py"), "--smoke", "--tokenizer", str(tiny_model_dir), "--ceval", str(bank),
           "--out", str(root / "out"), "--work", str(root / "work"), "--questions-per-subject", "3", "--budget-s", "3600"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=900, env={**os.environ, "OMP_NUM_THREADS": "1"})
    result = json.loads((root / "out" / "gpu_check.json").read_text(encoding="utf-8"))
    return done, result, (root / "out" / "gpu_check.md").read_text(encoding="utf-8")


def test_smoke_run_passes_every_check(smoke_run):
    done, result, markdown = smoke_run
    assert done.returncode == 0, done.stderr[-3000:]
    assert result["ok"] and not result.get("errors")
    checks = [v for v in result["verdicts"] if v["kind"] == "check"]
    assert len(checks) >= 10 and all(v["met"] for v in checks)
    assert markdown in done.stdout  # the page is printed too
    assert "## Checks and targets" in markdown and table_widths(markdown) == {1}
    for name in ("smoke-1b", "smoke-8b"):  # each model's speed table: every path, the columns
        section = markdown.split(f"## {name}:", 1)[1].split("\n## ", 1)[0]
        header, _, *rows = [line for line in section.splitlines() if line.startswith("|")]
        assert [c.strip() for c in header.strip("|").split("|")] == [
            "tool", "mode", "questions", "seconds", "questions/s", "prompt tokens/s", "÷ limit", "naive ÷ ours",
            "peak GiB", "TFLOP", "MFU"]
        cells = [[c.strip() for c in row.strip("|").split("|")] for row in rows]
        assert {(c[0], c[1]) for c in cells} == {("limit", "bare forward"), *((t, m) for t in ("ours", "naive")
                                                                             for m in ("choice", "ppl", "gen"))}
        assert all(c[6] for c in cells if c[0] == "ours") and all(c[7] for c in cells if c[0] == "naive")
        assert all(c[10] == "" for c in cells)  # no MFU on a CPU: it is measured against the H200's peak


def test_smoke_run_times_every_path_on_both_models(smoke_run):
    _, result, _ = smoke_run
    assert list(result["models"]) == ["smoke-1b", "smoke-8b"]
    for m in result["models"].values():
        assert m["forward_path"] == "padded"  # the GPU's path, though the engine packs rows on a CPU
        rows = {(r["tool"], r["mode"]) for r in m["speed"]}
        assert rows == {("limit", "bare forward"), *((t, mode) for t in ("ours", "naive") for mode in ("choice", "ppl", "gen"))}
        ours = [r for r in m["speed"] if r["tool"] == "ours"]
        assert all(r["questions"] == 6 and r["seconds"] > 0 and r["vs_limit"] > 0 for r in ours)
        assert m["data"]["prompt_tokens"] > m["unique_tokens"] > 0  # each subject's prefix counted once
        # fp32: the limit's and the naive paths' own scoring give our numbers
        assert m["ours_vs_limit_answers"]["rate"] == 1.0 and m["ours_vs_limit_answers"]["max_abs_diff"] < 1e-4
        for r in m["speed"]:
            if r["tool"] == "naive" and r["mode"] != "gen":
                assert r["answers_vs_ours"]["rate"] == 1.0 and r["answers_vs_ours"]["max_abs_diff"] < 1e-4
                assert r["naive_over_ours"] > 0


def test_smoke_run_compares_cache_batch_sizes_and_plain_generate(smoke_run):
    _, result, _ = smoke_run
    corr = result["models"]["smoke-1b"]["correctness"]
    for mode in ("choice", "ppl"):
        a = corr[f"prefix_cache_vs_none_{mode}"]["label_nll"]
        assert a["compared"] > 0 and a["rate"] == 1.0 and a["max_abs_diff"] < 1e-4
    sizes = corr["batch_sizes"]
    assert {k for k in sizes if k.isdigit()} == {"1", "3"}
    gen = [r for r in result["models"]["smoke-1b"]["speed"] if (r["tool"], r["mode"]) == ("naive", "gen")][0]
    assert gen["answers_vs_ours"]["compared"] >= 3 and gen["answers_vs_ours"]["rate"] == 1.0


def test_smoke_run_halves_on_out_of_memory_and_says_so(smoke_run):
    done, result, markdown = smoke_run
    assert result["oom"]["simulated"] is True and "SIMULATED on CPU" in result["oom"]["how"]
    assert "Out of memory: SIMULATED on CPU" in markdown and "(out of memory SIMULATED on CPU" in done.stderr
    verdict = {v["what"].split(":")[0]: v["met"] for v in result["verdicts"]}
    assert verdict["out of memory (choice, simulated on CPU)"] and verdict["out of memory (gen, simulated on CPU)"]
    for mode in ("choice", "gen"):
        oom = result["oom"][mode]
        assert oom["refused_batches"] and oom["halvings"] >= 1
        assert oom["reference_largest_rows"] == 3 and oom["cap_rows"] == 1  # 3 questions a subject; 40% of 3 rows
        assert all(rows > oom["cap_rows"] for rows in oom["refused_batches"])
        assert all("out of memory" in w for w in oom["said"])
        assert oom["capped"]["failed"] == [] and oom["answers"]["rate"] == 1.0 and oom["answers"]["compared"] == 3


def test_smoke_run_two_workers_at_once_give_the_same_answers(smoke_run):
    _, result, _ = smoke_run
    together = result["workers"]["together"]
    assert together["workers_alive_at_once"] == 2
    assert together["answers"]["rate"] == 1.0 and together["answers"]["compared"] == result["workers"]["one"]["questions"]


@pytest.mark.slow
def test_gpu_run_wrapper_with_the_demo_tokenizer(tmp_path, demo_model_dir):
    """The device-side wrapper end to end (toolkit from this tree, offline), with the real 49,152-token tokenizer."""
    bank = clean_bank(tmp_path / "bank")
    env = {**os.environ, "OUT": str(tmp_path / "out"), "PYTHON": sys.executable, "SITE": str(tmp_path / "site"),
           "OMP_NUM_THREADS": "1"}
    done = subprocess.run(["bash", str(BENCH / "gpu_run.sh"), "--smoke", "--tokenizer", str(demo_model_dir), "--ceval", str(bank),
                           "--models", "smoke-1b", "--skip", "naive,workers", "--questions-per-subject", "2",
                           "--work", str(tmp_path / "work")], cwd=REPO, env=env, capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads((tmp_path / "out" / "gpu_check.json").read_text(encoding="utf-8"))
    assert result["ok"] and result["models"]["smoke-1b"]["data"]["questions"] == 4
    env_txt = (tmp_path / "out" / "env.txt").read_text(encoding="utf-8")
    assert f"toolkit 0.1.0 from {REPO / 'toolkit' / '__init__.py'}" in env_txt
    assert (tmp_path / "out" / "gpu_check.log").read_text(encoding="utf-8").strip()


def test_render_marks_missed_targets_and_keeps_tables_whole():
    result = {"models": {"1b": {"speed": [
        {"tool": "ours", "mode": "choice", "questions": 10, "seconds": 2.0, "questions_per_s": 5.0, "prompt_tokens_per_s": 100,
         "vs_limit": 1.5, "peak_gib": 3.2, "tflop": 1.0, "mfu": 0.3},
        {"tool": "naive", "mode": "choice", "questions": 10, "seconds": 9.0, "questions_per_s": 1.1, "prompt_tokens_per_s": 20,
         "naive_over_ours": 4.5, "subjects": 1, "estimate_s": 8.0, "allotted_s": 20.0,
         "answers_vs_ours": {"rate": 1.0, "max_abs_diff": 0.01}}]}}}
    checks = {c["what"]: c["met"] for c in gpu_report.verdicts(result)}
    assert checks["1b choice: ours ÷ limit"] is False and checks["1b choice: naive ÷ ours"] is True
    assert not any("NOT MEASURED" in what for what in checks)  # no correctness entry: not the model that carries them
    result["models"]["1b"]["correctness"] = {"batch_sizes": {"reference_batch_size": 64}}
    missing = [c for c in gpu_report.verdicts(result) if "NOT MEASURED" in c["what"]]
    assert [c["what"].split(":")[0] for c in missing] == ["1b choice", "1b ppl", "1b gen"]
    assert all(c["met"] is None and c["kind"] == "check" for c in missing)
    assert "NOT MEASURED" in gpu_report.render(result)
    page = gpu_report.render(result)
    assert "| MISSED |" in page and table_widths(page) == {1}


def test_gpu_check_modules_are_mypy_clean():
    """mypy's configured files are toolkit/ only (tests/test_lint.py); the GPU check runs once on a machine
    we cannot debug on, so its modules are held to the same settings."""
    files = sorted(str(p.relative_to(REPO)) for p in BENCH.glob("gpu_*.py"))
    done = subprocess.run([sys.executable, "-m", "mypy", *files], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
