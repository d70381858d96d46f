"""Read an OpenCompass-style config's variables from its text alone, never running it.

:func:`toolkit.config.pyconfig.read_config` executes a config, as mmengine and OpenCompass
do (configs are Python: run those you trust). A *checking* command must not: ``gen-config
--check`` needs only each file's ``*_datasets`` list to recompute its hash. This module
parses the file with :mod:`ast` and evaluates the data-building subset configs are written
in — literals, names, ``dict(...)``/``list(...)``, f-strings, ``for``/``if`` statements,
comprehensions, ``append``/``extend``/``update``, subscripts, slices, ``del``, and the
imports (``from opencompass… import X`` stands for its import path; ``with read_base():``
imports are read from their files the same way). Anything else — ``def``, ``lambda``,
``class``, ``while``, calls of imported names, attributes that start with ``_`` — is an
error naming the line, never run. The values are those :func:`read_config` gives.
"""

from __future__ import annotations

import ast
import operator
import os.path
import string
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from toolkit.config.markers import ConfigDict, ImportedName, imported_copy, to_plain
from toolkit.config.pyconfig import resolve_base_module
from toolkit.errors import ConfigError

MAX_STEPS = 1_000_000
"""Nodes evaluated per read before it stops (a config is data, not a computation: C-Eval's 52-subject
ppl config takes about 7,000)."""
MAX_SIZE = 1_000_000
"""Longest string, list or range an expression may build."""

_PURE_IMPORTS: dict[str, Callable[..., Any]] = {
    "os.path.join": os.path.join, "os.path.basename": os.path.basename, "os.path.dirname": os.path.dirname,
    "os.path.splitext": os.path.splitext, "os.path.split": os.path.split, "os.path.normpath": os.path.normpath,
}
"""Imported functions that only compute on their arguments (paths as strings), so a check may call them."""

_BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow,
    ast.BitOr: operator.or_, ast.BitAnd: operator.and_,
}
_COMPARE: dict[type, Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt,
    ast.GtE: operator.ge, ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b,
    ast.Is: operator.is_, ast.IsNot: operator.is_not,
}
_UNARY: dict[type, Callable[[Any], Any]] = {ast.Not: operator.not_, ast.USub: operator.neg, ast.UAdd: operator.pos}
_METHODS: dict[type, frozenset[str]] = {
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


_BUILTINS: dict[str, Any] = {
    "dict": dict, "list": list, "tuple": tuple, "set": set, "sorted": sorted, "len": len, "range": _range,
    "zip": zip, "enumerate": enumerate, "str": str, "int": int, "float": float, "bool": bool, "min": min,
    "max": max, "sum": sum, "reversed": reversed, "any": any, "all": all, "abs": abs, "round": round,
    "True": True, "False": False, "None": None,
}


class _Unsupported(Exception):
    """A construct the static reader does not evaluate (reported as a ConfigError with the line)."""


class _Reader:
    """One file's evaluation; base files are read by the shared session."""

    def __init__(self, path: Path, session: _Session) -> None:
        self.path, self.session = path, session
        self.scopes: list[dict[str, Any]] = [{}]
        self.line = 0

    # -- statements -----------------------------------------------------------------------
    def module(self, tree: ast.Module) -> dict[str, Any]:
        self.block(tree.body)
        return self.scopes[0]

    def block(self, body: list[ast.stmt]) -> None:
        for stmt in body:
            self.line = stmt.lineno
            self.statement(stmt)

    def statement(self, node: ast.stmt) -> None:  # noqa: C901 - one branch per statement kind
        if isinstance(node, ast.Assign):
            value = self.expr(node.value)
            for target in node.targets:
                self.assign(target, value)
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            self.assign(node.target, self.expr(node.value))
        elif isinstance(node, ast.AugAssign):
            op = _BINARY.get(type(node.op))
            if op is None or not isinstance(node.target, (ast.Name, ast.Subscript)):
                raise _Unsupported("this augmented assignment")
            current = self.expr(ast.Name(node.target.id, ast.Load()) if isinstance(node.target, ast.Name)
                                else ast.Subscript(node.target.value, node.target.slice, ast.Load()))
            value = self.expr(node.value)
            self.assign(node.target, current.__iadd__(value) if isinstance(node.op, ast.Add) and isinstance(
                current, list) else self.sized(op(current, value)))
        elif isinstance(node, ast.Expr):
            self.expr(node.value)  # a call such as datasets.append(...); a docstring
        elif isinstance(node, ast.For) and not node.orelse:
            for item in self.iterate(self.expr(node.iter)):
                self.assign(node.target, item)
                self.block(node.body)
        elif isinstance(node, ast.If):
            self.block(node.body if self.expr(node.test) else node.orelse)
        elif isinstance(node, ast.Delete):
            for target in node.targets:
                self.delete(target)
        elif isinstance(node, ast.Pass):
            pass
        elif isinstance(node, ast.ImportFrom):
            self.import_from(node)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                name = alias.asname or alias.name.split(".")[0]
                self.scopes[0][name] = ImportedName(alias.name if alias.asname else name)
        elif isinstance(node, ast.With) and _is_read_base(node):
            for stmt in node.body:
                self.line = stmt.lineno
                if isinstance(stmt, ast.ImportFrom):
                    self.import_from(stmt, base=True)
                elif not isinstance(stmt, ast.Pass):
                    raise _Unsupported("anything but `from ... import ...` inside `with read_base():`")
        else:
            raise _Unsupported(_describe(node))

    def import_from(self, node: ast.ImportFrom, *, base: bool = False) -> None:
        module, level = node.module or "", node.level
        if base or level or module.startswith("opencompass.configs"):
            if not module:
                raise _Unsupported("`from . import name`; import names from a config file")
            values = self.session.read(resolve_base_module(module, level, self.path))
            for alias in node.names:
                if alias.name == "*":
                    self.scopes[0].update({k: imported_copy(v) for k, v in values.items()})
                elif alias.name not in values:
                    raise ConfigError(f"{'.' * level}{module} defines no variable {alias.name!r}", file=self.path,
                                      line=node.lineno)
                else:
                    self.scopes[0][alias.asname or alias.name] = imported_copy(values[alias.name])
            return
        for alias in node.names:
            if alias.name == "*":
                raise _Unsupported(f"`from {module} import *`")
            self.scopes[0][alias.asname or alias.name] = ImportedName(f"{module}.{alias.name}")

    def assign(self, target: ast.expr, value: Any) -> None:
        if isinstance(target, ast.Name):
            self.scopes[-1][target.id] = value
        elif isinstance(target, (ast.Tuple, ast.List)):
            items = list(self.iterate(value))
            starred = [i for i, elt in enumerate(target.elts) if isinstance(elt, ast.Starred)]
            after = len(target.elts) - 1 - starred[0] if starred else 0
            if (len(items) < len(target.elts) - 1) if starred else len(items) != len(target.elts):
                raise ValueError(f"cannot unpack {len(items)} values into {len(target.elts)} names")
            if starred:
                k = starred[0]
                items = [*items[:k], items[k:len(items) - after], *items[len(items) - after:]]
            for sub, item in zip(target.elts, items):
                self.assign(sub.value if isinstance(sub, ast.Starred) else sub, item)
        elif isinstance(target, ast.Subscript):
            container = self.expr(target.value)
            if not isinstance(container, (dict, list)):
                raise _Unsupported("item assignment to this value")
            container[self.index(target.slice)] = value
        elif isinstance(target, ast.Attribute) and not target.attr.startswith("_"):
            container = self.expr(target.value)
            if not isinstance(container, ConfigDict):
                raise _Unsupported(f"setting attribute {target.attr!r}")
            container[target.attr] = value
        else:
            raise _Unsupported(_describe(target))

    def delete(self, target: ast.expr) -> None:
        if isinstance(target, ast.Name):
            for scope in reversed(self.scopes):
                if target.id in scope:
                    del scope[target.id]
                    return
            raise NameError(f"name {target.id!r} is not defined")
        if isinstance(target, ast.Subscript):
            container = self.expr(target.value)
            if not isinstance(container, (dict, list)):
                raise _Unsupported("deleting items of this value")
            del container[self.index(target.slice)]
            return
        raise _Unsupported(_describe(target))

    # -- expressions ----------------------------------------------------------------------
    def expr(self, node: ast.expr) -> Any:  # noqa: C901 - one branch per expression kind
        self.session.step()
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            return self.lookup(node.id)
        if isinstance(node, ast.List):
            return self.elements(node.elts)
        if isinstance(node, ast.Tuple):
            return tuple(self.elements(node.elts))
        if isinstance(node, ast.Set):
            return set(self.elements(node.elts))
        if isinstance(node, ast.Dict):
            out: dict[Any, Any] = {}
            for key, value in zip(node.keys, node.values):
                if key is None:
                    out.update(self.expr(value))
                else:
                    out[self.expr(key)] = self.expr(value)
            return out
        if isinstance(node, ast.JoinedStr):
            return self.sized("".join(str(self.expr(v)) if not isinstance(v, ast.FormattedValue) else self.formatted(v)
                                      for v in node.values))
        if isinstance(node, ast.FormattedValue):
            return self.formatted(node)
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            left, right = self.expr(node.left), self.expr(node.right)
            if isinstance(node.op, ast.Pow) and isinstance(right, int) and abs(right) > 64:
                raise _Unsupported("a power this large")
            if isinstance(node.op, ast.Mult) and any(isinstance(v, int) and v > MAX_SIZE for v in (left, right)):
                raise _Unsupported("repeating a sequence this many times")
            if isinstance(node.op, ast.Mod) and isinstance(left, str):
                raise _Unsupported("%-formatting")
            return self.sized(_BINARY[type(node.op)](left, right))
        if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
            return _UNARY[type(node.op)](self.expr(node.operand))
        if isinstance(node, ast.BoolOp):
            value: Any = None
            for sub in node.values:
                value = self.expr(sub)
                if (not value) if isinstance(node.op, ast.And) else value:
                    return value
            return value
        if isinstance(node, ast.Compare):
            left = self.expr(node.left)
            for op, comparator in zip(node.ops, node.comparators):
                right = self.expr(comparator)
                if not _COMPARE[type(op)](left, right):
                    return False
                left = right
            return True
        if isinstance(node, ast.IfExp):
            return self.expr(node.body if self.expr(node.test) else node.orelse)
        if isinstance(node, ast.Subscript):
            return self.expr(node.value)[self.index(node.slice)]
        if isinstance(node, ast.Attribute):
            return self.attribute(self.expr(node.value), node.attr)
        if isinstance(node, ast.Call):
            return self.call(node)
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            return self.comprehension(node)
        raise _Unsupported(_describe(node))

    def elements(self, elts: list[ast.expr]) -> list[Any]:
        out: list[Any] = []
        for elt in elts:
            if isinstance(elt, ast.Starred):
                out.extend(self.iterate(self.expr(elt.value)))
            else:
                out.append(self.expr(elt))
        return self.sized(out)

    def formatted(self, node: ast.FormattedValue) -> str:
        value = self.expr(node.value)
        value = {-1: value, 115: str(value), 114: repr(value), 97: ascii(value)}[node.conversion]
        spec = self.expr(node.format_spec) if node.format_spec is not None else ""
        return format(value, spec)

    def index(self, node: ast.expr) -> Any:
        if isinstance(node, ast.Slice):
            return slice(*(self.expr(part) if part is not None else None for part in (node.lower, node.upper, node.step)))
        return self.expr(node)

    def lookup(self, name: str) -> Any:
        for scope in reversed(self.scopes):
            if name in scope:
                return scope[name]
        if name in _BUILTINS:
            return _BUILTINS[name]
        raise NameError(f"name {name!r} is not defined")

    def attribute(self, value: Any, attr: str) -> Any:
        if attr.startswith("_"):
            raise _Unsupported(f"attribute {attr!r} (a config reads data, not Python internals)")
        if isinstance(value, ImportedName):
            return ImportedName(f"{value.path}.{attr}")
        if isinstance(value, ConfigDict) and attr in value:
            return value[attr]
        if isinstance(value, ConfigDict) and attr == "deepcopy":
            return value.deepcopy
        for kind, names in _METHODS.items():
            if isinstance(value, kind) and attr in names:
                return getattr(value, attr)
        raise _Unsupported(f"attribute {attr!r} of a {type(value).__name__}")

    def call(self, node: ast.Call) -> Any:
        func = self.expr(node.func)
        args = self.elements(node.args)
        kwargs: dict[str, Any] = {}
        for kw in node.keywords:
            if kw.arg is None:
                kwargs.update(self.expr(kw.value))
            else:
                kwargs[kw.arg] = self.expr(kw.value)
        if isinstance(func, ImportedName):
            pure = _PURE_IMPORTS.get(func.path)
            if pure is None:
                raise ConfigError(f"the config calls {func.path}(...), which --check does not run",
                                  file=self.path, line=self.line,
                                  hint=f"write dict(type={func.path.rsplit('.', 1)[-1]}, ...) instead of calling it")
            return pure(*args, **kwargs)
        if getattr(func, "__name__", None) == "format" and isinstance(getattr(func, "__self__", None), str):
            _check_format(func.__self__)
        if getattr(func, "__name__", None) == "sorted" and "key" in kwargs:
            raise _Unsupported("sorted(..., key=...)")
        return self.sized(func(*args, **kwargs))

    def comprehension(self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp) -> Any:
        results: list[Any] = []

        def run(generators: list[ast.comprehension]) -> None:
            if not generators:
                if isinstance(node, ast.DictComp):
                    results.append((self.expr(node.key), self.expr(node.value)))
                else:
                    results.append(self.expr(node.elt))
                self.sized(results)
                return
            first, rest = generators[0], generators[1:]
            for item in self.iterate(self.expr(first.iter)):
                self.assign(first.target, item)
                if all(self.expr(cond) for cond in first.ifs):
                    run(rest)

        with self.scope():
            run(node.generators)
        if isinstance(node, ast.DictComp):
            return dict(results)
        return set(results) if isinstance(node, ast.SetComp) else results

    @contextmanager
    def scope(self) -> Iterator[None]:
        self.scopes.append({})
        try:
            yield
        finally:
            self.scopes.pop()

    def iterate(self, value: Any) -> Iterator[Any]:
        if isinstance(value, (ImportedName,)):
            raise _Unsupported("iterating over an imported name")
        for item in iter(value):
            self.session.step()
            yield item

    @staticmethod
    def sized(value: Any) -> Any:
        if isinstance(value, (str, list, tuple, dict, set)) and len(value) > MAX_SIZE:
            raise _Unsupported(f"a value of {len(value)} items")
        return value


def _check_format(text: str) -> None:
    """``"{0.__class__}".format(x)`` would read attributes: only plain fields are allowed."""
    for _, field, _, _ in string.Formatter().parse(text):
        if field and not field.replace("_", "a").isalnum():
            raise _Unsupported(f"the format field {{{field}}}")


def _is_read_base(node: ast.With) -> bool:
    if len(node.items) != 1 or not isinstance(node.items[0].context_expr, ast.Call):
        return False
    func = node.items[0].context_expr.func
    return (isinstance(func, ast.Name) and func.id == "read_base") or (
        isinstance(func, ast.Attribute) and func.attr == "read_base")


def _describe(node: ast.AST) -> str:
    names = {ast.FunctionDef: "a function definition", ast.AsyncFunctionDef: "a function definition",
             ast.ClassDef: "a class definition", ast.Lambda: "a lambda", ast.While: "a while loop",
             ast.Try: "a try statement", ast.With: "a with statement", ast.NamedExpr: "an assignment expression",
             ast.Await: "await", ast.Yield: "yield", ast.Global: "a global statement", ast.Raise: "raise"}
    return names.get(type(node), f"{type(node).__name__} nodes")


class _Session:
    """One top-level read: each base file read once, cycles caught, a step budget shared."""

    def __init__(self) -> None:
        self.done: dict[Path, dict[str, Any]] = {}
        self.running: list[Path] = []
        self.steps = 0

    def step(self) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise _Unsupported(f"more than {MAX_STEPS:,} steps")

    def read(self, path: Path, source: str | None = None) -> dict[str, Any]:
        if source is None:
            path = path.resolve()
            if path in self.done:
                return self.done[path]
        if path in self.running:
            chain = " -> ".join(p.name for p in [*self.running, path])
            raise ConfigError(f"config files import each other in a cycle: {chain}", file=path)
        text = _read_source(path) if source is None else source
        try:
            tree = ast.parse(text, filename=str(path))
        except SyntaxError as err:
            raise ConfigError(f"cannot read config: {err.msg}", file=path, line=err.lineno) from None
        reader = _Reader(path, self)
        self.running.append(path)
        try:
            values = reader.module(tree)
        except ConfigError:
            raise
        except _Unsupported as err:
            raise ConfigError(f"--check reads configs without running them and does not evaluate {err}",
                              file=path, line=reader.line,
                              hint="write the datasets as data: literals, dict(...), for/if, comprehensions, "
                                   "f-strings") from None
        except RecursionError:
            raise ConfigError("the config nests too deeply to read", file=path, line=reader.line) from None
        except Exception as err:  # the config's own error (a NameError, a KeyError…), found without running it
            raise ConfigError(f"the config would raise {type(err).__name__}: {err}", file=path,
                              line=reader.line) from None
        finally:
            self.running.pop()
        if source is None:
            self.done[path] = values
        return values


def _read_source(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError("config file not found", file=path, hint="check the path") from None
    except UnicodeDecodeError as err:
        raise ConfigError(f"not UTF-8 ({err.reason})", file=path, hint="save the config as UTF-8") from None


def read_config_static(path: str | Path, source: str | None = None) -> dict[str, Any]:
    """The public variables of a config, as :func:`~toolkit.config.pyconfig.read_config` gives them,
    without running any of its code. ``source`` reads that text instead of the file.

    Example:
        >>> values = read_config_static("x.py", source="n = ['a', 'b']\\nx_datasets = [dict(abbr=f'x-{s}') for s in n]\\n")
        >>> values["x_datasets"]
        [{'abbr': 'x-a'}, {'abbr': 'x-b'}]
    """
    p = Path(path)
    if source is None and not p.is_file():
        raise ConfigError("config file not found", file=p, hint="check the path")
    values = _Session().read(p, source)
    return {name: to_plain(value) for name, value in values.items()
            if not name.startswith("__") and not isinstance(value, ImportedName) and not callable(value)}
