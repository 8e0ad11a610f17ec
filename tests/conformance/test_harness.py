"""The harness tells agreement from disagreement, and both sides reach the suite's server."""

from __future__ import annotations

import pytest

from tests.conformance.harness import Different, Outcome, SdkFailsOnServer, compare, same_error
from tests.support import ENTITY


class CommError(Exception):
    pass


def test_compare_values_types_and_errors():
    compare(Outcome(value=[1, "a"]), Outcome(value=[1, "a"]))
    with pytest.raises(Different):
        compare(Outcome(value=1), Outcome(value="1"))
    with pytest.raises(Different):
        compare(Outcome(value=None), Outcome(error=ValueError("x")))
    with pytest.raises(SdkFailsOnServer):
        compare(Outcome(error=CommError("500")), Outcome(value=1))
    assert same_error(KeyError("a"), type("Missing", (KeyError,), {})("a"))
    assert not same_error(AttributeError("a"), ValueError("a"))


def test_both_sides_reach_the_server(pair):
    path = f"{ENTITY}/nowhere/nothing:v0"
    assert pair.check(lambda side: side.api.artifact_exists(path)) == (False, False)
