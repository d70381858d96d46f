"""Read an OpenCompass-style Python config into plain data, without OpenCompass or mmengine.

OpenCompass configs are Python: loops, f-strings and comprehensions build the
dataset dicts, and ``with read_base(): from .other import x`` pulls in other
config files. We execute them as mmengine's ``Config.fromfile(path).to_dict()``
does, and give back the same plain data:

1. the source is parsed with :mod:`ast`, and its imports are rewritten:
   ``from opencompass.x import Y`` (any non-standard-library import) binds ``Y``
   to an :class:`ImportedName` that stands for ``"opencompass.x.Y"``; imports inside
   ``with read_base():`` (and every relative import) read the named config file
   and bind its variables; ``opencompass.configs.*`` resolves to the configs shipped
   with toolkit (``toolkit/configs/``);
2. the module body runs in a fresh namespace;
3. the config's variables (not dunder names, modules, functions, classes or
   imported names, as mmengine decides) come back with every :class:`ImportedName` replaced by its import path.

Like mmengine and OpenCompass, this runs the config's code: read configs you trust.
"""

from __future__ import annotations

import ast
import sys
import traceback
import types
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from toolkit.config.base_files import OPENCOMPASS_CONFIGS, is_read_base, resolve_base_module
from toolkit.config.markers import ImportedName, imported_copy, unmarked
from toolkit.errors import ConfigError

_STDLIB = frozenset(sys.stdlib_module_names)
_BASE_IMPORT = "__toolkit_base_import__"
_BASE_STAR = "__toolkit_base_star__"
_MARKER = "__toolkit_imported_name__"
_IMPORTED = "__toolkit_imported__"


def _call(helper: str, *args: Any) -> ast.Call:
    return ast.Call(func=ast.Name(helper, ast.Load()), args=[ast.Constant(a) for a in args], keywords=[])


def _assign(name: str, value: ast.expr) -> ast.Assign:
    return ast.Assign(targets=[ast.Name(name, ast.Store())], value=value)


class _ImportRewriter(ast.NodeTransformer):
    """Turns import statements into calls of the helpers :func:`_exec_config` puts in the namespace.

    ``imported`` collects the names that real (standard-library) imports bind, which,
    as in mmengine, are not config variables.
    """

    def __init__(self) -> None:
        self.imported: set[str] = set()

    def visit_With(self, node: ast.With) -> Any:
        if not is_read_base(node):
            return self.generic_visit(node)
        body: list[ast.stmt] = []
        for stmt in node.body:
            if isinstance(stmt, ast.ImportFrom):
                body.extend(self._base_import(stmt))
            elif not isinstance(stmt, ast.Pass):
                raise SyntaxError("only `from ... import ...` may appear inside `with read_base():`", ("", stmt.lineno, 0, ""))
        return [ast.copy_location(stmt, node) for stmt in body] or ast.copy_location(ast.Pass(), node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> Any:
        module = node.module or ""
        if node.level or module.startswith(OPENCOMPASS_CONFIGS):
            return [ast.copy_location(stmt, node) for stmt in self._base_import(node)]
        if module.split(".")[0] in _STDLIB:
            self.imported.update(alias.asname or alias.name for alias in node.names)
            return node
        stmts: list[ast.stmt] = []
        for alias in node.names:
            if alias.name == "read_base" and module.startswith("mmengine"):
                continue  # the namespace already holds a do-nothing read_base
            if alias.name == "*":
                raise SyntaxError(f"`from {module} import *` cannot be read without importing {module}", ("", node.lineno, 0, ""))
            stmts.append(_assign(alias.asname or alias.name, _call(_MARKER, f"{module}.{alias.name}")))
        return [ast.copy_location(stmt, node) for stmt in stmts]

    def visit_Import(self, node: ast.Import) -> Any:
        stmts: list[ast.stmt] = []
        for alias in node.names:
            if alias.name.split(".")[0] in _STDLIB:
                self.imported.add(alias.asname or alias.name.split(".")[0])
                stmts.append(ast.Import(names=[alias]))
            elif alias.asname:
                stmts.append(_assign(alias.asname, _call(_MARKER, alias.name)))
            else:  # `import a.b` binds `a`
                top = alias.name.split(".")[0]
                stmts.append(_assign(top, _call(_MARKER, top)))
        return [ast.copy_location(stmt, node) for stmt in stmts]

    @staticmethod
    def _base_import(node: ast.ImportFrom) -> list[ast.stmt]:
        module, level = node.module or "", node.level
        if not module:
            raise SyntaxError("`from . import name` is not supported; import names from a config file", ("", node.lineno, 0, ""))
        stmts: list[ast.stmt] = []
        for alias in node.names:
            if alias.name == "*":
                stmts.append(ast.Expr(_call(_BASE_STAR, module, level)))
            else:
                stmts.append(_assign(alias.asname or alias.name, _call(_BASE_IMPORT, module, level, alias.name)))
        return stmts


class _Session:
    """One top-level read: base files run once, cycles are caught, and who imported whom is kept."""

    def __init__(self) -> None:
        self.done: dict[Path, dict[str, Any]] = {}
        self.running: list[Path] = []
        self.imports: dict[Path, list[Path]] = {}
        """Each file's base files, in the order it imported them."""

    def base(self, importer: Path, target: Path) -> dict[str, Any]:
        """Run (once) the base file ``target`` that ``importer`` imports."""
        bases = self.imports.setdefault(importer, [])
        if target not in bases:
            bases.append(target)
        return self.run(target)

    def run(self, path: Path, source: str | None = None) -> dict[str, Any]:
        path = path.resolve() if source is None else path
        if path in self.done:
            return self.done[path]
        if path in self.running:
            chain = " -> ".join(p.name for p in [*self.running, path])
            raise ConfigError(f"config files import each other in a cycle: {chain}", file=path)
        self.running.append(path)
        try:
            namespace = _exec_config(path, _read_source(path) if source is None else source, self)
        finally:
            self.running.pop()
        self.done[path] = namespace
        return namespace


def _read_source(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError("config file not found", file=path, hint="check the path") from None
    except UnicodeDecodeError as err:
        raise ConfigError(f"not UTF-8 ({err.reason})", file=path, hint="save the config as UTF-8") from None


def _helpers(path: Path, namespace: dict[str, Any], session: _Session) -> dict[str, Callable[..., Any]]:
    def base_namespace(module: str, level: int) -> dict[str, Any]:
        return session.base(path, resolve_base_module(module, level, path))

    def base_import(module: str, level: int, name: str) -> Any:
        values = base_namespace(module, level)
        if name not in values:
            raise ConfigError(f"{'.' * level}{module} defines no variable {name!r}", file=path)
        return imported_copy(values[name])

    def base_star(module: str, level: int) -> None:
        for name, value in base_namespace(module, level).items():
            namespace[name] = imported_copy(value)

    return {_BASE_IMPORT: base_import, _BASE_STAR: base_star, _MARKER: ImportedName, "read_base": nullcontext}


def _error_line(err: BaseException, path: Path) -> int | None:
    frames = [f for f in traceback.extract_tb(err.__traceback__) if f.filename == str(path)]
    return frames[-1].lineno if frames else None


def _exec_config(path: Path, source: str, session: _Session) -> dict[str, Any]:
    rewriter = _ImportRewriter()
    try:
        tree = rewriter.visit(ast.parse(source, filename=str(path)))
    except SyntaxError as err:
        raise ConfigError(f"cannot read config: {err.msg}", file=path, line=err.lineno) from None
    code = compile(ast.fix_missing_locations(tree), str(path), "exec")
    namespace: dict[str, Any] = {"__name__": "__toolkit_config__", "__file__": str(path)}
    namespace.update(_helpers(path, namespace, session))
    try:
        exec(code, namespace)  # configs are Python by design, as in OpenCompass and mmengine
    except ConfigError as err:
        if err.location.file is not None:
            raise
        raise ConfigError(err.message, hint=err.hint, file=path, line=_error_line(err, path)) from None
    except Exception as err:  # noqa: BLE001 - the config's own bug: report it where it happened
        raise ConfigError(
            f"the config raised {type(err).__name__}: {err}", file=path, line=_error_line(err, path)
        ) from None
    return {name: value for name, value in namespace.items() if not name.startswith("__")} | {
        _IMPORTED: rewriter.imported
    }


def _public(namespace: dict[str, Any]) -> dict[str, Any]:
    # mmengine's rule: drop dunder names, modules, functions, classes and imported names;
    # keep loop leftovers such as ``_name`` (mmengine does).
    skipped = (types.ModuleType, types.FunctionType, types.BuiltinFunctionType, type, ImportedName)
    imported = namespace.get(_IMPORTED, set())
    return {
        name: value
        for name, value in namespace.items()
        if not name.startswith("__") and name not in imported and not isinstance(value, skipped)
    }


@dataclass(frozen=True)
class ConfigRead:
    """One config file as a single read found it: its public variables and the base files it imported."""

    path: Path
    values: dict[str, Any]
    """The public variables, as plain data (what :func:`read_config` returns)."""
    bases: tuple[ConfigRead, ...] = ()
    """The config files it imported (``read_base()`` or relative imports), in import order; each file
    of the whole read ran once."""


def read_config_file(path: str | Path, source: str | None = None) -> ConfigRead:
    """Read the config file ``path`` and every base file it imports, each executed once.

    ``source`` reads that text instead of the file (the file's folder still anchors
    relative imports). Raises :class:`ConfigError` naming the file and line.
    """
    p = Path(path)
    if source is None and not p.is_file():
        raise ConfigError("config file not found", file=p, hint="check the path")
    session = _Session()
    top = session.run(p, source)
    built: dict[Path, ConfigRead] = {}

    def tree(file: Path, namespace: dict[str, Any]) -> ConfigRead:
        if file not in built:
            bases = tuple(tree(b, session.done[b]) for b in session.imports.get(file, ()))
            built[file] = ConfigRead(file, {k: unmarked(v) for k, v in _public(namespace).items()}, bases)
        return built[file]

    return tree(p.resolve() if source is None else p, top)


def read_config(path: str | Path, source: str | None = None) -> dict[str, Any]:
    """The public variables of the config file ``path``, as plain data (like mmengine's ``to_dict()``).

    ``source`` reads that text instead of the file (the file's folder still anchors
    relative imports). Raises :class:`ConfigError` naming the file and line.

    Example:
        >>> cfg = read_config("configs/datasets/my_bank/my_bank_gen.py")  # doctest: +SKIP
        >>> cfg["my_bank_datasets"][0]["infer_cfg"]["inferencer"]["type"]  # doctest: +SKIP
        'opencompass.openicl.icl_inferencer.GenInferencer'
    """
    return read_config_file(path, source).values
