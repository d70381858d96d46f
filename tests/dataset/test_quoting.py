"""Unclosed quotes (issue 9.2): a quoted cell that swallows rows is an error naming the line it opens on;
a multi-line cell in a full row stays a cell."""

from __future__ import annotations

import random

import pytest

from toolkit.dataset.quoting import UnclosedQuoteError
from toolkit.dataset.textio import format_csv, parse_csv

HEADER = "id,question,A,B,C,D,answer\n"


def rows(first: int, last: int) -> str:
    return "".join(f"{i},q{i},a,b,c,d,{'ABCD'[i % 4]}\n" for i in range(first, last))


@pytest.mark.parametrize(("text", "line", "says"), [
    (HEADER + rows(0, 3) + '3,"q3,a,b,c,d,A\n' + rows(4, 10), 5, "never closed"),  # runs to the end
    (HEADER + rows(0, 3) + '3,"q3,a,b,c,d,A\n' + rows(4, 7) + '7,"x, y",a,b,c,d,A\n' + rows(8, 10), 5,
     "runs to line 9"),  # closed by the next cell's opening quote
    (HEADER + '0,"q0,a,b,c,d,A\n1,screen is 5",b,c,d,e,A\n' + rows(2, 6), 2, "runs to line 3"),  # closed by 5"
    (HEADER + '0,"q0,a,b,c,d,A\n1,5",c,d,A\n' + rows(2, 6), 2, "runs to line 3"),  # and the row is short
    (HEADER + '0,"q0,a,b,c,d,A\n1,q1,a,b,c,d,B\n2,q2,a,5",c,d,A\n' + rows(3, 6), 2, "runs to line 4"),
    (HEADER + rows(0, 3) + '3,"the file ends here', 5, "the file ends inside it"),
    ("question\tA\tB\tanswer\nq0\ta\tb\tA\n\"q1\ta\tb\tB\nq2\ta\tb\tA\n", 3, "never closed"),
])
def test_a_swallowing_quote_names_the_line_it_opens(text: str, line: int, says: str) -> None:
    delimiter = "\t" if "\t" in text else ","
    with pytest.raises(UnclosedQuoteError, match=says) as err:
        parse_csv(text, delimiter=delimiter, source="bank.csv")
    assert err.value.location.line == line
    assert f"opens on line {line}" in err.value.message


@pytest.mark.parametrize("cell", [
    "第一行\n第二行",
    "def f(a, b):\n    return a, b",
    # LaTeX with commas on a line of its own (C-Eval's probability_and_statistics has this shape)
    "设总体$X$的分布列:\n\n$\\left(X_{1},X_{2},X_{3},X_{4},X_{5},\\cdots X_{n}\\right)$,\n上述正确的是____",
    "1,2,3,4,5,6\nlist above",
    'He said ""hi""\nthen left, quickly',
])
@pytest.mark.parametrize("column", [0, 1, 6])
def test_multiline_cells_in_full_rows_are_cells(cell: str, column: int) -> None:
    table = [[str(i), f"q{i}", "a", "b", "c", "d", "ABCD"[i % 4]] for i in range(6)]
    table[2][column] = cell.replace('""', '"')
    text = format_csv(HEADER.strip().split(","), table)
    assert [list(r) for r in parse_csv(text).rows] == table


def test_a_multiline_cell_in_a_crlf_file_counts_lines_as_an_editor_does() -> None:
    text = HEADER.replace("\n", "\r\n") + '0,"a\nb",a,b,c,d,A\r\n1,"never\r\nclosed,a,b,c,d,B\r\n2,q,a,b,c,d,C\r\n'
    with pytest.raises(UnclosedQuoteError) as err:
        parse_csv(text)
    assert err.value.location.line == 4


def test_a_header_alone_with_a_multiline_cell_is_read() -> None:
    assert parse_csv('id,"long\nname"\n').header == ("id", "long\nname")


def test_breaking_any_cell_of_a_bank_never_loses_rows_silently() -> None:
    """Remove one quote anywhere in a bank with multi-line cells and commas: either the parse fails
    naming the line, or no row is lost (a removed opening quote may split a cell into ragged rows, which
    the import skips with a reason and validate reports as E101)."""
    rng = random.Random(3)
    header = HEADER.strip().split(",")
    table = [[str(i), rng.choice(["q, with comma", "第一行\n第二行, 逗号", "plain", 'say "x"']), "a", "b, c",
              "d\ne", "f", "ABCD"[i % 4]] for i in range(12)]
    text = format_csv(header, table)
    quotes = [i for i, ch in enumerate(text) if ch == '"']
    raised = 0
    for at in quotes:
        broken = text[:at] + text[at + 1 :]
        try:
            parsed = parse_csv(broken)
        except UnclosedQuoteError:
            raised += 1
            continue
        assert len(parsed.rows) >= len(table), f"rows lost without an error (quote at {at} removed)"
    assert raised >= 10  # removed closing quotes that swallowed rows (the others only split a cell)
