"""``toolkit gen-config DATASET_DIR``: read the dataset, render its configs, write them.

The I/O edge of gen-config. The files are written all or nothing (each is on disk
before any is renamed into place, :class:`toolkit.staged.StagedWrites`); a file that exists and
was not written by gen-config (it lacks our first line) is never overwritten without
``force``. Hashed files of an earlier run whose prompts have changed since would
leave two configs for one dataset, so the ones gen-config wrote are removed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from toolkit.config.context import GENERATED_MARK, GenConfigOptions, check_rows
from toolkit.config.facts import read_dataset_facts
from toolkit.config.gate import check_dataset_folder
from toolkit.config.render import RenderedFile, data_path_for, render_configs
from toolkit.errors import UsageError
from toolkit.fileio import write_error
from toolkit.staged import StagedWrites

DEFAULT_OUT_ROOT = Path("configs") / "datasets"
"""Where ``opencompass --datasets NAME`` (and ``toolkit eval``) look first, relative to the CWD."""


@dataclass(frozen=True)
class WrittenFile:
    """One file of a gen-config run and what happened to it."""

    path: Path
    rendered: RenderedFile
    status: str
    """``written`` (new or changed) or ``unchanged`` (same bytes already there)."""


@dataclass(frozen=True)
class GenConfigResult:
    """What :func:`generate_configs` did."""

    dataset: str
    out_dir: Path
    data_path: str
    subjects: int
    files: tuple[WrittenFile, ...]
    removed: tuple[Path, ...]
    """Stale hashed files of an earlier run, removed."""

    def aggregator_names(self) -> list[str]:
        """``["my_bank_gen", "my_bank_ppl"]``: what ``--datasets`` takes."""
        return [f.path.stem for f in self.files if f.rendered.kind == "aggregator"]


def _is_generated(path: Path) -> bool:
    try:
        with path.open(encoding="utf-8") as handle:
            return handle.readline().startswith(GENERATED_MARK)
    except (OSError, UnicodeDecodeError):
        return False


def _stale(out_dir: Path, stems: list[str], keep: set[str]) -> list[Path]:
    pattern = re.compile(rf"^(?:{'|'.join(map(re.escape, stems))})_[0-9a-f]{{6}}\.py$")
    if not out_dir.is_dir():
        return []
    return sorted(
        p for p in out_dir.iterdir() if pattern.match(p.name) and p.name not in keep and _is_generated(p)
    )


def generate_configs(
    dataset_dir: str | Path,
    options: GenConfigOptions | None = None,
    *,
    out_dir: str | Path | None = None,
    force: bool = False,
    validate: bool = True,
) -> GenConfigResult:
    """Write the OpenCompass configs of the dataset in ``dataset_dir``.

    ``out_dir`` defaults to ``configs/datasets/<name>/`` under the CWD. The dataset is
    validated first, as ``toolkit validate`` does (``validate=False`` skips it). Raises
    UsageError for bad options or a file we would overwrite without ``force``, DataError
    for a dataset with validation errors or one OpenCompass could not run; nothing is
    written then.

    Example:
        >>> result = generate_configs("data/my_bank", GenConfigOptions(mode="gen"))  # doctest: +SKIP
        >>> [f.path.name for f in result.files]  # doctest: +SKIP
        ['my_bank_gen_1a2b3c.py', 'my_bank_gen.py', 'my_bank_summary_groups.py']
    """
    options = options or GenConfigOptions()
    facts = read_dataset_facts(dataset_dir, name=options.name)
    check_rows(facts, options)
    if validate:
        check_dataset_folder(dataset_dir, shots=options.shots)
    data_path = data_path_for(facts, options)
    rendered = render_configs(facts, options, data_path=data_path)
    out = Path(out_dir) if out_dir is not None else DEFAULT_OUT_ROOT / facts.name
    if out.exists() and not out.is_dir():
        raise UsageError("the output path is a file, not a folder", file=out, hint="pass another --out")
    for item in rendered:
        target = out / item.filename
        if target.exists() and not force and not _is_generated(target):
            raise UsageError(
                "exists and was not written by gen-config; not overwriting it",
                file=target,
                hint="move it away, pass another --out, or pass --force",
            )
    written: list[WrittenFile] = []
    try:
        with StagedWrites() as batch:  # every config on disk before any takes its name: all or nothing
            for item in rendered:
                target = out / item.filename
                if target.is_file() and target.read_bytes() == item.text.encode("utf-8"):
                    written.append(WrittenFile(target, item, "unchanged"))
                    continue
                batch.write_text(target, item.text)
                written.append(WrittenFile(target, item, "written"))
    except OSError as err:
        raise write_error(err, err.filename or out) from None
    stems = [item.filename.removesuffix(f"_{item.suffix}.py") for item in rendered if item.kind == "dataset"]
    removed = _stale(out, stems, {item.filename for item in rendered})
    for path in removed:
        path.unlink(missing_ok=True)
    return GenConfigResult(facts.name, out, data_path, len(facts.subjects), tuple(written), tuple(removed))
