"""The evaluator behind :mod:`toolkit.config.static`: one config file's statements and expressions,
walked on the AST with plain data, under the rules of :mod:`toolkit.config.static_rules`."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from toolkit.config.markers import ConfigDict, ImportedName, imported_copy
from toolkit.config.pyconfig import resolve_base_module
from toolkit.config.static_rules import (
    BINARY,
    BUILTINS,
    COMPARE,
    MAX_SIZE,
    METHODS,
    PURE_IMPORTS,
    UNARY,
    Unsupported,
    check_format,
    describe,
    is_read_base,
)
from toolkit.errors import ConfigError

if TYPE_CHECKING:
    from toolkit.config.static import Session


class Reader:
    """One file's evaluation; base files are read by the shared session."""

    def __init__(self, path: Path, session: Session) -> None:
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
            op = BINARY.get(type(node.op))
            if op is None or not isinstance(node.target, (ast.Name, ast.Subscript)):
                raise Unsupported("this augmented assignment")
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
        elif isinstance(node, ast.With) and is_read_base(node):
            for stmt in node.body:
                self.line = stmt.lineno
                if isinstance(stmt, ast.ImportFrom):
                    self.import_from(stmt, base=True)
                elif not isinstance(stmt, ast.Pass):
                    raise Unsupported("anything but `from ... import ...` inside `with read_base():`")
        else:
            raise Unsupported(describe(node))

    def import_from(self, node: ast.ImportFrom, *, base: bool = False) -> None:
        module, level = node.module or "", node.level
        if base or level or module.startswith("opencompass.configs"):
            if not module:
                raise Unsupported("`from . import name`; import names from a config file")
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
                raise Unsupported(f"`from {module} import *`")
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
                raise Unsupported("item assignment to this value")
            container[self.index(target.slice)] = value
        elif isinstance(target, ast.Attribute) and not target.attr.startswith("_"):
            container = self.expr(target.value)
            if not isinstance(container, ConfigDict):
                raise Unsupported(f"setting attribute {target.attr!r}")
            container[target.attr] = value
        else:
            raise Unsupported(describe(target))

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
                raise Unsupported("deleting items of this value")
            del container[self.index(target.slice)]
            return
        raise Unsupported(describe(target))

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
        if isinstance(node, ast.BinOp) and type(node.op) in BINARY:
            left, right = self.expr(node.left), self.expr(node.right)
            if isinstance(node.op, ast.Pow) and isinstance(right, int) and abs(right) > 64:
                raise Unsupported("a power this large")
            if isinstance(node.op, ast.Mult) and any(isinstance(v, int) and v > MAX_SIZE for v in (left, right)):
                raise Unsupported("repeating a sequence this many times")
            if isinstance(node.op, ast.Mod) and isinstance(left, str):
                raise Unsupported("%-formatting")
            return self.sized(BINARY[type(node.op)](left, right))
        if isinstance(node, ast.UnaryOp) and type(node.op) in UNARY:
            return UNARY[type(node.op)](self.expr(node.operand))
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
                if not COMPARE[type(op)](left, right):
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
        raise Unsupported(describe(node))

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
        if name in BUILTINS:
            return BUILTINS[name]
        raise NameError(f"name {name!r} is not defined")

    def attribute(self, value: Any, attr: str) -> Any:
        if attr.startswith("_"):
            raise Unsupported(f"attribute {attr!r} (a config reads data, not Python internals)")
        if isinstance(value, ImportedName):
            return ImportedName(f"{value.path}.{attr}")
        if isinstance(value, ConfigDict) and attr in value:
            return value[attr]
        if isinstance(value, ConfigDict) and attr == "deepcopy":
            return value.deepcopy
        for kind, names in METHODS.items():
            if isinstance(value, kind) and attr in names:
                return getattr(value, attr)
        raise Unsupported(f"attribute {attr!r} of a {type(value).__name__}")

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
            pure = PURE_IMPORTS.get(func.path)
            if pure is None:
                raise ConfigError(f"the config calls {func.path}(...), which --check does not run",
                                  file=self.path, line=self.line,
                                  hint=f"write dict(type={func.path.rsplit('.', 1)[-1]}, ...) instead of calling it")
            return pure(*args, **kwargs)
        if getattr(func, "__name__", None) == "format" and isinstance(getattr(func, "__self__", None), str):
            check_format(func.__self__)
        if getattr(func, "__name__", None) == "sorted" and "key" in kwargs:
            raise Unsupported("sorted(..., key=...)")
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
            raise Unsupported("iterating over an imported name")
        for item in iter(value):
            self.session.step()
            yield item

    @staticmethod
    def sized(value: Any) -> Any:
        if isinstance(value, (str, list, tuple, dict, set)) and len(value) > MAX_SIZE:
            raise Unsupported(f"a value of {len(value)} items")
        return value
