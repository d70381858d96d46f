"""Issue 14's benchmark pieces: the compute bound's arithmetic, the side-by-side table, vLLM's run windows."""

from __future__ import annotations

import re
import stat
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import anchor_runs  # noqa: E402
import bench_report  # noqa: E402
import compute_bound  # noqa: E402
import profile_choice  # noqa: E402
import tools  # noqa: E402
from procmon import thread_env  # noqa: E402

SMOLLM2 = {"num_hidden_layers": 30, "hidden_size": 576, "num_attention_heads": 9, "num_key_value_heads": 3,
           "head_dim": 64, "intermediate_size": 1536, "vocab_size": 49152}


def test_flops_per_token_of_the_demo_model():
    shape = compute_bound.Shape.from_config(SMOLLM2)
    # q and o 576x576, k and v 576x192, three MLP matrices 576x1536: 3,538,944 weights a layer
    assert shape.linear_flops() == 2 * 30 * 3_538_944
    assert shape.attention_flops(100) == 4 * 30 * 9 * 64 * 100
    assert shape.head_flops() == 2 * 576 * 49152
    assert len(shape.gemm_shapes(8)) == 7


def test_unique_tokens_count_each_shared_prefix_once_per_subject():
    shape = compute_bound.Shape.from_config(SMOLLM2)
    head = list(range(100))
    rows = [{"group": "a", "key": f"a/{i}", "prefix": head + [1000 + i] * 10} for i in range(3)]
    rows += [{"group": "b", "key": "b/0", "prefix": head + [7]}]  # another subject: its prefix counts again
    choice = compute_bound.mode_flops(shape, rows, "choice")
    assert choice["unique_tokens"] == 100 + 3 * 10 + 101
    assert choice["flops"]["lm_head"] == 4 * shape.head_flops()  # one position per question
    ppl = compute_bound.mode_flops(shape, rows, "ppl")
    assert ppl["flops"]["lm_head"] == ppl["unique_tokens"] * shape.head_flops()
    positions = sum(range(1, 101)) + 3 * sum(range(101, 111)) + sum(range(1, 102))
    assert choice["flops"]["attention"] == shape.attention_flops(1) * positions
    gen_rows = [{"group": r["group"], "key": r["key"], "tokens": r["prefix"]} for r in rows]
    gen = compute_bound.mode_flops(shape, gen_rows, "gen", {"a/0": 3})  # two decode steps after the first token
    assert gen["unique_tokens"] == choice["unique_tokens"] + 2


def test_side_by_side_rows_and_verdicts():
    result = {
        "medians": {"ours choice": {"ok": True, "infer_cpu_seconds": 39.0, "infer_seconds": 40.0},
                    "vllm choice": {"ok": True, "infer_cpu_seconds": 30.0, "infer_seconds": 31.0},
                    "ours gen": {"ok": True, "infer_cpu_seconds": 45.0, "infer_seconds": 46.0},
                    "vllm gen": {"ok": True, "infer_cpu_seconds": 30.0, "infer_seconds": 30.0},
                    "lm-eval choice": {"ok": True, "infer_cpu_seconds": 300.0, "infer_seconds": 301.0}},
        "bound": {"threads": 1, "gemm_gflops": {"float32": {"model_shapes": 170.0, "square_2048": 180.0}},
                  "modes": {"choice": {"unique_tokens": 16728, "total_flops": 5.06e12, "bound_seconds": {"float32": 28.1},
                                       "flops": {"attention": 1.5e12, "linear": 3.5e12, "lm_head": 3e9}}}},
        "limit": {"cpu_seconds": 52.0},
        "agreement": {"ours choice vs vllm choice": {"same": 60, "compared": 60}},
    }
    rows = {r["mode"]: r for r in bench_report.anchor_rows(result)}
    assert rows["choice"]["ours_vs_vllm"] == 1.3 and rows["choice"]["met"]
    assert rows["gen"]["ours_vs_vllm"] == 1.5 and not rows["gen"]["met"] and rows["gen"]["bound"] is None
    assert rows["choice"]["ours_vs_bound"] == 1.39 and rows["choice"]["ours_vs_limit"] == 0.75
    text = "\n".join(bench_report.render_anchor(result))
    assert "| choice | 39.0 | 40.0 | 30.0 | 31.0 | 1.3× (met) | 28.1 | 1.39× | 1.07× | 0.75× | lm-eval choice: 300.0 | 60/60 |" in text
    assert "1.5× (MISSED)" in text and "fp32 180.0 GFLOP/s" in text and "16,728 unique tokens" in text
    assert bench_report.render_anchor({"medians": {"ours choice": {"ok": True}}}) == []


def test_vllm_is_pinned_like_the_other_tools():
    env = anchor_runs.vllm_env(thread_env(2, {}), 2)
    assert env["VLLM_CPU_OMP_THREADS_BIND"] == "0-1" and env["OMP_NUM_THREADS"] == "2"
    assert env["VLLM_CPU_KVCACHE_SPACE"] == "4"


def _fake_vllm_python(tmp_path):
    """A stand-in for vLLM's venv python: the same MARK lines, go/done files and output file as vllm_peer.py."""
    fake = tmp_path / "python"
    fake.write_text(f"#!{sys.executable}\n" + """
import json, os, sys, time
args = sys.argv[2:]
out, repeats = args[args.index("--out") + 1], int(args[args.index("--repeats") + 1])
wait = args[args.index("--wait-dir") + 1] if "--wait-dir" in args else None
mark = lambda what: print(f"MARK {what} {time.time():.3f}", flush=True)
mark("load-begin"); time.sleep(0.3); mark("load-end")
if wait: open(os.path.join(wait, "ready"), "w").close()
for rep in range(repeats):
    for mode in args[args.index("--modes") + 1].split(","):
        while wait and not os.path.exists(os.path.join(wait, f"go-{mode}-{rep}")): time.sleep(0.05)
        mark(f"begin {mode} {rep}"); sum(range(2 * 10**6)); mark(f"end {mode} {rep}")
        if wait: open(os.path.join(wait, f"done-{mode}-{rep}"), "w").close()
json.dump({"vllm": "0.32.0", "answers": {"choice": {"d/0": {"prediction": "B", "logprobs": [-2, -1], "best": 1}}}},
          open(out, "w"))
""", encoding="utf-8")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    return fake


def test_vllm_runs_are_cut_at_their_marks(tmp_path):
    fake = _fake_vllm_python(tmp_path)
    requests = tmp_path / "requests.json"
    requests.write_text("{}", encoding="utf-8")
    runs = tools.run_vllm(fake, requests, work=tmp_path, env=thread_env(1), repeats=2, modes=("choice", "gen"))
    assert [(r.mode, r.ok) for r in runs] == [("choice", True), ("choice", True), ("gen", True), ("gen", True)]
    assert all(r.infer_seconds is not None and r.infer_seconds < r.wall_seconds for r in runs)
    assert runs[0].extra["load_seconds"] >= 0.3 and runs[0].predictions["answers"]["d/0"]["prediction"] == "B"
    assert runs[2].predictions["answers"] == {}


def test_interleaved_runs_alternate_ours_and_vllm(tmp_path):
    fake = _fake_vllm_python(tmp_path)
    requests = tmp_path / "requests.json"
    requests.write_text("{}", encoding="utf-8")
    ours: list[tuple[str, int, float]] = []

    def run_ours(mode, rep):
        ours.append((mode, rep, time.time()))
        time.sleep(0.1)

    start = lambda wait_dir: tools.run_vllm(fake, requests, work=tmp_path, env=thread_env(1), repeats=2,  # noqa: E731
                                            modes=("gen", "choice"), wait_dir=wait_dir)
    runs = anchor_runs.interleave(start, run_ours, work=tmp_path, modes=("gen", "choice"), repeats=2, timeout=60)
    assert [(m, r) for m, r, _ in ours] == [("gen", 0), ("choice", 0), ("gen", 1), ("choice", 1)]
    assert len(runs) == 4 and all(r.ok and r.infer_seconds is not None for r in runs)
    log = (tmp_path / "logs" / "vllm_0.log").read_text(encoding="utf-8")
    begins = {(m[1], m[2]): float(m[3]) for m in re.finditer(r"MARK begin (\w+) (\d+) ([\d.]+)", log)}
    for i, (mode, rep, t) in enumerate(ours):  # each vLLM run starts after our run of it, before our next one
        assert t < begins[(mode, str(rep))]
        if i + 1 < len(ours):
            assert begins[(mode, str(rep))] < ours[i + 1][2]


def test_phase_timers_do_not_count_inner_phases_twice():
    timers = profile_choice.Timers()

    class Engine:
        def inner(self):
            time.sleep(0.05)

        def outer(self):
            self.inner()
            time.sleep(0.02)

        def prefill(self):
            self.inner()

    timers.wrap(Engine, "inner", "question pass", within={"prefix pass": "prefix pass"})
    timers.wrap(Engine, "outer", "batching")
    timers.wrap(Engine, "prefill", "prefix pass")
    engine = Engine()
    engine.outer()
    engine.prefill()
    assert 0.045 < timers.wall["question pass"] < 0.07 and 0.015 < timers.wall["batching"] < 0.04
    assert 0.045 < timers.wall["prefix pass"] < 0.07  # the inner call inside prefill counts as prefix pass
    assert timers.calls == {"question pass": 1, "batching": 1, "prefix pass": 2}


def test_requests_export_common_len():
    import requests_export

    assert requests_export.common_len([(1, 2, 3), (1, 2, 4), (1, 2)]) == 2
    assert requests_export.common_len([(5, 6), (5, 6)]) == 2 and requests_export.common_len([(1,), (2,)]) == 0
