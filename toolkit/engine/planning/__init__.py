"""Before anything runs: each dataset's data found, validated and sized (:func:`plan_datasets`), then split
into tasks per model and worker (:func:`partition`)."""

from __future__ import annotations

from toolkit.engine.planning.partitioner import PlannedDataset, partition, whole_items
from toolkit.engine.planning.plan import plan_datasets

__all__ = ["PlannedDataset", "partition", "plan_datasets", "whole_items"]
