"""The serializer interface: how values of some types become one file of an artifact and back."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from ..client import InvalidInputError

#: The version metadata key naming the serializer that wrote it, so loading never guesses.
SERIALIZER_KEY = "dagster/serializer"


class SerializationError(InvalidInputError):
    """A value no serializer can write, or files no serializer can read."""


def type_names(cls: type) -> set[str]:
    """The names a type matches in :attr:`Serializer.types`: ``module.Class`` and
    ``package.Class`` for it and each base (``pandas.DataFrame`` matches
    ``pandas.core.frame.DataFrame``), so matching never imports the package."""
    names = set()
    for klass in cls.__mro__:
        names.add(f"{klass.__module__}.{klass.__qualname__}")
        names.add(f"{klass.__module__.split('.')[0]}.{klass.__qualname__}")
    return names


class Serializer(ABC):
    """A way to store values of some types as a file of an artifact version (and any files
    beside it that this file needs, as an image beside a W&B media JSON).

    Subclass it, set the class attributes and implement :meth:`write` and :meth:`read`; pass
    instances to ``WandbArtifactsIOManager(serializers=[...])``. Yours are tried before the
    built-ins, in order; an asset may also name one (``{"serializer": "torch-state-dict"}``).

    Attributes:
        name: Recorded in the version's metadata (``dagster/serializer``); loading picks the
            serializer by this name, so keep it stable once versions exist.
        file_name: The file written inside the artifact (e.g. ``model.pt``).
        types: The types handled, as classes or ``"package.Class"`` names (a name matches
            without importing the package: ``"pandas.DataFrame"``, ``"torch.nn.Module"``).
        automatic: Chosen by the value's type when the asset names no serializer; False:
            only when named.
        trusted: False when reading runs code stored in the file (pickles): such files are
            only read from the version Dagster recorded, or on the input's ``allow_pickle``.
    """

    name: ClassVar[str]
    file_name: ClassVar[str]
    types: ClassVar[tuple[type | str, ...]] = ()
    automatic: ClassVar[bool] = True
    trusted: ClassVar[bool] = True

    def handles(self, value: Any) -> bool:
        """Whether this serializer can write ``value`` (default: its type is in ``types``)."""
        classes = tuple(t for t in self.types if isinstance(t, type))
        if classes and isinstance(value, classes):
            return True
        names = {t for t in self.types if isinstance(t, str)}
        return bool(names) and not names.isdisjoint(type_names(type(value)))

    @abstractmethod
    def write(self, value: Any, path: Path) -> None:
        """Write ``value`` to ``path`` (``folder / file_name``; the folder exists). More files
        may go beside it in ``path.parent``: they are entries of the version too, downloaded
        beside ``path`` before :meth:`read` when the whole version is loaded."""

    @abstractmethod
    def read(self, path: Path) -> Any:
        """The value stored in the downloaded file ``path``."""

    def metadata(self, value: Any) -> Mapping[str, Any]:
        """Dagster metadata this serializer adds to the materialization of ``value`` (e.g.
        ``dagster/row_count``); none by default."""
        return {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"
