"""Gather, here, what ``bench/gpu_check.py`` needs on the GPU machine (no network there), and print the call.

    python bench/gpu_prep.py                 # wheels, C-Eval dev+val, the demo tokenizer → .gpu/
    python bench/gpu_prep.py --no-wheels     # data and tokenizer only

Into ``.gpu/`` (ignored by git; it travels as a ``carry`` path):

* ``wheels/`` — the packages toolkit depends on that the GPU image lacks (``GPU_MISSING``; the image's
  list is in the device notes), each at the version installed here (the one the tests ran with), as
  ``cp312`` manylinux or pure-Python wheels. ``bench/gpu_run.sh`` installs them there with
  ``pip install --no-index --no-deps --target /tmp/site``, which never touches the image's
  torch or transformers. (The check itself imports none of them: it runs without validation.)
* ``ceval/`` — C-Eval's ``dev`` and ``val`` CSVs of all 52 subjects, from ``../shared/data/ceval``
  (test input only: C-Eval is CC BY-NC-SA and never ships with the product).
* ``tokenizer/`` — the demo model's tokenizer files (``toolkit demo-model`` puts the model in
  ``~/.cache/toolkit/models``), no weights.

Then it checks that what travels (tracked and untracked-not-ignored files plus ``.gpu/``) stays
under the 64 MiB limit, and prints the ``run`` command and ``carry`` list.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import shutil
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEST = REPO / ".gpu"
LIMIT_MIB = 64

GPU_IMAGE = frozenset("""
absl-py accelerate aiofiles aiohappyeyeballs aiohttp aiosignal annotated-doc anyio attrs botorch build certifi
charset-normalizer chex click cloudpickle cmake colorama contourpy coverage cuda-bindings cuda-core cuda-pathfinder
cuda-toolkit cupy-cuda13x cycler cython diffrax e3nn einops equinox etils execnet filelock flatbuffers flax fonttools
formulaic frozenlist fsspec gpytorch grpcio h11 h5py hf-xet httpcore httpx huggingface-hub humanize hypothesis idna
imageio iniconfig interface-meta jax jax-cuda13-pjrt jax-cuda13-plugin jaxlib jaxtyping jinja2 joblib kiwisolver
lazy-loader lightning lightning-utilities linear-operator lineax llvmlite lxml markdown markdown-it-py markupsafe
matplotlib mdurl meson ml-dtypes mpi4py mpmath msgpack multidict multipledispatch mypy-extensions nanobind narwhals
networkx ninja numba numba-cuda numpy numpyro nvidia-cublas nvidia-cuda-cupti nvidia-cuda-nvrtc nvidia-cuda-runtime
nvidia-cudnn-cu13 nvidia-cufft nvidia-cufile nvidia-curand nvidia-cusolver nvidia-cusparse nvidia-cusparselt-cu13
nvidia-ml-py nvidia-nccl-cu13 nvidia-nvjitlink nvidia-nvshmem-cu13 nvidia-nvtx onnx onnx-ir onnxruntime onnxscript
opencv-python-headless optax opt-einsum opt-einsum-fx optimistix orbax-checkpoint packaging pandas pathspec patsy peft
pillow pip pluggy portalocker prometheus-client propcache protobuf psutil pyarrow pybind11 py-cpuinfo pygments
pyparsing pyproject-hooks pyre-extensions pytest pytest-benchmark pytest-cov pytest-mock pytest-timeout pytest-xdist
python-dateutil pytorch-lightning pyyaml regex requests rich sacrebleu safetensors scikit-build-core scikit-image
scikit-learn scipy seaborn sentencepiece sentence-transformers setuptools shellingham simplejson six sortedcontainers
statsmodels sympy tabulate tensorboard tensorboard-data-server tensorstore threadpoolctl tifffile tiktoken timm
tokenizers toolz torch torchaudio torchdiffeq torch-geometric torchmetrics torchvision tqdm transformers treescope
triton typer typing-extensions typing-inspect urllib3 uvloop wadler-lindig werkzeug wheel wrapt xarray xxhash yarl
zipp""".split())
"""The GPU image's Python packages, as the device notes (KINDS.md) list them, read 2026-11-17."""
GPU_MISSING = ("pandera", "pydantic", "pydantic-core", "annotated-types", "typing-inspection", "typeguard",
               "openpyxl", "et-xmlfile", "gguf")
"""toolkit's dependencies (and theirs) that the GPU image does not hold (a test derives them again)."""
PLATFORMS = ("manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64",
             "manylinux1_x86_64")
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.json", "merges.txt",
                   "tokenizer.model", "chat_template.jinja", "added_tokens.json")
RUN_COMMAND = "bash bench/gpu_run.sh"
RUN_TIMEOUT_S = 600


def download_wheels(dest: Path, names: Iterable[str] = GPU_MISSING) -> list[str]:
    """One wheel per package, at the version installed here, for CPython 3.12 on x86-64 Linux."""
    dest.mkdir(parents=True, exist_ok=True)
    pins = [f"{name}=={importlib.metadata.version(name)}" for name in names]
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--python-version", "3.12",
           "--implementation", "cp", *(x for p in PLATFORMS for x in ("--platform", p)), "-d", str(dest), *pins]
    subprocess.run(cmd, check=True)
    wanted = {_norm(p.split("==")[0]): p.split("==")[1] for p in pins}
    for wheel in dest.glob("*.whl"):  # one version of each: two stop the whole install there
        name, version = wheel.name.split("-")[:2]
        if wanted.get(_norm(name)) != version:
            wheel.unlink()
    return sorted(w.name for w in dest.glob("*.whl"))


def _norm(name: str) -> str:
    """PEP 503 name (wheel files write ``pydantic_core``, pins ``pydantic-core``).

    Example:
        >>> _norm("Pydantic_Core")
        'pydantic-core'
    """
    return name.lower().replace("_", "-").replace(".", "-")


def copy_ceval(src: Path, dest: Path) -> int:
    """``dev/`` and ``val/`` CSVs and the subject mapping; returns the number of subjects."""
    if not (src / "val").is_dir():
        raise SystemExit(f"gpu_prep: no C-Eval data at {src} (expected the shared reference data; pass --ceval)")
    shutil.rmtree(dest, ignore_errors=True)
    for split in ("dev", "val"):
        (dest / split).mkdir(parents=True)
        for f in sorted((src / split).glob("*.csv")):
            shutil.copyfile(f, dest / split / f.name)
    if (src / "subject_mapping.json").is_file():
        shutil.copyfile(src / "subject_mapping.json", dest / "subject_mapping.json")
    return len(list((dest / "val").glob("*_val.csv")))


def copy_tokenizer(src: Path, dest: Path) -> list[str]:
    """The tokenizer's files only (never weights)."""
    if not (src / "tokenizer_config.json").is_file():
        raise SystemExit(f"gpu_prep: no tokenizer at {src}; run `toolkit demo-model` first, or pass --tokenizer")
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    copied = [name for name in TOKENIZER_FILES if (src / name).is_file()]
    for name in copied:
        shutil.copyfile(src / name, dest / name)
    return copied


def travelling_bytes(repo: Path, carried: Sequence[Path]) -> int:
    """Bytes of what a device call sends: tracked and untracked-not-ignored files, and the carried paths."""
    listed = subprocess.run(["git", "-C", str(repo), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            capture_output=True, check=True).stdout.split(b"\0")
    total = sum((repo / n.decode()).stat().st_size for n in listed if n and (repo / n.decode()).is_file())
    for path in carried:
        total += sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    return total


def source_commit(repo: Path) -> dict[str, object]:
    """This checkout's commit and whether it has changes (the GPU machine gets a copy of the tree without ``.git``)."""
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, timeout=30).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    return {"commit": git("rev-parse", "--short", "HEAD"), "dirty": bool(git("status", "--porcelain", "--untracked-files=no"))}


def is_ignored(repo: Path, path: Path) -> bool:
    return subprocess.run(["git", "-C", str(repo), "check-ignore", "-q", str(path)]).returncode == 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dest", type=Path, default=DEST)
    p.add_argument("--ceval", type=Path, default=REPO.parent / "shared" / "data" / "ceval")
    p.add_argument("--tokenizer", type=Path, default=Path("~/.cache/toolkit/models/SmolLM2-135M-Instruct").expanduser())
    p.add_argument("--no-wheels", action="store_true", help="leave the wheels out (the check itself needs none)")
    p.add_argument("--limit-mib", type=float, default=LIMIT_MIB)
    args = p.parse_args(argv)
    dest = args.dest.resolve()
    if not is_ignored(REPO, dest):
        raise SystemExit(f"gpu_prep: {dest} is not ignored by git; it must travel as a carry path, not as tracked files")
    wheels = [] if args.no_wheels else download_wheels(dest / "wheels")
    subjects = copy_ceval(args.ceval, dest / "ceval")
    tok_files = copy_tokenizer(args.tokenizer, dest / "tokenizer")
    source = source_commit(REPO)
    (dest / "source.json").write_text(json.dumps(source) + "\n", encoding="utf-8")
    size = travelling_bytes(REPO, [dest])
    carry = [str(dest.relative_to(REPO))] if dest.is_relative_to(REPO) else [str(dest)]
    summary = {"source": source, "wheels": wheels, "ceval_subjects": subjects, "tokenizer_files": tok_files,
               "travelling_mib": round(size / 2**20, 2), "limit_mib": args.limit_mib,
               "run": {"command": RUN_COMMAND, "carry": carry, "timeout_s": RUN_TIMEOUT_S}}
    print(json.dumps(summary, indent=2))
    if size > args.limit_mib * 2**20:
        print(f"gpu_prep: {size / 2**20:.1f} MiB would travel, over the {args.limit_mib} MiB limit", file=sys.stderr)
        return 1
    print(f"\nThen, from this checkout (the one the session started in), on the GPU machine:\n"
          f"  run(command={RUN_COMMAND!r}, carry={carry!r}, timeout_s={RUN_TIMEOUT_S})\n"
          f"It writes gpu_check.json, gpu_check.md, gpu_check.log and env.txt to $OUT.", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
