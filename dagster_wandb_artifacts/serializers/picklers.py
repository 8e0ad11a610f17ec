"""Pickle-based serializers: ``pickle``, ``dill``, ``cloudpickle`` and ``joblib``.

Reading a pickle runs code chosen by whoever wrote the file, so these serializers are not
``trusted``: a version is unpickled only when it is the one this Dagster deployment recorded
for the upstream materialization, or when the input opts in with ``allow_pickle``.
"""

from __future__ import annotations

import importlib
import pickle
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .base import SerializationError, Serializer

#: The modules ``serialization_module`` accepts (as ``dagster-wandb``), and their files.
PICKLE_MODULES = {
    "pickle": "value.pickle",
    "dill": "value.dill",
    "cloudpickle": "value.cloudpickle",
    "joblib": "value.joblib",
}


class Pickler(Serializer):
    """Any value, through ``module``'s ``dump``; ``parameters`` go to ``dump`` (e.g.
    ``{"protocol": 4}``, joblib's ``{"compress": 3}``)."""

    automatic = False  # the fallback for types no other serializer takes, never a first choice
    trusted = False

    def __init__(self, module: str = "pickle", parameters: Mapping[str, Any] | None = None):
        if module not in PICKLE_MODULES:
            raise SerializationError(
                f"unknown serialization_module {module!r}: choose one of {sorted(PICKLE_MODULES)}"
            )
        self.name = module
        self.file_name = PICKLE_MODULES[module]
        self.parameters = dict(parameters or {})

    def handles(self, value: Any) -> bool:
        return True

    def _module(self) -> Any:
        try:
            return importlib.import_module(self.name)
        except ImportError:
            raise SerializationError(
                f"serialization_module {self.name!r} is not installed: pip install "
                f"{self.name} (or dagster-wandb-artifacts[picklers])"
            ) from None

    def write(self, value: Any, path: Path) -> None:
        module = self._module()
        try:
            with path.open("wb") as file:
                module.dump(value, file, **self.parameters)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            raise SerializationError(
                f"cannot store a {type(value).__name__}: it cannot be pickled with {self.name} "
                f"({exc}); return data (a DataFrame, an array, JSON, bytes) or a Path, choose "
                "another serialization_module, or pass a serializer of your own"
            ) from exc

    def read(self, path: Path) -> Any:
        module = self._module()
        with path.open("rb") as file:
            return module.load(file)  # noqa: S301 - only trusted versions (see the module doc)
