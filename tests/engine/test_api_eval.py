"""``toolkit eval`` through the API backend against the local fault-injection server (127.0.0.1):
every question ends with a prediction or a recorded error, nothing is lost, retries are counted,
``-r`` asks again only for what failed, and the API key is written nowhere."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from api_fault_server import FaultServer, answer_letter
from engine_data import seed_rows, write_configs, write_dataset

SECRET = "sk-toolkit-test-9f8e7d6c5b4a-DO-NOT-WRITE"


@pytest.fixture
def bank(tmp_path: Path, seed_raw: Path) -> Path:
    rows = seed_rows(seed_raw)
    distinct = [(r[0], f"{r[1]}（{k}）", *r[2:]) for k in range(3) for r in rows[5:]]  # 15 different questions
    data = write_dataset(tmp_path / "data", rows[:5] + distinct, val_copies=1)
    write_configs(tmp_path / "configs", data)
    return tmp_path / "configs"


def api_eval(cli, configs: Path, server: FaultServer, out: Path, *extra: str):
    return cli("eval", "--datasets", "seed_gen", "--abbr", "seed-values", "--config-dir", configs, "--hf-type", "base",
               "--api-base", server.url, "--api-model", server.model, "--api-concurrency", "4",
               "--api-timeout", "0.5", "--api-retries", "2", "-w", out, "--display", "none", "--json", *extra)


def predictions(run_dir: Path) -> dict:
    return json.loads((run_dir / "predictions" / "fault-model" / "seed-values.json").read_text("utf-8"))


def test_faults_end_in_predictions_or_recorded_errors_and_resume_asks_again(cli, bank, tmp_path, monkeypatch):
    monkeypatch.setenv("TOOLKIT_TEST_KEY", SECRET)
    lost_for_good: set[str] = set()
    kinds: dict[str, int] = {}

    def plan(prompt: str, attempt: int) -> str:  # called under the server's lock
        kind = kinds.setdefault(prompt, len(kinds) % 6)  # by order of arrival: every kind of fault occurs
        if kind == 0:
            lost_for_good.add(prompt)
            return "500"
        return ("429", "500", "slow", "drop", "reset")[kind - 1] if attempt == 1 else "ok"

    out = tmp_path / "out"
    server = FaultServer(plan, retry_after="0", slow_seconds=1.0).start()
    first = api_eval(cli, bank, server, out, "--api-key-env", "TOOLKIT_TEST_KEY")
    log = list(server.log)
    assert first.exit_code == 1  # the dataset with unanswered questions failed; the run went on to the end
    body = json.loads(first.stdout)
    run_dir = Path(body["run_dir"])
    (result,) = body["results"]
    assert result["status"] == "failed" and "questions got no answer" in result["error"]
    questions = {e.prompt for e in log if e.prompt != "Hi"}
    n_failed = len(lost_for_good & questions)
    assert 0 < n_failed < len(questions)
    assert f"{n_failed} of {len(questions)} questions got no answer" in result["error"]
    # every question has a record: a prediction, or its error (nothing lost)
    partial = [json.loads(line) for p in (run_dir / "predictions" / "fault-model" / ".partial").glob("*.jsonl")
               for line in p.read_text("utf-8").splitlines()[1:]]
    assert sorted(r["index"] for r in partial) == list(range(len(questions)))
    assert sum("error" in r for r in partial) == n_failed
    assert all(r["prediction"].startswith(" " + answer_letter(r["origin_prompt"])) for r in partial if "error" not in r)
    usage = json.loads((run_dir / "manifest.json").read_text("utf-8"))["models"][0]["usage"]
    retried = len(questions) - n_failed  # each of those failed once, then answered
    assert usage["retries"] == retried + 2 * n_failed and usage["failed"] == n_failed
    assert usage["requests"] == len(log) and usage["succeeded"] == len(questions) - n_failed
    assert {"429", "500", "timeout", "connection"} <= set(usage["statuses"])
    assert all(e.authorization == f"Bearer {SECRET}" for e in log)
    assert body["usage"]["fault-model"] == usage  # in --json's output too, and in the HTML report
    (html,) = (run_dir / "summary").glob("summary_*.html")
    assert f"<th>retries</th><td>{usage['retries']}</td>" in html.read_text("utf-8")

    # -r: the server answers now; only the failed questions are asked again
    server.plan, server.log = (lambda prompt, attempt: "ok"), []
    try:
        again = api_eval(cli, bank, server, out, "--api-key-env", "TOOLKIT_TEST_KEY", "-r")
        asked = {e.prompt for e in server.log}
    finally:
        server.stop()
    assert again.exit_code == 0, again.stderr
    assert asked == lost_for_good & questions
    preds = predictions(run_dir)
    assert len(preds) == len(questions)
    for rec in preds.values():
        assert rec["prediction"].startswith(" " + answer_letter(rec["origin_prompt"]))
    usage = json.loads((run_dir / "manifest.json").read_text("utf-8"))["models"][0]["usage"]
    assert usage["succeeded"] == len(questions)  # this invocation's requests added to the first one's

    # the key (which the server's 500s repeated) is in no file of the run, nor in what the commands printed
    assert any(e.behaviour == "500" for e in log)
    for path in out.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
    for result in (first, again):
        assert SECRET not in result.stdout and SECRET not in result.stderr


def test_a_refused_key_stops_the_run_and_its_echo_is_scrubbed(cli, bank, tmp_path, monkeypatch):
    monkeypatch.setenv("TOOLKIT_TEST_KEY", SECRET)
    with FaultServer(lambda p, a: "401") as server:
        result = api_eval(cli, bank, server, tmp_path / "out", "--api-key-env", "TOOLKIT_TEST_KEY")
        assert server.log and all(e.authorization == f"Bearer {SECRET}" for e in server.log)
    assert result.exit_code != 0 and "401" in result.stderr and "***" in result.stderr, result.stderr
    assert SECRET not in result.stdout and SECRET not in result.stderr
    for path in (tmp_path / "out").rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path


def test_a_missing_key_variable_stops_before_anything_is_sent(cli, bank, tmp_path, monkeypatch):
    monkeypatch.delenv("TOOLKIT_UNSET_KEY", raising=False)
    with FaultServer() as server:
        result = api_eval(cli, bank, server, tmp_path / "out", "--api-key-env", "TOOLKIT_UNSET_KEY")
        assert server.log == []
    assert result.exit_code == 2 and "TOOLKIT_UNSET_KEY is not set" in result.stderr
    assert not (tmp_path / "out").exists()


def test_choice_on_a_server_without_prompt_logprobs_says_use_gen(cli, bank, tmp_path):
    with FaultServer(lambda p, a: "400") as server:
        result = api_eval(cli, bank, server, tmp_path / "out", "--infer-mode", "choice")
        sent = [e.prompt for e in server.log]
    assert result.exit_code == 2 and "--infer-mode gen" in result.stderr
    assert sent == ["Hi"]  # the probe only, no question


@pytest.mark.parametrize("hosted", ["chat-only", "no-echo"])
@pytest.mark.parametrize("mode", ["choice", "ppl"])
def test_a_hosted_chat_api_look_alike_refuses_choice_and_ppl_before_any_question(cli, bank, tmp_path, hosted, mode):
    """A server like a hosted chat API (no /completions, or completions without prompt log-probabilities):
    one clear error naming gen, exit 2, no run folder; the one-word probe is all it was sent."""
    with FaultServer(hosted=hosted) as server:
        result = api_eval(cli, bank, server, tmp_path / "out", "--infer-mode", mode)
        sent = [(e.path, e.prompt) for e in server.log]
    assert result.exit_code == 2, result.stderr
    assert f"{mode} mode needs" in result.stderr and "--infer-mode gen" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert sent == [("/v1/completions", "Hi")]
    assert not (tmp_path / "out").exists()
    with FaultServer(hosted=hosted) as server:  # gen works on the same server (chat messages where only chat is)
        result = api_eval(cli, bank, server, tmp_path / "gen", *(["--hf-type", "chat"] if hosted == "chat-only" else []))
    assert result.exit_code == 0, result.stderr


def test_choice_and_ppl_score_from_echoed_logprobs(cli, bank, tmp_path):
    with FaultServer() as server:
        for mode in ("choice", "ppl"):
            result = api_eval(cli, bank, server, tmp_path / mode, "--infer-mode", mode)
            assert result.exit_code == 0, result.stderr
            (rec,) = json.loads(result.stdout)["results"]
            assert rec["status"] == "ok"


def test_a_key_given_as_a_flag_value_is_refused(cli, bank, tmp_path):
    with FaultServer() as server:
        result = api_eval(cli, bank, server, tmp_path / "out", "--api-key-env", SECRET)
    assert result.exit_code == 2 and "never the key itself" in result.stderr


@pytest.mark.parametrize("key", ["ENV:TOOLKIT_TEST_KEY", SECRET])
def test_an_opencompass_openaisdk_config_runs_and_its_key_is_written_nowhere(cli, bank, tmp_path, monkeypatch, key):
    """OpenCompass's OpenAISDK without meta_template sends the prompt text as one user message; a literal key in
    the config reaches the server but no file of the run (only the name of the variable that holds it does)."""
    monkeypatch.setenv("TOOLKIT_TEST_KEY", SECRET)
    monkeypatch.setenv("TOOLKIT_API_KEY_API_MODEL", "")  # where a literal key goes: restored after the test
    with FaultServer() as server:
        config = tmp_path / "run_api.py"
        config.write_text(
            "from mmengine.config import read_base\nfrom opencompass.models import OpenAISDK\n\n"
            "with read_base():\n    from .configs.datasets.seed.seed_gen import seed_datasets\n\n"
            "datasets = [d for d in seed_datasets if d['abbr'] == 'seed-values']\n"
            f"models = [dict(type=OpenAISDK, abbr='api-model', path={server.model!r}, key={key!r},\n"
            f"              openai_api_base={server.url!r}, query_per_second=100, max_out_len=8, batch_size=4)]\n",
            encoding="utf-8")
        result = cli("eval", config, "-w", tmp_path / "out", "--display", "none", "--json")
        log = list(server.log)
    assert result.exit_code == 0, result.stderr
    run_dir = Path(json.loads(result.stdout)["run_dir"])
    assert {e.path for e in log} == {"/v1/chat/completions"}
    assert all(e.prompt.startswith("<user>以下是中国关于") and e.authorization == f"Bearer {SECRET}" for e in log)
    preds = json.loads((run_dir / "predictions" / "api-model" / "seed-values.json").read_text("utf-8"))
    assert all(r["prediction"] == answer_letter("<user>" + r["origin_prompt"]) for r in preds.values())
    for path in run_dir.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
    run_json = json.loads((run_dir / "configs" / "run.json").read_text("utf-8"))
    assert run_json["models"][0]["api"]["key_env"] in ("TOOLKIT_TEST_KEY", "TOOLKIT_API_KEY_API_MODEL")


def test_circular_rotations_go_through_the_api_and_resume_asks_only_the_lost_ones(cli, bank, tmp_path):
    """--circular with the API backend: every rotation is its own prompt on the wire, answers map back to the
    original options, and a question lost to server errors is the only one asked again with -r."""
    failing: set[str] = set()
    healthy = [False]

    def plan(prompt: str, attempt: int) -> str:
        if prompt != "Hi" and not healthy[0] and (prompt in failing or len(failing) < 3):
            failing.add(prompt)
            return "500"
        return "ok"

    server = FaultServer(plan, retry_after="0").start()
    try:
        out = tmp_path / "out"
        first = api_eval(cli, bank, server, out, "--circular")
        assert first.exit_code == 1, first.stderr  # some questions failed after their retries: not done
        run_dir = Path(json.loads(first.stdout)["run_dir"])
        asked_first = [e.prompt for e in server.log if e.prompt != "Hi"]
        assert len(set(asked_first)) == 60  # 15 questions x 4 rotations, each its own prompt
        healthy[0] = True
        again = api_eval(cli, bank, server, out, "--circular", "-r")
        assert again.exit_code == 0, again.stderr
        asked_again = [e.prompt for e in server.log if e.prompt != "Hi"][len(asked_first):]
        assert failing and set(asked_again) == failing
    finally:
        server.stop()
    (result,) = json.loads(again.stdout)["results"]
    assert result["metric"] == "perf_circular" and result["circular"]["counts"]["acc_circular"][1] == 60
    preds = predictions(run_dir)
    assert len(preds) == 60 and not [r for r in preds.values() if "error" in r]
    for r in preds.values():  # the server answers each rotated prompt's own key
        assert r["prediction"].startswith(" " + answer_letter(r["origin_prompt"]))
    assert {r["circular_pattern"] for r in preds.values()} == {"ABCD", "BCDA", "CDAB", "DABC"}
