"""What the static config reader evaluates: operators, builtins, methods, pure imported functions, limits.

Everything here only computes on plain data; a construct not listed is :class:`Unsupported`
and reported with its line, never run (see :mod:`toolkit.config.static`).
"""

from __future__ import annotations

import ast
import operator
import os.path
import string
from collections.abc import Callable
from typing import Any

MAX_STEPS = 1_000_000
"""Nodes evaluated per read before it stops (a config is data, not a computation: C-Eval's 52-subject
ppl config takes about 7,000)."""
MAX_SIZE = 1_000_000
"""Longest string, list or range an expression may build."""

PURE_IMPORTS: dict[str, Callable[..., Any]] = {
    "os.path.join": os.path.join, "os.path.basename": os.path.basename, "os.path.dirname": os.path.dirname,
    "os.path.splitext": os.path.splitext, "os.path.split": os.path.split, "os.path.normpath": os.path.normpath,
}
"""Imported functions that only compute on their arguments (paths as strings), so a check may call them."""

BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow,
    ast.BitOr: operator.or_, ast.BitAnd: operator.and_,
}
COMPARE: dict[type, Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt,
    ast.GtE: operator.ge, ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b,
    ast.Is: operator.is_, ast.IsNot: operator.is_not,
}
UNARY: dict[type, Callable[[Any], Any]] = {ast.Not: operator.not_, ast.USub: operator.neg, ast.UAdd: operator.pos}
METHODS: dict[type, frozenset[str]] = {
    str: frozenset({"format", "join", "replace", "split", "rsplit", "strip", "lstrip", "rstrip", "upper", "lower",
                    "startswith", "endswith", "title", "capitalize", "splitlines", "zfill", "count", "find",
                    "removeprefix", "removesuffix", "partition", "rpartition"}),
    list: frozenset({"append", "extend", "insert", "pop", "remove", "copy", "index", "count", "reverse"}),
    tuple: frozenset({"index", "count"}),
    dict: frozenset({"get", "items", "keys", "values", "update", "copy", "pop", "setdefault"}),
    set: frozenset({"add", "update", "union", "intersection", "difference", "copy"}),
}


def _range(*args: int) -> range:
    r = range(*args)
    if len(r) > MAX_SIZE:
        raise ValueError(f"range of {len(r)} items")
    return r


BUILTINS: dict[str, Any] = {
    "dict": dict, "list": list, "tuple": tuple, "set": set, "sorted": sorted, "len": len, "range": _range,
    "zip": zip, "enumerate": enumerate, "str": str, "int": int, "float": float, "bool": bool, "min": min,
    "max": max, "sum": sum, "reversed": reversed, "any": any, "all": all, "abs": abs, "round": round,
    "True": True, "False": False, "None": None,
}


class Unsupported(Exception):
    """A construct the static reader does not evaluate (reported as a ConfigError with the line)."""



def check_format(text: str) -> None:
    """``"{0.__class__}".format(x)`` would read attributes: only plain fields are allowed."""
    for _, field, _, _ in string.Formatter().parse(text):
        if field and not field.replace("_", "a").isalnum():
            raise Unsupported(f"the format field {{{field}}}")


def describe(node: ast.AST) -> str:
    """What a message calls a construct the reader does not evaluate (``a while loop``)."""
    names = {ast.FunctionDef: "a function definition", ast.AsyncFunctionDef: "a function definition",
             ast.ClassDef: "a class definition", ast.Lambda: "a lambda", ast.While: "a while loop",
             ast.Try: "a try statement", ast.With: "a with statement", ast.NamedExpr: "an assignment expression",
             ast.Await: "await", ast.Yield: "yield", ast.Global: "a global statement", ast.Raise: "raise"}
    return names.get(type(node), f"{type(node).__name__} nodes")
