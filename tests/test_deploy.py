"""docker-compose.yml cannot run here (no Docker engine), so check what can be checked:
every setting it passes exists, every command it runs is a real CLI invocation, and
every file it mounts is in the repository."""

from __future__ import annotations

import dataclasses
import shlex
from pathlib import Path

import yaml
from typer.testing import CliRunner

from contact_center.cli import app
from contact_center.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _services() -> dict[str, dict[str, object]]:
    services: dict[str, dict[str, object]] = COMPOSE["services"]
    return services


def test_every_cc_setting_in_compose_exists() -> None:
    fields = {f"CC_{f.name.upper()}" for f in dataclasses.fields(Settings)}
    for name, service in _services().items():
        env = service.get("environment") or {}
        assert isinstance(env, dict)
        for key in env:
            if key.startswith("CC_"):
                assert key in fields, f"{name}: {key} is not a setting"


def test_every_contact_center_command_parses() -> None:
    runner = CliRunner()
    for name, service in _services().items():
        command = service.get("command")
        if not isinstance(command, list) or command[0] != "contact-center":
            continue
        result = runner.invoke(app, [*command[1:], "--help"])
        assert result.exit_code == 0, f"{name}: {shlex.join(command)}: {result.output}"
    roles = sorted(
        s["command"][s["command"].index("--role") + 1]  # type: ignore[index, union-attr]
        for s in _services().values()
        if isinstance(s.get("command"), list) and "--role" in s["command"]  # type: ignore[operator]
    )
    assert roles == ["gateway", "gateway", "router", "router"], "two gateways, a router and a standby"


def test_mounted_files_exist() -> None:
    for name, service in _services().items():
        for volume in service.get("volumes") or []:
            assert isinstance(volume, str)
            source = volume.split(":", 1)[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), f"{name} mounts missing {source}"
