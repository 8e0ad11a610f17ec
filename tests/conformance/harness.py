"""One call through the real ``wandb`` SDK and through our client, and what differs between them.

A test hands :meth:`Pair.check` a function of one :class:`Side`; it runs once with the SDK's
``wandb.Api``/``wandb.Artifact`` and once with ours, on the same server, and fails with
:class:`Different` when the two disagree on the value, on its type (by class name, and the
shape of containers), or on the exception raised. When the SDK itself fails against our server
where our client does not, the failure is :class:`SdkFailsOnServer` instead: the server is at
fault, not the client, and the conformance table counts it apart.
"""

from __future__ import annotations

import builtins
import datetime
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

import pytest

#: Exception classes by which the SDK reports that the server failed it (not a refusal of input).
SERVER_FAILURES = {"CommError", "HTTPError", "ConnectionError", "GraphQLError", "TransportError"}

PRIMITIVES = (type(None), bool, int, float, str, bytes, datetime.datetime, datetime.timedelta)


class Different(AssertionError):
    """The SDK and our client disagree."""


class SdkFailsOnServer(AssertionError):
    """The SDK fails against our server on a call our client answers: a server bug."""


@dataclass
class Side:
    """What a check may use of one implementation: its ``Api`` on the server, its ``Artifact``."""

    name: str
    api: Any
    Artifact: type

    @property
    def is_sdk(self) -> bool:
        return self.name == "sdk"

    def pick(self, both: tuple[Any, Any]) -> Any:
        """This side's half of a pair of values from :meth:`Pair.each` (the SDK's comes first)."""
        return both[0] if self.is_sdk else both[1]

    def __repr__(self) -> str:
        return f"<Side {self.name}>"


@dataclass(frozen=True)
class Outcome:
    """What a call gave: its value, or the exception it raised."""

    value: Any = None
    error: BaseException | None = None

    def __repr__(self) -> str:
        if self.error is not None:
            return f"raised {type(self.error).__name__}({self.error})"
        return f"returned {shape(self.value)} {comparable(self.value)!r}"


def outcome(call: Callable[[], Any]) -> Outcome:
    try:
        return Outcome(value=call())
    except Exception as error:  # noqa: BLE001 - every exception is part of the behaviour compared
        return Outcome(error=error)


def shape(value: Any) -> str:
    """The type of ``value`` by class name, with the shape of a container's first item (a
    subclass of a plain type by the plain type: the SDK's paths are a str subclass of its own)."""
    for plain in PRIMITIVES:  # bool before int
        if isinstance(value, plain):
            return plain.__name__
    if isinstance(value, list | tuple):
        inner = shape(value[0]) if value else ""
        return f"{type(value).__name__}[{inner}]"
    if isinstance(value, dict):
        return "dict"
    return type(value).__name__


def comparable(value: Any) -> Any:
    """``value`` reduced to what both sides can share: plain data as is, objects by class name."""
    if isinstance(value, PRIMITIVES):
        return value
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, list | tuple):
        return [comparable(item) for item in value]
    if isinstance(value, dict):
        return {key: comparable(item) for key, item in value.items()}
    return f"<{type(value).__name__}>"


def _builtin_bases(error: BaseException) -> set[str]:
    return {
        cls.__name__
        for cls in type(error).__mro__
        if getattr(builtins, cls.__name__, None) is cls and cls is not BaseException
    }


def same_error(sdk: BaseException, ours: BaseException) -> bool:
    """Both raise the same kind: the same built-in bases (``ValueError``, ``AttributeError``...),
    and ours is (or subclasses) a class of the SDK's name unless the SDK raised a built-in."""
    if _builtin_bases(sdk) != _builtin_bases(ours):
        return False
    if getattr(builtins, type(sdk).__name__, None) is type(sdk):
        return True
    return type(sdk).__name__ in {cls.__name__ for cls in type(ours).__mro__}


def compare(sdk: Outcome, ours: Outcome, key: Callable[[Any], Any] | None = None) -> None:
    """Fail unless both outcomes agree: the same kind of exception, or values of the same shape
    that are equal as plain data (objects count by class name). ``key`` maps each value to what
    is compared instead, such as an artifact's ``qualified_name``."""
    where = f"sdk {sdk!r}; ours {ours!r}"
    if sdk.error is not None:
        if ours.error is None:
            failure = SdkFailsOnServer if type(sdk.error).__name__ in SERVER_FAILURES else Different
            raise failure(where)
        if not same_error(sdk.error, ours.error):
            raise Different(where)
        return
    if ours.error is not None:
        raise Different(where)
    theirs, mine = (key(sdk.value), key(ours.value)) if key else (sdk.value, ours.value)
    if shape(theirs) != shape(mine) or comparable(theirs) != comparable(mine):
        raise Different(f"{where}; compared {comparable(theirs)!r} != {comparable(mine)!r}")


@dataclass
class Pair:
    """The SDK and our client, on one server."""

    sdk: Side
    ours: Side

    def run(self, call: Callable[[Side], Any]) -> tuple[Outcome, Outcome]:
        return outcome(lambda: call(self.sdk)), outcome(lambda: call(self.ours))

    def check(
        self, call: Callable[[Side], Any], key: Callable[[Any], Any] | None = None
    ) -> tuple[Any, Any]:
        """Run ``call`` on both sides, fail unless they agree; the two values (SDK's first)."""
        sdk, ours = self.run(call)
        compare(sdk, ours, key)
        return sdk.value, ours.value

    def each(self, call: Callable[[Side], Any]) -> tuple[Any, Any]:
        """Run ``call`` on both sides (for setup, not compared); the two values, SDK's first."""
        return call(self.sdk), call(self.ours)


def known_different(*names: str, reason: str) -> Callable[[Callable], Callable]:
    """Marks a test of ``names`` that fails for a difference known and explained by ``reason``:
    an expected failure, ``different`` in the conformance table."""

    def marked(test: Callable) -> Callable:
        return pytest.mark.conformance(*names)(pytest.mark.xfail(strict=True, reason=reason)(test))

    return marked
