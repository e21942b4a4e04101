"""Every command and every setting is documented in docs/reference.md (datasette's test_docs idea)."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path

import click
import pytest

from web.cli import cli
from web.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = (ROOT / "docs" / "reference.md").read_text(encoding="utf-8")


def _commands(group: click.Group, prefix: str = "") -> list[str]:
    out = []
    for name, command in sorted(group.commands.items()):
        path = f"{prefix} {name}".strip()
        out.extend(_commands(command, path) if isinstance(command, click.Group) else [path])
    return out



@pytest.mark.parametrize("command", _commands(cli))
def test_every_command_is_in_the_reference(command: str) -> None:
    assert f"`strongroom {command}" in REFERENCE, f"add `strongroom {command}` to docs/reference.md"


def _options() -> list[tuple[str, str]]:
    found = []
    for path in _commands(cli):
        command: click.Command = cli
        for part in path.split():
            command = command.commands[part]  # type: ignore[attr-defined]
        for param in command.params:
            if isinstance(param, click.Option) and param.opts[0] != "--help":
                found.append((path, param.opts[0]))
    return found


@pytest.mark.parametrize(("command", "option"), _options())
def test_every_option_is_in_the_reference(command: str, option: str) -> None:
    line = next(line for line in REFERENCE.splitlines() if f"`strongroom {command}" in line)
    assert option in line, f"add {option} to the `strongroom {command}` row of docs/reference.md"


@pytest.mark.parametrize("name", [f.name for f in dataclasses.fields(Settings)])
def test_every_setting_is_in_the_reference(name: str) -> None:
    assert f"| `{name}`" in REFERENCE, f"add the setting {name} to docs/reference.md"


def _pins() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pins = project["dependencies"] + project["optional-dependencies"]["test"]
    return dict(pin.split("==") for pin in pins)


def test_every_dependency_has_one_line_in_the_readme_and_no_other_is_listed() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = [line.split("|")[1] for line in readme.splitlines() if re.match(r"\| `", line)]
    listed = {name: version for row in rows for name, version in re.findall(r"`([\w.-]+)` ([\w.]+)", row)}
    assert listed == _pins(), "README's dependency tables and pyproject.toml's pins differ"
