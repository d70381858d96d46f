"""Statements for the static config reader (:mod:`toolkit.config.static`): assignments, ``for``/``if``,
``del``, imports and ``with read_base():``, walked on the AST with plain data; each kind of statement its
own method, under the rules of :mod:`toolkit.config.static_rules`. Expressions: :mod:`toolkit.config.static_expr`."""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

from toolkit.config.base_files import is_read_base, resolve_base_module
from toolkit.config.markers import ConfigDict, ImportedName, imported_copy
from toolkit.config.static_expr import ExpressionReader
from toolkit.config.static_rules import BINARY, Unsupported, describe
from toolkit.errors import ConfigError


class Reader(ExpressionReader):
    """One file's evaluation; base files are read by the shared session."""

    def module(self, tree: ast.Module) -> dict[str, Any]:
        """Run the module's statements; its variables."""
        self.block(tree.body)
        return self.scopes[0]

    def block(self, body: list[ast.stmt]) -> None:
        """Run statements in order (the line of each is kept for messages)."""
        for stmt in body:
            self.line = stmt.lineno
            self.statement(stmt)

    def statement(self, node: ast.stmt) -> None:
        """Run one statement; Unsupported for any kind of statement not in the reader's subset."""
        handler = _STATEMENTS.get(type(node))
        if handler is None:
            raise Unsupported(describe(node))
        handler(self, node)

    # -- one method per kind of statement -------------------------------------------------
    def _assign(self, node: ast.Assign) -> None:
        value = self.expr(node.value)
        for target in node.targets:
            self.assign(target, value)

    def _annotated(self, node: ast.AnnAssign) -> None:
        if node.value is None:
            raise Unsupported(describe(node))
        self.assign(node.target, self.expr(node.value))

    def _augmented(self, node: ast.AugAssign) -> None:
        op = BINARY.get(type(node.op))
        if op is None or not isinstance(node.target, (ast.Name, ast.Subscript)):
            raise Unsupported("this augmented assignment")
        current = self.expr(ast.Name(node.target.id, ast.Load()) if isinstance(node.target, ast.Name)
                            else ast.Subscript(node.target.value, node.target.slice, ast.Load()))
        value = self.expr(node.value)
        self.assign(node.target, current.__iadd__(value) if isinstance(node.op, ast.Add) and isinstance(
            current, list) else self.sized(op(current, value)))

    def _expression(self, node: ast.Expr) -> None:
        self.expr(node.value)  # a call such as datasets.append(...); a docstring

    def _for(self, node: ast.For) -> None:
        if node.orelse:
            raise Unsupported(describe(node))
        for item in self.iterate(self.expr(node.iter)):
            self.assign(node.target, item)
            self.block(node.body)

    def _if(self, node: ast.If) -> None:
        self.block(node.body if self.expr(node.test) else node.orelse)

    def _delete(self, node: ast.Delete) -> None:
        for target in node.targets:
            self.delete(target)

    def _pass(self, node: ast.Pass) -> None:
        return None

    def _import(self, node: ast.Import) -> None:
        for alias in node.names:
            name = alias.asname or alias.name.split(".")[0]
            self.scopes[0][name] = ImportedName(alias.name if alias.asname else name)

    def _with(self, node: ast.With) -> None:
        if not is_read_base(node):
            raise Unsupported(describe(node))
        for stmt in node.body:
            self.line = stmt.lineno
            if isinstance(stmt, ast.ImportFrom):
                self.import_from(stmt, base=True)
            elif not isinstance(stmt, ast.Pass):
                raise Unsupported("anything but `from ... import ...` inside `with read_base():`")

    # -- the pieces -----------------------------------------------------------------------
    def import_from(self, node: ast.ImportFrom, *, base: bool = False) -> None:
        """``from X import Y``: a base config's variables (read by the session), else an imported name."""
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
        """Bind ``value`` to a name, a tuple of targets, an item or a ConfigDict attribute."""
        if isinstance(target, ast.Name):
            self.scopes[-1][target.id] = value
        elif isinstance(target, (ast.Tuple, ast.List)):
            self._unpack(target, value)
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

    def _unpack(self, target: ast.Tuple | ast.List, value: Any) -> None:
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

    def delete(self, target: ast.expr) -> None:
        """``del name`` (innermost scope that has it) or ``del container[index]``."""
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


_STATEMENTS: dict[type[ast.stmt], Callable[[Reader, Any], None]] = {
    ast.Assign: Reader._assign, ast.AnnAssign: Reader._annotated, ast.AugAssign: Reader._augmented,
    ast.Expr: Reader._expression, ast.For: Reader._for, ast.If: Reader._if, ast.Delete: Reader._delete,
    ast.Pass: Reader._pass, ast.ImportFrom: Reader.import_from, ast.Import: Reader._import, ast.With: Reader._with,
}
"""The statements a config may use, each with the method that runs it; any other is Unsupported."""
