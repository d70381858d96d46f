"""Summary groups: one group per category of a subject mapping, then one over every subject.

Two places make them, with one naming rule (:func:`group_slug`):

* ``toolkit gen-config`` writes ``<name>_summary_groups.py`` (:func:`summary_groups`), the
  file real OpenCompass reads when a run config imports it;
* ``toolkit eval`` derives groups from a config's ``<name>_subject_mapping`` when the
  config declares none (:func:`mapping_groups`, :func:`category_groups`).

A category's group is ``<prefix>-<slug>``, so a bank evaluated by OpenCompass (through the
generated file) and by toolkit (from the mapping) shows the same group names. Groups use
OpenCompass's ``summary_groups`` shape: ``{"name": ..., "subsets": [dataset abbr, ...]}``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from toolkit.config.context import abbr
from toolkit.dataset.layout import DEFAULT_CATEGORIES
from toolkit.dataset.mapping import Subject
from toolkit.errors import ConfigError

if TYPE_CHECKING:
    from toolkit.config.facts import DatasetFacts

_WORD = re.compile(r"[^\W_]+")
"""A run of letters and digits, in any script (``\\w`` without the underscore)."""


def group_slug(category: str) -> str:
    """The category as it appears in its group's name: lower case, each run of characters that are
    neither letters nor digits (spaces, ``&``, ``/``, ``_``, punctuation) made one ``-``, none at either end.

    Letters of every script stay (a Chinese category keeps its characters).

    Example:
        >>> [group_slug(c) for c in ("Social Science", "Arts & Crafts", "Math/Physics", " (Other) ", "文科 理科")]
        ['social-science', 'arts-crafts', 'math-physics', 'other', '文科-理科']
    """
    slug = "-".join(_WORD.findall(unicodedata.normalize("NFC", category).lower()))
    if not slug:
        raise ConfigError(f"category {category!r} has no letter or digit to name its summary group",
                          hint="rename the category in the subject mapping")
    return slug


def _category_names(prefix: str, categories: Iterable[str]) -> dict[str, str]:
    """Category → group name; two categories that would share a name are an error, not a merge."""
    names: dict[str, str] = {}
    for category in categories:
        name = f"{prefix}-{group_slug(category)}"
        clash = next((c for c, n in names.items() if n == name), None)
        if clash is not None:
            raise ConfigError(f"categories {clash!r} and {category!r} would both be the summary group {name!r}",
                              hint="rename one of them in the subject mapping")
        names[category] = name
    return names


def category_groups(prefix: str, categories: Mapping[str, str | Subject]) -> list[dict[str, Any]]:
    """Groups from a subject mapping (subject key → category): one per category, then one over all.

    Abbrs are ``<prefix>-<subject>``; C-Eval's categories come first, in C-Eval's order.

    Example:
        >>> category_groups("ceval", {"law": "Humanities", "computer_network": "STEM"})
        [{'name': 'ceval-stem', 'subsets': ['ceval-computer_network']}, \
{'name': 'ceval-humanities', 'subsets': ['ceval-law']}, \
{'name': 'ceval', 'subsets': ['ceval-law', 'ceval-computer_network']}]
    """
    by_category: dict[str, list[str]] = {}
    for key, value in categories.items():
        category = value.category if isinstance(value, Subject) else value
        by_category.setdefault(category, []).append(f"{prefix}-{key}")
    order = [c for c in DEFAULT_CATEGORIES if c in by_category] + [c for c in by_category if c not in DEFAULT_CATEGORIES]
    names = _category_names(prefix, order)
    groups = [{"name": names[c], "subsets": by_category[c]} for c in order]
    return groups + [{"name": prefix, "subsets": [f"{prefix}-{key}" for key in categories]}]


def groups_from_mappings(mappings: Mapping[str, Mapping[str, Sequence[Any]]]) -> list[dict[str, Any]]:
    """Category groups for each ``<name>_subject_mapping`` (by ``<name>``) of a config.

    An entry without a category (C-Eval's own mapping lacks one for ``clinical_medicine``)
    belongs to no category group.
    """
    groups: list[dict[str, Any]] = []
    for prefix, mapping in mappings.items():
        cats = {k: str(v[2]) for k, v in mapping.items() if isinstance(v, (list, tuple)) and len(v) >= 3}
        if cats:
            groups += category_groups(prefix, cats)
    return groups


def mapping_groups(values: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Category groups from every ``<name>_subject_mapping`` variable of a read config (OpenCompass hard-codes these)."""
    mappings = {var.removesuffix("_subject_mapping"): mapping for var, mapping in values.items()
                if var.endswith("_subject_mapping") and isinstance(mapping, Mapping)}
    return groups_from_mappings(mappings)


def summary_groups(facts: DatasetFacts, splits: tuple[str, ...]) -> list[dict[str, Any]]:
    """gen-config's groups: one per category that has subjects (declared order), then one for all, per split.

    Example: for ``ceval`` and split val: ``ceval-stem``, ``ceval-social-science``,
    ``ceval-humanities``, ``ceval-other``, ``ceval`` (its subsets in category order, as
    OpenCompass's hand-written ``ceval_summary_groups`` has them).
    """
    groups: list[dict[str, Any]] = []
    for split in splits:
        prefix = facts.name if split == "val" else f"{facts.name}-test"
        used = [c for c in facts.categories if any(s.category == c for s in facts.subjects)]
        names = _category_names(prefix, used)
        every: list[str] = []
        for category in used:  # the mapping uses declared categories only
            subsets = [abbr(facts.name, s.key, split) for s in facts.subjects if s.category == category]
            groups.append({"name": names[category], "subsets": subsets})
            every += subsets
        groups.append({"name": prefix, "subsets": every})
    return groups
