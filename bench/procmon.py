"""Run a command and measure it: wall time, peak RSS of its whole process tree, a timestamped log.

Every benchmarked tool is started through :func:`run_measured`, so all of them are
measured the same way: the clock starts before the process is spawned and stops when
it exits; a sampler thread polls the RSS of the process and all its descendants
(psutil) every ``interval`` seconds and keeps the largest sum; each output line is
written to the log with the seconds since start, so phases inside a tool (model
loaded, inference started, last batch) can be timed from its own messages.
"""

from __future__ import annotations

import os
import re
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psutil

THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS")


def thread_env(threads: int, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment every tool runs with: the same thread pins, unbuffered output, no GPU, offline hubs.

    Example:
        >>> env = thread_env(2, {})
        >>> env["OMP_NUM_THREADS"], env["MKL_NUM_THREADS"], env["CUDA_VISIBLE_DEVICES"]
        ('2', '2', '')
    """
    env = dict(os.environ if base is None else base)
    env.update({var: str(threads) for var in THREAD_VARS})
    env.update(PYTHONUNBUFFERED="1", CUDA_VISIBLE_DEVICES="", TOKENIZERS_PARALLELISM="false",
               HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               HF_HUB_DISABLE_TELEMETRY="1", DO_NOT_TRACK="1")
    return env


@dataclass
class Measured:
    """What :func:`run_measured` saw."""

    command: list[str]
    returncode: int
    wall_seconds: float
    peak_rss_bytes: int
    log: Path
    lines: list[tuple[float, str]] = field(default_factory=list)
    """(seconds since start, line) for every output line (``\\r`` progress updates count as lines)."""
    cpu_samples: list[tuple[float, float]] = field(default_factory=list)
    """(seconds since start, CPU seconds used so far by the process tree, user + system)."""
    started_at: float = 0.0
    """Epoch seconds when the command was started (to compare with file times)."""
    load_avg: tuple[float, float, float] = (0.0, 0.0, 0.0)
    """The 1/5/15-minute load average when the command ended (how busy the shared machine was)."""

    def first(self, pattern: str) -> float | None:
        """Seconds since start of the first line matching the regex ``pattern``."""
        rx = re.compile(pattern)
        return next((t for t, line in self.lines if rx.search(line)), None)

    def cpu_at(self, t: float) -> float:
        """CPU seconds the tree had used at ``t`` seconds (linear between samples)."""
        return cpu_at(self.cpu_samples, t)

    def last(self, pattern: str) -> float | None:
        """Seconds since start of the last line matching ``pattern``."""
        rx = re.compile(pattern)
        return next((t for t, line in reversed(self.lines) if rx.search(line)), None)


def cpu_at(samples: list[tuple[float, float]], t: float) -> float:
    """Interpolate a cumulative (time, cpu) series at ``t`` (clamped to its ends).

    Example:
        >>> cpu_at([(0.0, 0.0), (2.0, 1.0), (4.0, 3.0)], 3.0)
        2.0
    """
    if not samples:
        return 0.0
    if t <= samples[0][0]:
        return samples[0][1]
    for (t0, c0), (t1, c1) in zip(samples, samples[1:]):
        if t <= t1:
            return c0 + (c1 - c0) * ((t - t0) / (t1 - t0) if t1 > t0 else 1.0)
    return samples[-1][1]


def tree_usage(proc: psutil.Process) -> tuple[int, float]:
    """RSS (bytes) and CPU seconds (user + system) of a process and all its descendants; vanished ones count 0."""
    rss, cpu = 0, 0.0
    try:
        procs = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0, 0.0
    for p in procs:
        try:
            rss += p.memory_info().rss
            times = p.cpu_times()
            cpu += times.user + times.system
        except psutil.Error:
            pass
    return rss, cpu


def split_output(chunk: str) -> list[str]:
    r"""Lines of output, treating ``\r`` (progress bars) as a line end too.

    Example:
        >>> split_output("a\rb\nc")
        ['a', 'b', 'c']
    """
    return [part for part in re.split(r"\r\n|\r|\n", chunk) if part]


def run_measured(command: Sequence[str], *, env: Mapping[str, str], log: Path, cwd: str | Path | None = None,
                 interval: float = 0.2, timeout: float | None = None) -> Measured:
    """Run ``command`` to the end; never raises on a non-zero exit (the caller decides)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    lines: list[tuple[float, str]] = []
    cpu_samples: list[tuple[float, float]] = []
    peak = 0
    started_at = time.time()
    start = time.perf_counter()
    proc = subprocess.Popen(list(command), env=dict(env), cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL)
    ps = psutil.Process(proc.pid)
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            rss, cpu = tree_usage(ps)
            peak = max(peak, rss)
            if cpu:  # a zero means the process is gone (or not yet there): keep the last real value
                cpu_samples.append((time.perf_counter() - start, cpu))
            done.wait(interval)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    assert proc.stdout is not None
    with open(log, "w", encoding="utf-8") as out:
        out.write(f"# {' '.join(command)}\n")
        buffer = ""
        while True:
            chunk = proc.stdout.read1(65536)  # type: ignore[attr-defined]
            if not chunk:
                break
            now = time.perf_counter() - start
            buffer += chunk.decode("utf-8", errors="replace")
            *complete, buffer = re.split(r"(?<=[\r\n])", buffer)
            for piece in complete:
                for line in split_output(piece):
                    lines.append((now, line))
                    out.write(f"[{now:9.2f}] {line}\n")
            out.flush()  # the log can be watched while the tool runs
            if timeout is not None and now > timeout:
                proc.kill()
        for line in split_output(buffer):
            lines.append((time.perf_counter() - start, line))
            out.write(f"[{lines[-1][0]:9.2f}] {line}\n")
    rc = proc.wait()
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    return Measured(list(command), rc, wall, peak, log, lines, cpu_samples, started_at, os.getloadavg())
