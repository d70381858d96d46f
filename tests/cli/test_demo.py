"""``toolkit demo``: the README's main job in one command (here with the tiny random model; the slow
README test runs it with the real demo model)."""

from __future__ import annotations

from pathlib import Path


def test_demo_runs_every_step_and_prints_the_summary(cli, tmp_path, tiny_model_dir):
    work = tmp_path / "demo"
    result = cli("demo", "--workdir", work, "--model-dir", tiny_model_dir, "--infer-mode", "choice")
    assert result.exit_code == 0, result.stderr
    for step in ("1/5 new-dataset: read 10 rows", "2/5 validate --fix: 30 cells repaired; now 0 errors",
                 "3/5 gen-config: 5 files", f"4/5 model: {tiny_model_dir}", "5/5 eval: run folder"):
        assert step in result.stderr
    assert "chinese_core_socialist_values-chinese_core_socialist_values" in result.stdout  # the table on stdout
    assert "html: " in result.stderr and "html: " not in result.stdout
    (run,) = (work / "outputs" / "demo").iterdir()
    assert (run / "summary" / f"summary_{run.name}.html").is_file()
    assert (work / "configs" / "datasets" / "chinese_core_socialist_values" / "chinese_core_socialist_values_gen.py").is_file()
    val = (work / "data" / "chinese_core_socialist_values" / "val" / "chinese_core_socialist_values_val.csv").read_text("utf-8")
    assert ", D" not in val and ",D" in val  # validate --fix normalised the answer letters


def test_demo_refuses_a_folder_it_did_not_make(cli, tmp_path):
    (tmp_path / "mine.txt").write_text("keep me", encoding="utf-8")
    result = cli("demo", "--workdir", tmp_path)
    assert result.exit_code == 2
    assert "was not made by `toolkit demo`" in result.stderr and "--workdir" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.txt"]


def test_demo_checks_its_options_before_doing_anything(cli, tmp_path):
    work = tmp_path / "demo"
    assert cli("demo", "--workdir", work, "--infer-mode", "bogus").exit_code == 2
    assert cli("demo", "--workdir", work, "--model-dir", tmp_path / "missing").exit_code == 2
    assert not work.exists()
    assert not Path("toolkit-demo").exists()
