"""Expressions for the static config reader (:mod:`toolkit.config.static`): literals, names, operators,
f-strings, subscripts, the allowed attributes and calls, comprehensions; each kind of node its own method,
under the rules of :mod:`toolkit.config.static_rules`."""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from toolkit.config.markers import ConfigDict, ImportedName
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
)
from toolkit.errors import ConfigError

if TYPE_CHECKING:
    from toolkit.config.static import Session

Comprehension = ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp


class ExpressionReader:
    """Evaluates expressions of one file in its scopes (module scope first, comprehension scopes after)."""

    def __init__(self, path: Path, session: Session) -> None:
        self.path, self.session = path, session
        self.scopes: list[dict[str, Any]] = [{}]
        self.line = 0

    def expr(self, node: ast.expr) -> Any:
        """The value of ``node``; Unsupported for any kind of node not in the reader's subset."""
        self.session.step()
        handler = _EXPRESSIONS.get(type(node))
        if handler is None:
            raise Unsupported(describe(node))
        return handler(self, node)

    # -- one method per kind of node ------------------------------------------------------
    def _constant(self, node: ast.Constant) -> Any:
        return node.value

    def _name(self, node: ast.Name) -> Any:
        return self.lookup(node.id)

    def _list(self, node: ast.List) -> Any:
        return self.elements(node.elts)

    def _tuple(self, node: ast.Tuple) -> Any:
        return tuple(self.elements(node.elts))

    def _set(self, node: ast.Set) -> Any:
        return set(self.elements(node.elts))

    def _dict(self, node: ast.Dict) -> Any:
        out: dict[Any, Any] = {}
        for key, value in zip(node.keys, node.values):
            if key is None:
                out.update(self.expr(value))
            else:
                out[self.expr(key)] = self.expr(value)
        return out

    def _joined(self, node: ast.JoinedStr) -> Any:
        return self.sized("".join(str(self.expr(v)) if not isinstance(v, ast.FormattedValue) else self.formatted(v)
                                  for v in node.values))

    def _binop(self, node: ast.BinOp) -> Any:
        if type(node.op) not in BINARY:
            raise Unsupported(describe(node))
        left, right = self.expr(node.left), self.expr(node.right)
        if isinstance(node.op, ast.Pow) and isinstance(right, int) and abs(right) > 64:
            raise Unsupported("a power this large")
        if isinstance(node.op, ast.Mult) and any(isinstance(v, int) and v > MAX_SIZE for v in (left, right)):
            raise Unsupported("repeating a sequence this many times")
        if isinstance(node.op, ast.Mod) and isinstance(left, str):
            raise Unsupported("%-formatting")
        return self.sized(BINARY[type(node.op)](left, right))

    def _unary(self, node: ast.UnaryOp) -> Any:
        if type(node.op) not in UNARY:
            raise Unsupported(describe(node))
        return UNARY[type(node.op)](self.expr(node.operand))

    def _boolop(self, node: ast.BoolOp) -> Any:
        value: Any = None
        for sub in node.values:
            value = self.expr(sub)
            if (not value) if isinstance(node.op, ast.And) else value:
                return value
        return value

    def _compare(self, node: ast.Compare) -> Any:
        left = self.expr(node.left)
        for op, comparator in zip(node.ops, node.comparators):
            right = self.expr(comparator)
            if not COMPARE[type(op)](left, right):
                return False
            left = right
        return True

    def _ifexp(self, node: ast.IfExp) -> Any:
        return self.expr(node.body if self.expr(node.test) else node.orelse)

    def _subscript(self, node: ast.Subscript) -> Any:
        return self.expr(node.value)[self.index(node.slice)]

    def _attribute(self, node: ast.Attribute) -> Any:
        return self.attribute(self.expr(node.value), node.attr)

    # -- the pieces -----------------------------------------------------------------------
    def elements(self, elts: list[ast.expr]) -> list[Any]:
        """The values of a list's (tuple's, set's, call's) elements, ``*starred`` ones spread."""
        out: list[Any] = []
        for elt in elts:
            if isinstance(elt, ast.Starred):
                out.extend(self.iterate(self.expr(elt.value)))
            else:
                out.append(self.expr(elt))
        return self.sized(out)

    def formatted(self, node: ast.FormattedValue) -> str:
        """One ``{value!conversion:spec}`` of an f-string."""
        value = self.expr(node.value)
        value = {-1: value, 115: str(value), 114: repr(value), 97: ascii(value)}[node.conversion]
        spec = self.expr(node.format_spec) if node.format_spec is not None else ""
        return format(value, spec)

    def index(self, node: ast.expr) -> Any:
        """A subscript's index or slice."""
        if isinstance(node, ast.Slice):
            return slice(*(self.expr(part) if part is not None else None for part in (node.lower, node.upper, node.step)))
        return self.expr(node)

    def lookup(self, name: str) -> Any:
        """A name: the innermost scope that has it, else an allowed builtin."""
        for scope in reversed(self.scopes):
            if name in scope:
                return scope[name]
        if name in BUILTINS:
            return BUILTINS[name]
        raise NameError(f"name {name!r} is not defined")

    def attribute(self, value: Any, attr: str) -> Any:
        """An attribute a config may read: of an imported name, a ConfigDict key, or an allowed method."""
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
        """A call of an allowed builtin or method, or of a pure function imported from the standard library."""
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

    def comprehension(self, node: Comprehension) -> Any:
        """A list, set or dict comprehension or a generator expression, in a scope of its own."""
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

    def assign(self, target: ast.expr, value: Any) -> None:
        """Bind ``value`` to ``target`` (the statement reader's assignment rules)."""
        raise NotImplementedError

    @contextmanager
    def scope(self) -> Iterator[None]:
        """A scope of its own for a comprehension's names."""
        self.scopes.append({})
        try:
            yield
        finally:
            self.scopes.pop()

    def iterate(self, value: Any) -> Iterator[Any]:
        """Iterate ``value``, each item one step of the session's budget."""
        if isinstance(value, (ImportedName,)):
            raise Unsupported("iterating over an imported name")
        for item in iter(value):
            self.session.step()
            yield item

    @staticmethod
    def sized(value: Any) -> Any:
        """``value``, unless it is a container larger than the reader allows."""
        if isinstance(value, (str, list, tuple, dict, set)) and len(value) > MAX_SIZE:
            raise Unsupported(f"a value of {len(value)} items")
        return value


_EXPRESSIONS: dict[type[ast.expr], Callable[[ExpressionReader, Any], Any]] = {
    ast.Constant: ExpressionReader._constant, ast.Name: ExpressionReader._name, ast.List: ExpressionReader._list,
    ast.Tuple: ExpressionReader._tuple, ast.Set: ExpressionReader._set, ast.Dict: ExpressionReader._dict,
    ast.JoinedStr: ExpressionReader._joined, ast.FormattedValue: ExpressionReader.formatted,
    ast.BinOp: ExpressionReader._binop, ast.UnaryOp: ExpressionReader._unary, ast.BoolOp: ExpressionReader._boolop,
    ast.Compare: ExpressionReader._compare, ast.IfExp: ExpressionReader._ifexp,
    ast.Subscript: ExpressionReader._subscript, ast.Attribute: ExpressionReader._attribute,
    ast.Call: ExpressionReader.call, ast.ListComp: ExpressionReader.comprehension,
    ast.SetComp: ExpressionReader.comprehension, ast.GeneratorExp: ExpressionReader.comprehension,
    ast.DictComp: ExpressionReader.comprehension,
}
"""The expressions a config may use, each with the method that evaluates it; any other is Unsupported."""
