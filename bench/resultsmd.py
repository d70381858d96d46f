"""``bench/RESULTS.md``: one ``## section`` per benchmark, each rewritten only by its own script.

Several benchmarks (and several people) write into the same file; a script replaces
its own section and leaves every other one byte for byte as it was.
"""

from __future__ import annotations

import os
import platform
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def replace_section(text: str, title: str, body: str) -> str:
    """Replace (or append) the ``## title`` section of a Markdown text.

    A section runs from its ``## title`` line to the next ``## `` heading or the end.

    Example:
        >>> replace_section("# R\\n\\n## a\\nold\\n\\n## b\\nkeep\\n", "a", "new\\n")
        '# R\\n\\n## a\\n\\nnew\\n\\n## b\\nkeep\\n'
    """
    block = f"## {title}\n\n{body.rstrip()}\n"
    pattern = re.compile(rf"^## {re.escape(title)}[ \t]*\n.*?(?=^## |\Z)", re.M | re.S)
    if pattern.search(text):
        return pattern.sub(lambda _m: block + "\n", text, count=1).rstrip("\n") + "\n"
    base = text.rstrip("\n")
    return (base + "\n\n" if base else "# Benchmark results\n\n") + block


def write_section(path: Path, title: str, body: str) -> None:
    """Rewrite one section of ``path`` (created if missing), keeping the others."""
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    path.write_text(replace_section(text, title, body), encoding="utf-8")


def table(header: Sequence[str], rows: Sequence[Sequence[Any]], align: str | None = None) -> str:
    """A Markdown table; ``align`` is one letter per column, ``l`` or ``r`` (default: first l, rest r).

    Example:
        >>> print(table(["tool", "s"], [["ours", 1.5]]))
        | tool | s |
        | --- | ---: |
        | ours | 1.5 |
    """
    align = align or "l" + "r" * (len(header) - 1)
    marks = ["---:" if a == "r" else "---" for a in align]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(marks) + " |"]
    lines += ["| " + " | ".join("" if c is None else str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def machine_facts() -> dict[str, Any]:
    """CPU model, cores, memory, OS, Python, and the load average now (the machine is shared)."""
    facts: dict[str, Any] = {"platform": platform.platform(), "python": platform.python_version(),
                             "cpu_count": os.cpu_count(), "load_avg": [round(x, 2) for x in os.getloadavg()]}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                facts["cpu"] = line.split(":", 1)[1].strip()
                break
        mem = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
        facts["memory_gib"] = round(int(mem) / 2**20, 1)
    except (OSError, IndexError, ValueError):
        pass
    return facts
