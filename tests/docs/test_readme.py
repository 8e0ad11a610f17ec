"""The README: short, its commands the ones CI runs, its quickstart the tested snippet, its
links to files that exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
INSTALL = 'python3 -m venv .venv && .venv/bin/pip install -c constraints.txt -e ".[test]"'


def _section(text: str, name: str) -> str:
    start, end = f"# --8<-- [start:{name}]\n", f"# --8<-- [end:{name}]"
    return text[text.index(start) + len(start) : text.index(end)]


def test_the_readme_is_short():
    assert len(README.splitlines()) <= 250


def test_the_test_command_is_what_ci_runs():
    assert f"{INSTALL} && .venv/bin/python -m pytest -q\n" in README
    ci = (ROOT / ".ci" / "run").read_text()
    assert '-c constraints.txt -e ".[test]"' in ci
    assert "\npython -m pytest -q\n" in ci
    assert "mkdocs build --strict" in ci


def test_the_quickstart_is_the_tested_snippet():
    (code,) = re.findall(r"## Quickstart\n\n```python\n(.*?)```", README, re.S)
    snippet = (ROOT / "docs" / "snippets" / "quickstart.py").read_text()
    assert code == _section(snippet, "definitions")
    assert "DAGSTER_HOME=$PWD/.dagster .venv/bin/python docs/snippets/quickstart.py\n" in README


def test_every_link_to_a_file_leads_to_one():
    targets = re.findall(r"\]\(((?!https?:)[^)#]+)", README)
    assert targets
    for target in targets:
        assert (ROOT / target).exists(), target
