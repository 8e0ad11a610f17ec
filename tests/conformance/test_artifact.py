"""``Artifact`` as the SDK has it: each seed name called through ``wandb`` and through our client.

One version is logged by a real ``wandb`` run (with history, so ``history_step`` is set), a
second by our client; both sides fetch them from the suite's server and must agree.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conformance.harness import Pair
from tests.support import ENTITY, sdk_run

PROJECT = "conf-artifact"
DATA = f"{ENTITY}/{PROJECT}/data"


def conformance(*members: str) -> pytest.MarkDecorator:
    return pytest.mark.conformance(*(f"Artifact.{member}" for member in members))


@pytest.fixture(scope="module")
def world(pair: Pair, conformance_server, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """``data:v0`` (aliases ``best``, tags ``gold``) logged by an SDK run at step 3, ``data:v1``
    by our client, ``single`` of one file, ``data:v0`` linked into ``portfolio``, and ``refs``
    (a file and a ``file://`` reference)."""
    import wandb

    folder = tmp_path_factory.mktemp("data")
    (folder / "sub").mkdir()
    (folder / "a.txt").write_text("alpha\n")
    (folder / "sub" / "b.txt").write_text("beta\n")
    run = sdk_run(conformance_server, project=PROJECT, job_type="conformance")
    for step in range(3):
        run.log({"loss": 1.0 / (step + 1)})
    first = wandb.Artifact("data", "dataset", description="the data", metadata={"rows": 2})
    first.add_dir(str(folder))
    run.log_artifact(first, aliases=["best"], tags=["gold"])
    single = wandb.Artifact("single", "model")
    single.add_file(str(folder / "a.txt"))
    run.log_artifact(single)
    run.finish()

    ours = pair.ours.api
    writer = ours.create_run(project=PROJECT, job_type="conformance")
    second = pair.ours.Artifact("data", "dataset", metadata={"rows": 3})
    second.add_dir(folder)
    with second.new_file("c.txt") as handle:
        handle.write("gamma\n")
    writer.log_artifact(second)
    writer.finish()
    ours.artifact(f"{DATA}:v0").link(f"{ENTITY}/{PROJECT}/portfolio", aliases=["chosen"])
    with_references = pair.ours.Artifact("refs", "dataset")
    with_references.add_file(folder / "a.txt")
    with_references.add_reference((folder / "sub").as_uri(), name="referenced")
    writer = ours.create_run(project=PROJECT, job_type="conformance")
    writer.log_artifact(with_references)
    writer.finish()
    return {"folder": folder}


@pytest.fixture(scope="module")
def best(pair: Pair, world: dict) -> tuple:
    """``data:best`` fetched by each side (by alias)."""
    return pair.each(lambda side: side.api.artifact(f"{DATA}:best"))


@pytest.fixture(scope="module")
def link(pair: Pair, world: dict) -> tuple:
    """The link ``portfolio:chosen`` fetched by each side."""
    return pair.each(lambda side: side.api.artifact(f"{ENTITY}/{PROJECT}/portfolio:chosen"))


def by_name(collection) -> tuple:
    return (collection.entity, collection.project, collection.name, collection.type)


def by_qualified_name(artifact) -> str:
    return artifact.qualified_name


LOGGED_PROPERTIES = {
    "id": None,
    "entity": None,
    "project": None,
    "name": None,
    "qualified_name": None,
    "version": None,
    "collection": by_name,
    "source_entity": None,
    "source_project": None,
    "source_name": None,
    "source_qualified_name": None,
    "source_version": None,
    "source_collection": by_name,
    "is_link": None,
    "linked_artifacts": lambda found: sorted(map(by_qualified_name, found)),
    "source_artifact": by_qualified_name,
    "type": None,
    "url": None,
    "description": None,
    "metadata": None,
    "ttl": None,
    "aliases": sorted,
    "tags": None,
    "use_as": None,
    "state": None,
    "manifest": lambda manifest: (type(manifest.entries).__name__, manifest.to_manifest_json()),
    "digest": None,
    "size": None,
    "commit_hash": None,
    "file_count": None,
    "created_at": None,
    "updated_at": None,
    "history_step": None,
}


# A link's own names and where it comes from.
LINK_PROPERTIES = [
    "name",
    "qualified_name",
    "version",
    "collection",
    "aliases",
    "url",
    *(member for member in LOGGED_PROPERTIES if member.startswith(("source_", "is_", "linked_"))),
]


def _properties_of(fixture: str, members) -> list:
    return [
        pytest.param(fixture, member, marks=conformance(member), id=f"{fixture}-{member}")
        for member in members
    ]


@pytest.mark.parametrize(
    "fetched,member",
    [*_properties_of("best", LOGGED_PROPERTIES), *_properties_of("link", LINK_PROPERTIES)],
)
def test_property_of_a_logged_version(pair: Pair, request, fetched: str, member: str):
    """Of ``data:best`` (a version fetched by alias) and of ``portfolio:chosen`` (a link)."""
    both = request.getfixturevalue(fetched)
    pair.check(lambda side: getattr(side.pick(both), member), key=LOGGED_PROPERTIES[member])


# Every property and argument-less method of the seed page, on a draft: the SDK refuses
# the logged-only ones with ArtifactNotLoggedError (an AttributeError, so getattr's default works).
DRAFT_MEMBERS = [
    *LOGGED_PROPERTIES,
    "checkout",
    "download",
    "file",
    "files",
    "is_draft",
    "json_encode",
    "logged_by",
    "new_draft",
    "used_by",
    "verify",
    "unlink",
    "delete",
]


@pytest.mark.parametrize(
    "member", [pytest.param(name, marks=conformance(name)) for name in DRAFT_MEMBERS]
)
def test_member_of_a_draft(pair: Pair, member: str):
    def call(side):
        found = getattr(side.Artifact("draft", "dataset"), member)
        return found() if callable(found) and member not in LOGGED_PROPERTIES else found

    pair.check(call, key=LOGGED_PROPERTIES.get(member))


@conformance("version", "aliases")
def test_getattr_default_on_a_draft(pair: Pair):
    pair.check(lambda side: getattr(side.Artifact("draft", "dataset"), "version", None))


@conformance("get_entry", "get_path")
@pytest.mark.parametrize("method", ["get_entry", "get_path"])
def test_entries_of_a_draft_are_logged_only_data(pair: Pair, files: Path, method: str):
    def call(side):
        draft = side.Artifact("draft", "dataset")
        draft.add_dir(str(files))
        return getattr(draft, method)("a.txt")

    pair.check(call, key=lambda entry: (entry.path, entry.digest, entry.size))


def _entry(entry) -> tuple:
    return (entry.path, entry.digest, entry.size, entry.ref)


@conformance("get_entry", "get_path")
@pytest.mark.parametrize("name", ["a.txt", "sub/b.txt", "missing.txt"])
def test_entries_of_a_logged_version(pair: Pair, best: tuple, name: str):
    pair.check(lambda side: side.pick(best).get_entry(name), key=_entry)
    pair.check(lambda side: side.pick(best).get_path(name), key=_entry)


@conformance("get")
def test_get_of_a_plain_file(pair: Pair, best: tuple):
    pair.check(lambda side: side.pick(best).get("a.txt"))


@conformance("json_encode")
def test_json_encode(pair: Pair, best: tuple):
    pair.check(lambda side: side.pick(best).json_encode())


@conformance("logged_by", "used_by")
def test_runs_of_a_version(pair: Pair, best: tuple):
    pair.check(lambda side: side.pick(best).logged_by(), key=lambda run: run.id)
    pair.check(lambda side: side.pick(best).used_by(), key=lambda runs: [r.id for r in runs])


@conformance("new_draft", "is_draft")
def test_new_draft(pair: Pair, best: tuple):
    def call(side):
        draft = side.pick(best).new_draft()
        return (draft.name, draft.type, draft.is_draft(), draft.metadata, draft.description)

    pair.check(call)


@conformance("wait", "is_draft")
def test_wait_on_a_logged_version(pair: Pair, best: tuple):
    pair.check(lambda side: side.pick(best).wait(), key=by_qualified_name)
    pair.check(lambda side: side.pick(best).is_draft())


def _tree(root: str) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in Path(root).rglob("*") if p.is_file())


@conformance("download", "verify")
def test_download_and_verify(pair: Pair, best: tuple, tmp_path: Path):
    pair.check(
        lambda side: side.pick(best).download(root=str(tmp_path / side.name)),
        key=lambda root: _tree(root),
    )
    pair.check(lambda side: side.pick(best).verify(root=str(tmp_path / side.name)))
    for side in ("sdk", "ours"):
        (tmp_path / side / "a.txt").write_text("changed\n")
    pair.check(lambda side: side.pick(best).verify(root=str(tmp_path / side.name)))


@conformance("download", "checkout")
def test_default_roots(pair: Pair, best: tuple):
    """Both sides put a version under ``$WANDB_ARTIFACT_DIR`` by the SDK's names."""
    pair.check(lambda side: side.pick(best).download())
    pair.check(lambda side: side.pick(best).checkout())


@conformance("checkout")
def test_checkout_removes_what_is_not_in_the_version(pair: Pair, best: tuple, tmp_path: Path):
    def call(side):
        root = tmp_path / side.name
        root.mkdir()
        (root / "stray.txt").write_text("stray\n")
        return side.pick(best).checkout(root=str(root))

    pair.check(call, key=_tree)


@conformance("file")
def test_file(pair: Pair, best: tuple, tmp_path: Path):
    single = pair.each(lambda side: side.api.artifact(f"{ENTITY}/{PROJECT}/single:latest"))
    pair.check(
        lambda side: side.pick(single).file(root=str(tmp_path / side.name)),
        key=lambda path: os.path.relpath(path, tmp_path / ("sdk" if "sdk" in path else "ours")),
    )
    pair.check(lambda side: side.pick(best).file(root=str(tmp_path / side.name)))


def _files(listing) -> list[tuple]:
    return [(type(listing).__name__, file.name, file.size) for file in listing]


@conformance("files")
@pytest.mark.parametrize(
    "arguments",
    [{}, {"names": ["a.txt"]}, {"per_page": 1}, {"names": ["missing.txt"]}],
    ids=["all", "names", "per_page", "missing"],
)
def test_files(pair: Pair, best: tuple, arguments: dict):
    pair.check(lambda side: side.pick(best).files(**arguments), key=_files)


@conformance("files")
def test_files_from_a_cursor(pair: Pair, best: tuple):
    def call(side):
        first = side.pick(best).files(per_page=1)
        next(iter(first))
        return side.pick(best).files(per_page=1, start=first.cursor)

    pair.check(call, key=_files)


# Drafts ------------------------------------------------------------------------------------


@conformance("add_file", "add_dir", "get_added_local_path_name", "digest", "size")
def test_adding_local_files(pair: Pair, files: Path):
    def call(side):
        draft = side.Artifact("draft", "dataset")
        draft.add_dir(str(files), name="dir")
        draft.add_file(str(files / "a.txt"), name="top.txt")
        return (
            sorted(draft.manifest.entries),
            draft.get_added_local_path_name(str(files / "a.txt")),
            draft.digest,
            draft.size,
        )

    pair.check(call)


@conformance("add_dir")
def test_add_dir_with_an_unknown_policy(pair: Pair, files: Path):
    pair.check(lambda side: side.Artifact("d", "dataset").add_dir(str(files), policy="bogus"))


@conformance("add_file")
def test_add_file_twice(pair: Pair, files: Path):
    def call(side):
        draft = side.Artifact("d", "dataset")
        draft.add_file(str(files / "a.txt"), name="x.txt")
        return draft.add_file(str(files / "sub" / "b.txt"), name="x.txt")

    pair.check(call, key=_entry)


@conformance("new_file")
def test_new_file_on_an_existing_name(pair: Pair):
    def call(side):
        draft = side.Artifact("d", "dataset")
        with draft.new_file("x.txt") as handle:
            handle.write("one")
        with draft.new_file("x.txt") as handle:
            handle.write("two")

    pair.check(call)


@conformance("remove")
def test_remove(pair: Pair, files: Path):
    def call(side):
        draft = side.Artifact("d", "dataset")
        draft.add_dir(str(files))
        draft.remove("a.txt")
        return sorted(draft.manifest.entries)

    pair.check(call)
    pair.check(lambda side: side.Artifact("d", "dataset").remove("nothing.txt"))


@conformance("add_reference")
@pytest.mark.parametrize(
    "uri", ["foo://bucket/key.bin", "https://example.com/a.txt"], ids=["unknown", "http"]
)
def test_add_reference_records_uris_without_reading_them(pair: Pair, uri: str):
    def call(side):
        draft = side.Artifact("d", "dataset")
        draft.add_reference(uri, checksum=False)
        return sorted(_entry(entry) for entry in draft.manifest.entries.values())

    pair.check(call)


@conformance("add_reference")
def test_add_reference_of_a_missing_file(pair: Pair, tmp_path: Path):
    uri = (tmp_path / "missing.txt").as_uri()
    pair.check(lambda side: side.Artifact("d", "dataset").add_reference(uri))


@conformance("add_reference")
def test_add_reference_of_a_folder(pair: Pair, files: Path):
    def call(side):
        draft = side.Artifact("d", "dataset")
        draft.add_reference(files.as_uri(), name="refs")
        return sorted(_entry(entry) for entry in draft.manifest.entries.values())

    pair.check(call)


@conformance("finalize", "add_file")
def test_a_finalized_draft_refuses_changes(pair: Pair, files: Path):
    def call(side):
        draft = side.Artifact("d", "dataset")
        draft.finalize()
        draft.add_file(str(files / "a.txt"))

    pair.check(call)


@conformance("metadata")
def test_metadata_that_is_not_json(pair: Pair):
    pair.check(lambda side: side.Artifact("d", "dataset", metadata={"when": object()}))

    def assign(side):
        side.Artifact("d", "dataset").metadata = {"when": object()}

    pair.check(assign)


@conformance("ttl")
@pytest.mark.parametrize("value", ["x", -1, 0], ids=["str", "negative", "zero"])
def test_ttl_refused(pair: Pair, value):
    def assign(side):
        side.Artifact("d", "dataset").ttl = value

    pair.check(assign)


@conformance("use_as")
def test_use_as_is_read_only_and_none(pair: Pair):
    pair.check(lambda side: side.Artifact("d", "dataset", use_as="x").use_as)

    def assign(side):
        side.Artifact("d", "dataset").use_as = "x"

    pair.check(assign)


@conformance("description", "metadata", "type", "name")
def test_draft_fields(pair: Pair):
    def call(side):
        draft = side.Artifact("d", "dataset", description="x", metadata={"a": [1, 2]})
        draft.description = "y"
        draft.metadata = {"b": {"c": None}}
        return (draft.name, draft.type, draft.description, draft.metadata, draft.id)

    pair.check(call)


@pytest.mark.conformance("Artifact")
@pytest.mark.parametrize(
    "name,type_",
    [("ok", "dataset"), ("bad/name", "dataset"), ("ok", "job"), ("ok", "wandb-history")],
)
def test_construction(pair: Pair, name: str, type_: str):
    pair.check(lambda side: side.Artifact(name, type_).name)


@pytest.mark.conformance("Artifact")
def test_storage_region(pair: Pair):
    def call(side):
        artifact = side.Artifact("d", "dataset", storage_region="coreweave-us")
        return artifact.manifest.to_manifest_json()["storagePolicyConfig"]

    pair.check(call)


@pytest.mark.conformance("Artifact")
def test_distributed_id(pair: Pair):
    def call(side):
        draft = side.Artifact("d", "dataset")
        before = draft.distributed_id
        draft.distributed_id = "group-1"
        return before, draft.distributed_id

    pair.check(call)


@conformance("name", "qualified_name", "version", "aliases", "is_link", "source_name")
@pytest.mark.parametrize("alias", ["", ":latest", ":v0", ":best", ":v1"])
def test_names_of_a_version_fetched_by_each_alias(pair: Pair, world: dict, alias: str):
    def call(side):
        found = side.api.artifact(f"{DATA}{alias}")
        return (
            found.name,
            found.qualified_name,
            found.version,
            sorted(found.aliases),
            found.is_link,
            found.source_name,
        )

    pair.check(call)


# Links -------------------------------------------------------------------------------------


def _linked(pair: Pair, side, portfolio: str, aliases: list[str]):
    """A link of ``data:v0`` into ``portfolio`` made by our client, fetched by ``side``."""
    pair.ours.api.artifact(f"{DATA}:v0").link(f"{ENTITY}/{PROJECT}/{portfolio}", aliases=aliases)
    return side.api.artifact(f"{ENTITY}/{PROJECT}/{portfolio}:v0")


@conformance("delete", "unlink", "state", "is_link")
@pytest.mark.parametrize(
    "remove",
    [
        lambda link: link.delete(),
        lambda link: link.delete(delete_aliases=True),
        lambda link: link.unlink(),
    ],
    ids=["delete", "delete_aliases", "unlink"],
)
def test_removing_a_link_keeps_its_version(pair: Pair, world: dict, request, remove):
    """Only the link goes; the version keeps its aliases, and the link object its state."""

    def call(side):
        portfolio = f"gone-{request.node.callspec.id}-{side.name}"
        link = _linked(pair, side, portfolio, ["chosen"])
        removed = remove(link)
        return (
            removed,
            link.state,
            side.api.artifact_exists(f"{ENTITY}/{PROJECT}/{portfolio}:v0"),
            sorted(side.api.artifact(f"{DATA}:v0").aliases),
        )

    pair.check(call)


@conformance("unlink")
def test_unlink_of_a_version_that_is_not_a_link(pair: Pair, best: tuple):
    pair.check(lambda side: side.pick(best).unlink())


@conformance("link")
@pytest.mark.parametrize("target", ["bare", f"{PROJECT}/two-parts"], ids=["bare", "project"])
def test_link_targets(pair: Pair, world: dict, target: str):
    """A target without a project goes to $WANDB_PROJECT or ``uncategorized``, and without an
    entity to the source's entity, whatever the Api's defaults."""

    def call(side):
        link = side.api.artifact(f"{DATA}:v0").link(f"{target}-{side.name}")
        return link.qualified_name.replace(f"-{side.name}:", ":"), link.is_link

    pair.check(call)


@conformance("get_entry")
def test_ref_url_of_entries(pair: Pair, best: tuple):
    pair.check(lambda side: side.pick(best).get_entry("a.txt").ref_url())


@conformance("save", "description", "metadata", "tags", "aliases", "ttl")
def test_saving_edits_of_a_logged_version(pair: Pair, world: dict):
    from datetime import timedelta

    def call(side):
        run = pair.ours.api.create_run(project=PROJECT, job_type="edit")
        draft = pair.ours.Artifact(f"edit-{side.name}", "dataset")
        with draft.new_file("x.txt") as handle:
            handle.write(side.name)
        run.log_artifact(draft)
        run.finish()
        found = side.api.artifact(f"{ENTITY}/{PROJECT}/edit-{side.name}:latest")
        found.description = "edited"
        found.metadata = {"edited": True}
        found.tags = ["kept"]
        found.aliases = ["chosen"]
        found.ttl = timedelta(days=3)
        found.save()
        again = side.api.artifact(f"{ENTITY}/{PROJECT}/edit-{side.name}:v0")
        edited = (again.description, again.metadata, again.tags, sorted(again.aliases), again.ttl)
        return found.name.replace(side.name, ""), edited

    pair.check(call)


@conformance("save")
def test_save_takes_the_sdks_parameters(pair: Pair):
    import inspect

    pair.check(lambda side: list(inspect.signature(side.Artifact.save).parameters)[:3])


@conformance("verify", "download", "get_entry")
def test_verify_skips_references(pair: Pair, world: dict, tmp_path: Path):
    refs = pair.each(lambda side: side.api.artifact(f"{ENTITY}/{PROJECT}/refs:v0"))

    def call(side):
        root = side.pick(refs).download(root=str(tmp_path / side.name))
        return side.pick(refs).verify(root=root)

    pair.check(call)
    pair.check(lambda side: side.pick(refs).get_entry("referenced/b.txt").ref_url())
    pair.check(lambda side: side.pick(refs).get_entry("referenced/b.txt").ref)


@conformance("url", "link", "is_link")
def test_url_of_a_registry_link(pair: Pair, world: dict):
    pair.ours.api.create_registry("conformance", "organization")
    pair.ours.api.artifact(f"{DATA}:v0").link("wandb-registry-conformance/data")
    sdk, _ = pair.check(lambda side: side.api.artifact("wandb-registry-conformance/data:v0").url)
    assert "/orgs/" in sdk and sdk.endswith("&view=membership&version=v0")


@conformance("save", "logged_by", "version")
def test_save_of_a_draft_logs_it_in_a_run_of_its_own(pair: Pair, conformance_server, files):
    """``save(project, settings)`` without a run: the SDK starts one (job type ``auto``)."""
    # The embedded server keeps one store, the SDK's "default" region; others are refused.
    from tests.support import sdk_settings

    def call(side):
        draft = side.Artifact(f"saved-{side.name}", "dataset", storage_region="default")
        draft.add_dir(str(files))
        if side.is_sdk:
            settings = sdk_settings(conformance_server)
            settings.entity = ENTITY
        else:  # ours takes what a wandb.Settings names, from a mapping too
            settings = {"base_url": conformance_server.base_url, "entity": ENTITY}
            settings["api_key"] = conformance_server.api_key
        draft.save(project=PROJECT, settings=settings)
        draft.wait()
        found = side.api.artifact(f"{ENTITY}/{PROJECT}/saved-{side.name}:latest")
        return (
            found.version,
            found.logged_by().job_type,
            found.manifest.to_manifest_json()["storagePolicyConfig"],
        )

    pair.check(call)


@conformance("save", "is_link", "qualified_name", "aliases")
def test_saving_edits_of_a_link(pair: Pair, world: dict):
    """A link stays the link it was fetched as; its aliases are the link's."""

    def call(side):
        link = _linked(pair, side, f"edited-{side.name}", ["chosen"])
        link.aliases = [*link.aliases, "also"]
        link.save()
        again = side.api.artifact(f"{ENTITY}/{PROJECT}/edited-{side.name}:v0")
        return (
            link.is_link,
            link.qualified_name.replace(side.name, ""),
            sorted(link.aliases),
            sorted(again.aliases),
        )

    pair.check(call)


@conformance("ttl")
def test_ttl_of_a_link_is_refused(pair: Pair, link: tuple):
    from datetime import timedelta

    def assign(side):
        side.pick(link).ttl = timedelta(days=1)

    pair.check(assign)


@conformance("download")
def test_download_fetches_references(pair: Pair, world: dict, tmp_path: Path):
    refs = pair.each(lambda side: side.api.artifact(f"{ENTITY}/{PROJECT}/refs:v0"))
    pair.check(lambda side: side.pick(refs).download(root=str(tmp_path / side.name)), key=_tree)


@conformance("download")
def test_download_of_a_prefix(pair: Pair, best: tuple, tmp_path: Path):
    pair.check(
        lambda side: side.pick(best).download(root=str(tmp_path / side.name), path_prefix="sub"),
        key=_tree,
    )


@conformance("get_entry", "download")
def test_download_of_one_entry(pair: Pair, best: tuple, tmp_path: Path):
    pair.check(
        lambda side: side.pick(best).get_entry("sub/b.txt").download(str(tmp_path / side.name)),
        key=lambda path: Path(path).relative_to(tmp_path).as_posix().split("/", 1)[1],
    )


@conformance("add_file")
@pytest.mark.parametrize("missing", [True, False], ids=["missing", "is_tmp"])
def test_add_file_of_a_missing_or_temporary_file(pair: Pair, files: Path, missing: bool):
    def call(side):
        draft = side.Artifact("d", "dataset")
        if missing:
            return draft.add_file(str(files / "nothing.txt"))
        return draft.add_file(str(files / "a.txt"), name="dir/a.txt", is_tmp=True)

    pair.check(call, key=_entry)


@conformance("add_dir")
def test_add_dir_of_a_file(pair: Pair, files: Path):
    pair.check(lambda side: side.Artifact("d", "dataset").add_dir(str(files / "a.txt")))


@conformance("remove")
def test_remove_by_entry(pair: Pair, files: Path):
    def call(side):
        draft = side.Artifact("d", "dataset")
        entry = draft.add_file(str(files / "a.txt"))
        draft.remove(entry)
        return sorted(draft.manifest.entries)

    pair.check(call)


@conformance("link", "aliases", "linked_artifacts")
def test_link_with_aliases(pair: Pair, world: dict):
    def call(side):
        source = side.api.artifact(f"{DATA}:v1")
        link = source.link(f"{ENTITY}/{PROJECT}/aliased-{side.name}", aliases=["x", "y"])
        mine = [a.qualified_name for a in source.linked_artifacts if side.name in a.name]
        return sorted(link.aliases), [name.replace(side.name, "") for name in mine]

    sdk, _ = pair.check(call)
    assert sdk[1] == [f"{ENTITY}/{PROJECT}/aliased-:v0"]


@conformance("used_by")
def test_used_by_a_run(pair: Pair, world: dict):
    run = pair.ours.api.create_run(project=PROJECT, job_type="reader")
    run.use_artifact(f"{ENTITY}/{PROJECT}/single:v0")
    run.finish()
    pair.check(
        lambda side: side.api.artifact(f"{ENTITY}/{PROJECT}/single:v0").used_by(),
        key=lambda runs: sorted(r.id for r in runs),
    )
