"""Filling one OpenCompass ``PromptTemplate`` with one row.

A template (:class:`toolkit.config.spec.PromptTemplateSpec`) is a string, a *meta*
dict ``{"begin": ..., "round": [...], "end": ...}``, or a dict keyed by answer label
whose values are strings or meta dicts (PPL configs). The three functions here are
OpenCompass's ``generate_ice_item``, ``generate_label_prompt_item`` and
``generate_item``, with the same order of operations, because that order decides
the bytes: e.g. the gen prompt inserts the examples *before* removing ``sep_token``,
the label prompt removes it first, and an example keeps it (OpenCompass's
``generate_ice_item`` discards the result of its own removal).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from toolkit.config.spec import PromptTemplateSpec
from toolkit.engine.prompting.prompt_list import Prompt, PromptList, safe_format
from toolkit.errors import ConfigError

Row = Mapping[str, Any]
META_KEYS = frozenset({"begin", "round", "end"})


def is_meta(template: Any) -> bool:
    """True for a meta dict (only ``begin``/``round``/``end`` keys): OpenCompass's ``prompt_type == 'meta'``."""
    return isinstance(template, Mapping) and set(template) <= META_KEYS


def check_template(spec: PromptTemplateSpec) -> None:
    """Reject what OpenCompass's ``PromptTemplate`` rejects at construction, as a ConfigError."""
    tpl = spec.template
    if isinstance(tpl, str):
        bodies: list[Any] = [tpl]
    elif isinstance(tpl, Mapping):
        bodies = list(tpl.values()) if not is_meta(tpl) else []
        if is_meta(tpl) and "round" not in tpl:
            raise ConfigError("a meta prompt template needs a 'round' list", hint="add round=[dict(role='HUMAN', prompt=...)]")
    else:
        raise ConfigError(f"a prompt template must be a string or a dict, not {type(tpl).__name__}")
    for body in bodies:
        if isinstance(body, str) and spec.ice_token and spec.ice_token not in body:
            raise ConfigError(
                f"ice_token {spec.ice_token!r} does not occur in the template {body!r}",
                hint="put the ice_token where the in-context examples belong, or drop ice_token",
            )


def encode_template(body: str | Mapping[str, Any], *, ice: bool) -> Prompt:
    """A template body as a string or a :class:`PromptList` with section markers.

    An in-context example (``ice=True``) uses only the round, in an ``ice`` section;
    a full prompt adds ``begin`` and ``end``. OpenCompass marks both ends of the
    ``end`` section with ``pos='end'``; kept, since it is part of the structure.
    """
    if isinstance(body, str):
        return body
    prompt = PromptList()
    if "begin" in body and not ice:
        prompt.append({"section": "begin", "pos": "begin"})
        prompt += _as_items(body["begin"])
        prompt.append({"section": "begin", "pos": "end"})
    section = "ice" if ice else "round"
    prompt.append({"section": section, "pos": "begin"})
    prompt += _as_items(body["round"])
    prompt.append({"section": section, "pos": "end"})
    if "end" in body and not ice:
        prompt.append({"section": "end", "pos": "end"})
        prompt += _as_items(body["end"])
        prompt.append({"section": "end", "pos": "end"})
    return prompt


def _as_items(value: Any) -> list[Any]:
    """A begin/round/end value as a list of items (a lone string or turn is one item)."""
    if isinstance(value, (str, Mapping)):
        return [value]
    if isinstance(value, Sequence):
        return list(value)
    raise ConfigError(f"a template section must be a string or a list, not {value!r}")


def _body_for(spec: PromptTemplateSpec, label: Any) -> str | Mapping[str, Any]:
    tpl = spec.template
    if isinstance(tpl, str) or is_meta(tpl):
        return tpl
    if label not in tpl:
        labels = ", ".join(repr(k) for k in tpl)
        raise ConfigError(
            f"answer {label!r} is not one of the template's labels ({labels})",
            hint="fix the answer cell (e.g. strip spaces: ' D' -> 'D'), or add that label to the template",
        )
    return tpl[label]


def _fill(prompt: Prompt, row: Row) -> Prompt:
    return safe_format(prompt, row) if isinstance(prompt, str) else prompt.format_with(row)


def _replace(prompt: Prompt, src: str, dst: Prompt) -> Prompt:
    if isinstance(prompt, str):
        if not isinstance(dst, str):
            # OpenCompass: str.replace with a list fails; only reachable with a
            # string template fed meta-template examples.
            raise ConfigError("a string prompt template cannot hold in-context examples rendered from a meta template")
        return prompt.replace(src, dst)
    return prompt.replace(src, dst)


def render_ice_item(spec: PromptTemplateSpec, row: Row, label: Any) -> Prompt:
    """One in-context example: the template's round filled with a dev row (answer included)."""
    prompt = encode_template(_body_for(spec, label), ice=True)
    if spec.ice_token is not None:
        prompt = _replace(prompt, spec.ice_token, "")
    return _fill(prompt, row)


def render_label_item(spec: PromptTemplateSpec, row: Row, ice: Prompt, label: Any) -> Prompt:
    """The full prompt for one candidate ``label`` (PPL): examples inserted, row filled."""
    prompt = encode_template(_body_for(spec, label), ice=False)
    if spec.sep_token is not None:
        prompt = _replace(prompt, spec.sep_token, "")
    if spec.ice_token is not None:
        prompt = _replace(prompt, spec.ice_token, ice)
    return _fill(prompt, row)


def render_gen_item(spec: PromptTemplateSpec, row: Row, ice: Prompt, output_column: str | None) -> Prompt:
    """The full prompt for generation: examples inserted, the answer column blanked.

    A label-keyed template uses its first label's body (as OpenCompass does when a
    PPL template meets a generation inferencer).
    """
    tpl = spec.template
    prompt: Prompt
    if isinstance(tpl, str):
        prompt = tpl
    elif is_meta(tpl):
        prompt = encode_template(tpl, ice=False)
    else:
        prompt = encode_template(tpl[next(iter(tpl))], ice=False)
    if spec.ice_token is not None:
        prompt = _replace(prompt, spec.ice_token, ice)
    if spec.sep_token is not None:
        prompt = _replace(prompt, spec.sep_token, "")
    if output_column is not None:
        row = {**row, output_column: ""}
    return _fill(prompt, row)
