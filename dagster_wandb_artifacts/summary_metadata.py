"""Dagster output metadata and the step's W&B run summary, each written into the other.

When the IO manager logs an output: the numbers the asset body attached to it
(``context.add_output_metadata``, ``Output(metadata=...)``, ``MaterializeResult(value=...,
metadata=...)``) go into the step run's summary under the same keys, then what the summary
holds at that moment comes back as ``wandb/summary/<key>`` materialization metadata, so
Dagster's asset plots show a metric across materializations.

The summary is final only when the run finishes, after the output is logged; the values
reported are the ones logged before the asset returned, which is every value the body logs
(nothing in the step logs after it returns).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from dagster import FloatMetadataValue, IntMetadataValue, MetadataValue, OutputContext

from .client import Run
from .runs import STEP_RUNS

#: Summary keys reported as metadata at most: the first ones in key order; the count of the
#: others is reported as ``wandb/summary_keys_omitted``.
MAX_SUMMARY_KEYS = 20
SUMMARY_PREFIX = "wandb/summary/"
#: Metadata of this package or Dagster's own, never copied into the summary.
_OWN_PREFIXES = ("wandb/", "dagster/")


def _number(value: Any) -> float | int | None:
    if isinstance(value, (IntMetadataValue, FloatMetadataValue)):
        value = value.value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value


def numeric_metadata(metadata: Mapping[str, Any]) -> dict[str, float | int]:
    """The numbers of an output's metadata, by key (this package's and Dagster's left out)."""
    found = {}
    for key, value in metadata.items():
        number = _number(value)
        if number is not None and not key.startswith(_OWN_PREFIXES):
            found[key] = number
    return found


def summary_metadata(summary: Mapping[str, Any]) -> dict[str, Any]:
    """``wandb/summary/<key>`` for the summary's finite numbers (W&B's own ``_`` keys left
    out), at most :data:`MAX_SUMMARY_KEYS` of them."""
    numbers = {
        key: value
        for key, value in sorted(summary.items())
        if not key.startswith("_")
        and (number := _number(value)) is not None
        and math.isfinite(number)
    }
    kept = dict(list(numbers.items())[:MAX_SUMMARY_KEYS])
    metadata: dict[str, Any] = {
        f"{SUMMARY_PREFIX}{key}": MetadataValue.int(value)
        if isinstance(value, int)
        else MetadataValue.float(float(value))
        for key, value in kept.items()
    }
    if len(numbers) > len(kept):
        metadata["wandb/summary_keys_omitted"] = MetadataValue.int(len(numbers) - len(kept))
    return metadata


def exchange_summary(context: OutputContext, run: Run) -> None:
    """Send the rows the body logged, write the output's numeric metadata into the run's
    summary, and report the summary's numbers as the output's metadata. A run the body never
    had (no ``run_for``) holds no metrics: without numbers to add, nothing is asked of W&B."""
    numbers = numeric_metadata(context.output_metadata or {})
    if STEP_RUNS.in_body(run):
        run.flush()
    elif not numbers:
        return
    if numbers:
        run.summary.update(numbers)
    reported = summary_metadata(run.summary)
    if reported:
        context.add_output_metadata(reported)
