"""Before any model loads: resolve each dataset's data, check it, count its rows.

A missing file, an unreadable CSV or a validation error stops the run here,
with the file named, instead of deep inside a worker after the model has loaded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from toolkit.config.datapath import resolve_data_path
from toolkit.config.gate import validate_command, validation_hint
from toolkit.config.spec import DatasetSpec
from toolkit.dataset.layout import split_file
from toolkit.engine.planning.partitioner import PlannedDataset
from toolkit.errors import DataError, UsageError

SUPPORTED_LOADERS = ("ceval",)


def plan_datasets(datasets: Sequence[DatasetSpec], *, overrides: Mapping[str, str] | None = None,
                  validate: bool = True) -> list[PlannedDataset]:
    """Resolve, check and size every dataset; raise one error naming what is wrong and how to fix it."""
    from toolkit.engine.data import load_ceval_splits

    planned: list[PlannedDataset] = []
    problems: list[str] = []
    commands: list[str] = []
    for ds in datasets:
        if ds.loader not in SUPPORTED_LOADERS:
            raise UsageError(f"{ds.abbr}: dataset type {ds.loader!r} is not supported by the engine",
                             hint=f"supported: {', '.join(SUPPORTED_LOADERS)}", file=ds.source)
        data_dir = resolve_data_path(ds.path, overrides=overrides)
        for split in {ds.reader.train_split, ds.reader.test_split}:
            path = split_file(data_dir, ds.name, split)
            if not path.is_file():
                raise DataError(f"{ds.abbr}: missing data file", file=path,
                                hint="check the dataset's path, or map it with --data-path ID=DIR")
        if validate:
            found = _validation_errors(ds, Path(data_dir))
            if found:
                problems += found
                commands.append(validate_command(data_dir, _shots(ds)))
        splits = load_ceval_splits(data_dir, ds.name)
        planned.append(PlannedDataset(ds, str(Path(data_dir).resolve()), len(splits.get(ds.reader.test_split, []))))
    if problems:
        first = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise DataError(f"the data has errors: {first}{more}", hint=validation_hint(commands))
    return planned


def _shots(ds: DatasetSpec) -> int:
    """Dev rows the retriever takes (5 for C-Eval's FixKRetriever, 0 zero-shot)."""
    return max(ds.infer.retriever.fix_id_list, default=-1) + 1


def _validation_errors(ds: DatasetSpec, data_dir: Path) -> list[str]:
    from toolkit.validate import ValidateOptions
    from toolkit.validate.validator import validate_split_file

    options = ValidateOptions(shots=_shots(ds))
    found: list[str] = []
    for split in dict.fromkeys((ds.reader.train_split, ds.reader.test_split)):
        path = split_file(data_dir, ds.name, split)
        for f in validate_split_file(path, split, options=options):
            if f.severity.value == "error":
                where = f"{path}:{f.line}" if f.line else str(path)
                found.append(f"{where}: {f.code} {f.message}")
    return found
