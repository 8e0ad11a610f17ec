"""Property-based: random trees give the SDK's digest, and survive log and download."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dagster_wandb_artifacts.client import Artifact

_PART = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.",
    min_size=1,
    max_size=12,
).filter(lambda p: p not in (".", ".."))
_TREE = st.dictionaries(
    st.lists(_PART, min_size=1, max_size=3).map("/".join),
    st.binary(max_size=2048),
    min_size=1,
    max_size=12,
).filter(
    # A path cannot be both a file and a folder.
    lambda tree: not any(other.startswith(path + "/") for path in tree for other in tree)
)


def _write(root: Path, tree: dict[str, bytes]) -> None:
    for name, data in tree.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(tree=_TREE)
def test_random_trees_digest_like_the_sdk_and_round_trip(api, wandb_home, tree):
    import wandb

    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "src"
        _write(source, tree)
        ours = Artifact("prop", "dataset")
        ours.add_dir(source)
        theirs = wandb.Artifact("prop", "dataset")
        theirs.add_dir(str(source))
        assert ours.digest == theirs.digest

        run = api.create_run()
        logged = run.log_artifact(ours)
        run.finish()
        out = Path(
            api.artifact(f"prop:{logged.version}").download(Path(tmp) / "out", skip_cache=True)
        )
        back = {
            p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()
        }
        assert back == tree
        shutil.rmtree(out)
