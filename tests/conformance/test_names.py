"""The list of seed names is complete, names what the SDK has, and constructors take the SDK's
parameters in the SDK's order."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from tests.conformance import names


def _seeds() -> Path | None:
    for parent in Path(__file__).parents:
        if (parent / "shared" / "seeds").is_dir():
            return parent / "shared" / "seeds"
    return None


@pytest.mark.skipif(_seeds() is None, reason="the seed pages are not beside this checkout")
def test_every_seed_name_is_listed():
    assert names.seed_names(_seeds()) == set(names.SEED_NAMES)


def test_the_seed_names_sdk_0_31_lacks_are_known():
    """The seed pages are older than SDK 0.31; the names it dropped are followed to the SDK
    (README, "Differences from the seed pages")."""
    lacking = [name for name in names.SEED_NAMES if names.resolve(name, sdk=True) is None]
    assert lacking == [
        "server_supports_artifact_collections_gql_edges",
        "artifact_collection_edge_name",
        "artifact_collection_plural_edge_name",
        "Api.client",
        "ArtifactTypes.length",
        "ArtifactCollections.length",
        "Artifacts.length",
        "RunArtifacts.length",
        "ArtifactFiles.length",
    ]


def _parameters(cls: type) -> list[str]:
    """Positional parameters by name, but the first of an object fetched from the server: the
    SDK's internal ``ServiceApi`` there, our ``Api`` here."""
    found = [
        parameter.name
        for parameter in inspect.signature(cls.__init__).parameters.values()
        if parameter.name != "self" and parameter.kind is not parameter.KEYWORD_ONLY
    ]
    return found[1:] if cls.__name__ not in ("Api", "Artifact") else found


CONSTRUCTED = sorted(
    {name.split(".")[0] for name, how in names.SEED_NAMES.items() if how == "signature"}
    | {"Artifact"}
)


#: Constructors that do not take the SDK's parameters yet, and why.
KNOWN_DIFFERENT: dict[str, str] = {}


def _constructor_case(cls: str) -> object:
    marks = [pytest.mark.conformance(*sorted({cls, f"{cls}.__init__"} & set(names.SEED_NAMES)))]
    if cls in KNOWN_DIFFERENT:
        marks.append(pytest.mark.xfail(strict=False, reason=KNOWN_DIFFERENT[cls]))
    return pytest.param(cls, marks=marks)


@pytest.mark.parametrize("cls", [_constructor_case(cls) for cls in CONSTRUCTED])
def test_constructor_takes_the_sdks_parameters(cls):
    """Positional parameters by name and order (our keyword-only extras are ours to add)."""
    ours = names.resolve(cls, sdk=False)
    assert ours is not None, f"no {cls} in our client"
    assert _parameters(ours) == _parameters(names.resolve(cls, sdk=True))
