"""Reading a C-Eval-layout dataset the way OpenCompass's ``CEvalDataset`` reads it.

OpenCompass opens ``<path>/{dev,val,test}/<name>_<split>.csv`` as UTF-8 text with
universal newlines, reads it with ``csv.reader``, zips each row with the header
(a short row simply lacks its last columns, extra cells are dropped), adds
``explanation`` and ``answer`` as ``""`` where missing, and keeps every value as the
exact string, spaces included. Then it builds a Hugging Face table from the rows,
whose columns are the *first* row's keys. We do the same, except that a UTF-8 BOM
is tolerated and every failure is a :class:`~toolkit.errors.DataError` naming the file.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from pathlib import Path

from toolkit.dataset.layout import SPLITS, split_file
from toolkit.dataset.textio import long_csv_cells
from toolkit.errors import DataError

_BOM = "\ufeff"


def load_ceval_splits(path: str | Path, name: str) -> dict[str, list[dict[str, str]]]:
    """All three splits of one subject, each a list of rows ``{column: cell}``.

    ``path`` is the dataset root, already resolved to a local folder; all of
    ``dev``, ``val`` and ``test`` must exist (as OpenCompass requires). A file with
    only a header gives an empty list.

    Example:
        >>> splits = load_ceval_splits("../shared/data/ceval", "computer_network")  # doctest: +SKIP
        >>> splits["val"][0]["answer"]  # doctest: +SKIP
        'A'
    """
    return {split: _read_split(split_file(path, name, split)) for split in SPLITS}


def _read_split(file: Path) -> list[dict[str, str]]:
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        raise DataError(
            "split file not found",
            hint="a C-Eval-layout dataset needs dev/, val/ and test/ files for every subject (a header row is enough)",
            file=file,
        ) from None
    except OSError as exc:
        raise DataError(f"cannot read the file: {exc.strerror}", file=file) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DataError("the file is not UTF-8 text", hint="save it as UTF-8", file=file, line=line) from None
    # open(..., encoding='utf-8') without newline='' as OpenCompass does: universal newlines
    text = text.removeprefix(_BOM).replace("\r\n", "\n").replace("\r", "\n")
    reader = csv.reader(io.StringIO(text))
    try:
        with long_csv_cells(text):  # a cell over csv's 128 KiB default is legitimate (validate accepts it)
            header = next(reader, None)
            if header is None:
                raise DataError("the file is empty", hint="write the header row: id,question,A,B,C,D,answer", file=file)
            rows = []
            for cells in reader:
                row = dict(zip(header, cells))
                row.setdefault("explanation", "")
                row.setdefault("answer", "")
                rows.append(row)
    except csv.Error as exc:
        raise DataError(f"not valid CSV: {exc}", file=file, line=reader.line_num) from None
    return rows


def as_dataset_rows(rows: Sequence[Mapping[str, str]]) -> list[dict[str, str | None]]:
    """Rows as OpenCompass's Hugging Face table holds them (``Dataset.from_list``).

    The columns are the first row's keys; a later row that lacks one gets ``None``
    (which a prompt shows as ``None``), and keys the first row lacks are dropped, so
    a placeholder for them stays literal (``{D}``) in every prompt.

    Example:
        >>> as_dataset_rows([{"q": "1", "D": "4"}, {"q": "2"}])
        [{'q': '1', 'D': '4'}, {'q': '2', 'D': None}]
    """
    if not rows:
        return []
    columns = list(rows[0])
    return [{column: row.get(column) for column in columns} for row in rows]
