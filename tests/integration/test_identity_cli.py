"""``contact-center sites identity-secret``: the secret it prints is the one a running
server verifies HMACs with, rotating it refuses the old one, and --remove turns
verified identity off."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from contact_center.cli import app
from tests.integration.test_identity import identify, sign
from tests.support.server import live_server, server_settings


def test_cli_issues_rotates_and_removes_the_identity_secret(tmp_path: Path) -> None:
    runner = CliRunner()
    # The CLI and the server share the data directory and the server's secret key.
    env = {"CC_DATA_DIR": str(tmp_path), "CC_SECRET_KEY": server_settings(tmp_path).secret_key}
    added = runner.invoke(app, ["sites", "add", "shop.example"], env=env)
    assert added.exit_code == 0, added.output
    found = re.search(r"added site shop\.example \(([0-9a-f]{32})\)", added.output)
    assert found is not None
    site = found.group(1)

    issued = runner.invoke(app, ["sites", "identity-secret", site], env=env)
    assert issued.exit_code == 0, issued.output
    secret = issued.output.strip().splitlines()[-1]
    assert secret.startswith("ccid_") and "shown once" in issued.output
    listed = runner.invoke(app, ["sites", "list"], env=env)
    assert secret not in listed.output

    with live_server(tmp_path) as server:
        verified = identify(server, site, "c-42", sign(secret, "c-42"))
        assert verified.status_code == 200 and verified.json()["verified"] is True

        rotated = runner.invoke(app, ["sites", "identity-secret", site], env=env)
        new_secret = rotated.output.strip().splitlines()[-1]
        assert rotated.exit_code == 0 and new_secret != secret
        assert identify(server, site, "c-42", sign(secret, "c-42")).status_code == 403
        again = identify(server, site, "c-42", sign(new_secret, "c-42"))
        assert again.json()["visitor_id"] == verified.json()["visitor_id"]

        removed = runner.invoke(app, ["sites", "identity-secret", site, "--remove"], env=env)
        assert removed.exit_code == 0 and "off" in removed.output
        assert identify(server, site, "c-42", sign(new_secret, "c-42")).status_code == 403

    missing = runner.invoke(app, ["sites", "identity-secret", "no-such-site"], env=env)
    assert missing.exit_code == 1 and "no site" in missing.output
