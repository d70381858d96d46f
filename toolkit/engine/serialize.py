"""Frozen dataclasses to JSON-able dicts and back: the one converter (task files, run.json, manifests,
reuse keys).

Only what our specs use: nested dataclasses, tuples, mappings, optionals,
literals and plain scalars. Unknown keys are errors: a task file written by a
newer toolkit fails loudly instead of running something else.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast, get_args, get_origin, get_type_hints

from toolkit.errors import ConfigError

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

T = TypeVar("T", bound="DataclassInstance")


def to_plain(obj: Any, *, canonical: bool = False) -> Any:
    """Dataclasses → dicts, tuples → lists, recursively.

    ``canonical`` (for hashing) also makes every mapping key a string and every value
    that is not a JSON scalar its ``repr``, so that any spec has one JSON form.

    Example:
        >>> to_plain({"a": (1, 2), 3: {4}}), to_plain({"a": (1, 2), 3: {4}}, canonical=True)
        ({'a': [1, 2], 3: {4}}, {'a': [1, 2], '3': '{4}'})
    """
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_plain(getattr(obj, f.name), canonical=canonical) for f in dataclasses.fields(obj)}
    if isinstance(obj, Mapping):
        return {str(k) if canonical else k: to_plain(v, canonical=canonical) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_plain(v, canonical=canonical) for v in obj]
    if canonical and not (isinstance(obj, (str, int, float, bool)) or obj is None):
        return repr(obj)
    return obj


def _convert(tp: Any, value: Any, where: str) -> Any:
    """``value`` read back as type ``tp`` (a ConfigError naming ``where`` when it does not fit)."""
    origin = get_origin(tp)
    if tp is Any or tp is object:
        return value
    if origin in (typing.Union, types.UnionType):
        return _union(tp, value, where)
    if origin is typing.Literal:
        if value not in get_args(tp):
            raise ConfigError(f"{where}: {value!r} is not one of {get_args(tp)}")
        return value
    if dataclasses.is_dataclass(tp):
        return from_plain(cast("type[DataclassInstance]", tp), value, where)
    if origin is tuple:
        return _tuple(tp, value, where)
    if origin in (Mapping, dict, typing.Mapping) or tp in (dict, Mapping):
        return dict(value)
    if tp in (int, float, str, bool):
        if not isinstance(value, tp) and not (tp is float and isinstance(value, int)):
            raise ConfigError(f"{where}: expected {tp.__name__}, got {value!r}")
        return value
    return value


def _union(tp: Any, value: Any, where: str) -> Any:
    """The first member of the union ``value`` fits (None for an Optional's None)."""
    if value is None and type(None) in get_args(tp):
        return None
    for arg in get_args(tp):
        if arg is type(None):
            continue
        try:
            return _convert(arg, value, where)
        except (ConfigError, TypeError, ValueError):
            continue
    raise ConfigError(f"{where}: value {value!r} does not fit {tp}")


def _tuple(tp: Any, value: Any, where: str) -> tuple[Any, ...]:
    """A list read back as ``tuple[X, ...]`` or a fixed ``tuple[X, Y]``."""
    args = get_args(tp)
    if len(args) == 2 and args[1] is Ellipsis:
        return tuple(_convert(args[0], v, where) for v in value)
    return tuple(_convert(a, v, where) for a, v in zip(args, value))


def from_plain(cls: type[T], data: Mapping[str, Any], where: str = "") -> T:
    """Build dataclass ``cls`` from a dict made by :func:`to_plain`."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where or cls.__name__}: expected an object, got {type(data).__name__}")
    hints = get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(data) - names
    if unknown:
        raise ConfigError(f"{where or cls.__name__}: unknown keys {sorted(unknown)}")
    kwargs = {k: _convert(hints[k], v, f"{where}.{k}" if where else k) for k, v in data.items()}
    return cls(**kwargs)
