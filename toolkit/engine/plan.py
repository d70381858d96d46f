"""Before any model loads: resolve each dataset's data, check it, count its rows.

A missing file, an unreadable CSV or a validation error stops the run here,
with the file named, instead of deep inside a worker after the model has loaded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from toolkit.config.datapath import resolve_data_path
from toolkit.config.spec import DatasetSpec
from toolkit.dataset.layout import split_file
from toolkit.engine.partition import PlannedDataset
from toolkit.errors import DataError, UsageError

SUPPORTED_LOADERS = ("ceval",)


def plan_datasets(datasets: Sequence[DatasetSpec], *, overrides: Mapping[str, str] | None = None,
                  validate: bool = True) -> list[PlannedDataset]:
    """Resolve, check and size every dataset; raise one error naming what is wrong and how to fix it."""
    from toolkit.engine.data import load_ceval_splits

    planned: list[PlannedDataset] = []
    problems: list[str] = []
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
            problems += _validation_errors(ds, Path(data_dir))
        splits = load_ceval_splits(data_dir, ds.name)
        planned.append(PlannedDataset(ds, str(Path(data_dir).resolve()), len(splits.get(ds.reader.test_split, []))))
    if problems:
        first = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise DataError(f"the data has errors: {first}{more}",
                        hint="run `toolkit validate <dataset folder>` to list them and `--fix` to repair what is safe; "
                             "or pass --no-validate to run anyway")
    return planned


def _validation_errors(ds: DatasetSpec, data_dir: Path) -> list[str]:
    from toolkit.validate import ValidateOptions
    from toolkit.validate.validator import validate_split_file

    # dev needs as many rows as the retriever takes examples (5 for C-Eval's FixKRetriever, 0 zero-shot)
    options = ValidateOptions(shots=max(ds.infer.retriever.fix_id_list, default=-1) + 1)
    found: list[str] = []
    for split in dict.fromkeys((ds.reader.train_split, ds.reader.test_split)):
        path = split_file(data_dir, ds.name, split)
        for f in validate_split_file(path, split, options=options):
            if f.severity.value == "error":
                where = f"{path}:{f.line}" if f.line else str(path)
                found.append(f"{where}: {f.code} {f.message}")
    return found
