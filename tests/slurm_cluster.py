"""A real one-node Slurm cluster (munged + slurmctld + slurmd) under one temp dir, for runner tests.

Debian's own packages run unchanged (installed with apt when missing and we are
root): everything the daemons write (config, munge key and socket, state, spool,
logs, pid files) lives under ``root``; the ports are picked free so two clusters on
one machine do not meet. ``SLURM_CONF`` in :attr:`SlurmCluster.env` points every
client (``srun``, ``sinfo``…) at it. Fake GPUs are character devices made with
``mknod`` (``c 1 3``, like /dev/null): enough for Slurm to schedule ``--gres=gpu:N``
and set ``CUDA_VISIBLE_DEVICES``.

    with running_cluster(cpus=8, gpus=2) as cluster:   # ~1 s; ClusterUnavailable says why not
        subprocess.run(["srun", "-N1", "hostname"], env=cluster.env)
    # left: every job scancelled, the daemons stopped by their pid files, the temp dir removed

Also here: :func:`processes` (find leftover processes by a marker) and
:func:`write_fake_srun` (an ``srun`` stand-in for tests that must run without Slurm).
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

PACKAGES = ("slurmctld", "slurmd", "slurm-client", "munge")
PROGRAMS = ("munged", "slurmctld", "slurmd", "srun", "sinfo", "squeue", "scancel")
SBIN = ("/usr/sbin", "/sbin")


class ClusterUnavailable(RuntimeError):
    """Slurm cannot run here; the message says why (tests skip with it)."""


def _which(program: str) -> str | None:
    return shutil.which(program) or shutil.which(program, path=os.pathsep.join(SBIN))


def ensure_installed(timeout: float = 300) -> None:
    """Install Debian's Slurm + munge packages when missing (root with apt only), else raise ClusterUnavailable."""
    missing = [p for p in PROGRAMS if _which(p) is None]
    if not missing:
        return
    wanted = f"apt-get install -y --no-install-recommends {' '.join(PACKAGES)}"
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise ClusterUnavailable(f"{', '.join(missing)} not installed and cannot install them here; run: {wanted}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "update", "-qq"], wanted.split()):
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, check=False)
        except subprocess.TimeoutExpired:
            raise ClusterUnavailable(f"`{' '.join(cmd)}` took over {timeout:.0f} s") from None
        if proc.returncode != 0:
            last = (proc.stderr.strip() or proc.stdout.strip() or "no output").splitlines()[-1]
            raise ClusterUnavailable(f"`{' '.join(cmd)}` failed: {last}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie child of ours counts as gone
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.is_file() and stat.read_text().split(") ", 1)[-1].startswith("Z"))


@dataclass
class SlurmCluster:
    """One controller and one compute node on this machine, all under ``root``."""

    root: Path
    cpus: int = 8
    """CPUs the node claims (more than the real cores, so several jobs run at once)."""
    gpus: int = 0
    """Fake GPUs (``Gres=gpu:N``); 0 for none."""
    partition: str = "debug"
    host: str = field(default_factory=lambda: socket.gethostname().split(".")[0])

    @property
    def conf(self) -> Path:
        """``slurm.conf``."""
        return self.root / "etc" / "slurm.conf"

    @property
    def env(self) -> dict[str, str]:
        """This process's environment with ``SLURM_CONF`` pointing here."""
        return dict(os.environ, SLURM_CONF=str(self.conf))

    def path(self, name: str) -> Path:
        """A path under the cluster's root."""
        return self.root / name

    def write_config(self) -> None:
        """slurm.conf (+ gres.conf and fake GPU devices), munge key, the folders the daemons need."""
        for sub in ("etc", "munge", "state", "spool", "log", "run", "dev"):
            self.path(sub).mkdir(parents=True, exist_ok=True)
        # munged checks that its socket directory and every one above it is o+x
        for p in (self.root, *self.root.parents):
            if p != Path("/") and not p.stat().st_mode & 0o001:
                p.chmod(p.stat().st_mode | 0o011)
        key = self.path("etc/munge.key")
        key.write_bytes(secrets.token_bytes(1024))
        key.chmod(0o400)
        mem = int(Path("/proc/meminfo").read_text().split()[1]) // 1024 // 2
        gres_node = f" Gres=gpu:{self.gpus}" if self.gpus else ""
        d = self.root
        lines = [
            "ClusterName=toolkit-test", f"SlurmctldHost={self.host}(127.0.0.1)",
            f"SlurmctldPort={_free_port()}", f"SlurmdPort={_free_port()}",
            "SlurmUser=root", "SlurmdUser=root",
            "AuthType=auth/munge", f"AuthInfo=socket={d}/munge/munge.socket", "CredType=cred/munge",
            "ProctrackType=proctrack/linuxproc", "TaskPlugin=task/none",
            "SelectType=select/cons_tres", "SelectTypeParameters=CR_Core_Memory", "DefMemPerCPU=256",
            "SlurmdParameters=config_overrides", "MailProg=/bin/true", "ReturnToService=2", "MinJobAge=300",
            "AccountingStorageType=accounting_storage/none", "JobAcctGatherType=jobacct_gather/none",
            "KillWait=5", "InactiveLimit=0",
            f"StateSaveLocation={d}/state", f"SlurmdSpoolDir={d}/spool",
            f"SlurmctldLogFile={d}/log/slurmctld.log", f"SlurmdLogFile={d}/log/slurmd.log",
            f"SlurmctldPidFile={d}/run/slurmctld.pid", f"SlurmdPidFile={d}/run/slurmd.pid",
            *(["GresTypes=gpu"] if self.gpus else []),
            (f"NodeName={self.host} NodeAddr=127.0.0.1 CPUs={self.cpus} Sockets=1 CoresPerSocket={self.cpus} "
             f"ThreadsPerCore=1 RealMemory={mem}{gres_node} State=UNKNOWN"),
            f"PartitionName={self.partition} Nodes=ALL Default=YES MaxTime=INFINITE State=UP",
        ]
        self.conf.write_text("\n".join(lines) + "\n")
        if self.gpus:
            for i in range(self.gpus):
                dev = self.path(f"dev/gpu{i}")
                if not dev.exists():
                    os.mknod(dev, 0o666 | 0o020000, os.makedev(1, 3))  # a char device, like /dev/null
            self.path("etc/gres.conf").write_text(
                f"NodeName={self.host} Name=gpu File={d}/dev/gpu[0-{self.gpus - 1}]\n")

    def _pid(self, daemon: str) -> int | None:
        file = self.path(f"run/{daemon}.pid")
        try:
            return int(file.read_text().strip())
        except (OSError, ValueError):
            return None

    def start(self, timeout: float = 30) -> None:
        """Start munged, slurmctld, slurmd and wait until the node is idle; ClusterUnavailable on failure."""
        if os.geteuid() != 0:
            raise ClusterUnavailable("slurmd starts jobs as their users, so a test cluster needs root")
        ensure_installed()
        self.write_config()
        d = self.root
        daemons = {
            "munged": [_which("munged"), f"--socket={d}/munge/munge.socket", f"--key-file={d}/etc/munge.key",
                       f"--pid-file={d}/run/munged.pid", f"--log-file={d}/log/munged.log",
                       f"--seed-file={d}/munge/seed", "--force"],
            "slurmctld": [_which("slurmctld"), "-f", str(self.conf)],
            "slurmd": [_which("slurmd"), "-f", str(self.conf)],
        }
        for name, cmd in daemons.items():
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=self.env, check=False)  # they fork
            if proc.returncode != 0:
                raise ClusterUnavailable(f"{name} did not start: {self._last_words(name, proc.stderr)}")
        deadline = time.monotonic() + timeout
        state = ""
        while time.monotonic() < deadline:
            state = self.client("sinfo", "-h", "-o", "%t", timeout=5).stdout.strip()
            if state in ("idle", "mix", "alloc"):
                return
            time.sleep(0.2)
        raise ClusterUnavailable(f"node not idle after {timeout:.0f} s (sinfo: {state or 'nothing'}); "
                                 f"slurmd: {self._last_words('slurmd', '')}")

    def _last_words(self, daemon: str, stderr: str) -> str:
        log = self.path(f"log/{daemon}.log")
        text = stderr.strip() or (log.read_text(errors="replace").strip() if log.is_file() else "")
        return text.splitlines()[-1] if text else "no output"

    def client(self, *args: str, timeout: float = 10) -> subprocess.CompletedProcess:
        """Run a Slurm client command against this cluster (clients retry for a minute when it is down)."""
        try:
            return subprocess.run(list(args), capture_output=True, text=True, timeout=timeout, env=self.env, check=False)
        except subprocess.TimeoutExpired:
            return subprocess.CompletedProcess(list(args), 124, "", f"{args[0]} timed out")

    def jobs(self) -> list[str]:
        """Ids of jobs pending or running (``squeue``)."""
        return self.client("squeue", "-h", "-o", "%i").stdout.split()

    def wait_no_jobs(self, timeout: float = 15) -> bool:
        """Poll until no job is queued or running; True when that happened in time."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.jobs():
                return True
            time.sleep(0.2)
        return False

    def stop(self, timeout: float = 15) -> None:
        """Cancel every job (stopping slurmd leaves them running), then stop the daemons by pid file."""
        if self._pid("slurmctld") is not None:
            jobs = self.jobs()
            if jobs:
                self.client("scancel", *jobs)
                self.wait_no_jobs(timeout)
        for daemon in ("slurmd", "slurmctld", "munged"):
            pid = self._pid(daemon)
            if pid is None or not _alive(pid):
                continue
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.1)
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


@contextmanager
def running_cluster(**settings: int) -> Iterator[SlurmCluster]:
    """A started cluster under a fresh temp dir (``cpus=``, ``gpus=``), stopped and removed afterwards.

    Raises ClusterUnavailable (with the reason) when it cannot start; nothing is left behind then either.
    """
    cluster = SlurmCluster(Path(tempfile.mkdtemp(prefix="toolkit-slurm-")), **settings)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(cluster.root, ignore_errors=True)


def processes(marker: str) -> dict[int, int]:
    """pid → parent pid of every process on this machine whose command line holds ``marker``."""
    out = {}
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and marker.encode() in (proc / "cmdline").read_bytes():
                out[int(proc.name)] = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    return out


FAKE_SRUN = """#!/bin/sh
# stands in for srun: refuses partition "nosuch" and --quotatype as Slurm 22.05 does, else runs what follows "-J NAME"
while [ $# -gt 0 ]; do
  case "$1" in
    -p) if [ "$2" = nosuch ]; then
          echo "srun: error: invalid partition specified: nosuch" >&2
          echo "srun: error: Unable to allocate resources: Invalid partition name specified" >&2
          exit 1
        fi; shift 2;;
    --quotatype=*) echo "srun: unrecognized option '$1'" >&2; echo 'Try "srun --help" for more information' >&2; exit 255;;
    -J) shift 2; exec "$@";;
    *) shift;;
  esac
done
"""


def write_fake_srun(bin_dir: Path) -> Path:
    """An executable ``srun`` stand-in in ``bin_dir`` (for tests that must run without Slurm)."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    srun = bin_dir / "srun"
    srun.write_text(FAKE_SRUN)
    srun.chmod(0o755)
    return srun
