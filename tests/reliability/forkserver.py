"""A fork server for the fault-injection suite: ``toolkit`` commands as real processes, without start-up cost.

It imports the CLI and what the commands load once, then, for each request, forks a
child that runs one ``toolkit`` command exactly as the console script does (its own
PID, its own stdout/stderr files, its exit status), so a test can SIGKILL it at any
moment of its *work* — not of Python's start-up, which writes nothing. The server is
single-threaded, so forking it is safe.

Protocol, one JSON object per line: the test sends ``{"args", "cwd", "stdout",
"stderr", "env", "kill_after"}``; the server answers ``{"pid", "exit", "signal",
"seconds"}`` when the child has ended — by itself, or by the SIGKILL the server
sent ``kill_after`` seconds in (the server kills before it reaps, so the PID is
never a reused one).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time


def _preload() -> None:
    import torch  # noqa: F401 - eval's manifest records its version; nothing runs on it before the fork
    import transformers  # noqa: F401

    import toolkit.cli.eval_options
    import toolkit.cli.main
    import toolkit.config.generate
    import toolkit.dataset.importer
    import toolkit.engine.run
    import toolkit.models.fake
    import toolkit.report.run_report
    import toolkit.validate.fix
    import toolkit.validate.validator  # noqa: F401


def _child(request: dict) -> None:
    """Runs in the forked child: become ``toolkit ARGS`` and exit with its status."""
    code = 70
    try:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        os.chdir(request["cwd"])
        os.environ.update(request.get("env", {}))
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        out = os.open(request["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        err = os.open(request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(out, 1)
        os.dup2(err, 2)
        sys.argv = ["toolkit", *request["args"]]
        from toolkit.cli.main import app

        try:
            app(args=request["args"], prog_name="toolkit")
            code = 0
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
        except BaseException:  # noqa: BLE001 - what a user would see: Python's own traceback
            import traceback

            traceback.print_exc()
            code = 1
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _wait(pid: int, kill_after: float | None) -> int:
    """Wait for the child; SIGKILL it first if it still runs ``kill_after`` seconds in.

    The child is reaped only here, so the PID we kill is always our child's (never a reused one).
    """
    if kill_after is not None:
        deadline = time.monotonic() + kill_after
        while time.monotonic() < deadline:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return status
            time.sleep(min(0.0005, max(0.0, deadline - time.monotonic())))
        os.kill(pid, signal.SIGKILL)
    return os.waitpid(pid, 0)[1]


def main() -> None:
    _preload()
    print(json.dumps({"ready": os.getpid()}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        started = time.monotonic()
        pid = os.fork()
        if pid == 0:
            _child(request)
        status = _wait(pid, request.get("kill_after"))
        print(json.dumps({"pid": pid, "exit": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
                          "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
                          "seconds": time.monotonic() - started}), flush=True)


if __name__ == "__main__":
    main()
