"""Settings, read from ``CC_*`` environment variables.

One flat, typed object so every knob is in one place and the defaults are the embedded
single-process set-up (SQLite file, in-process bus): ``contact-center serve`` needs
nothing configured.  Scaled deployments set URLs (``CC_DATABASE_URL``, ``CC_BUS_URL``)
and a shared ``CC_SECRET_KEY``.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, get_type_hints

_ENV_PREFIX = "CC_"


@dataclass(frozen=True, slots=True)
class Settings:
    # Where the embedded default keeps its files (SQLite database, generated secret).
    data_dir: Path = Path("var")
    host: str = "127.0.0.1"
    port: int = 8000
    # "" means the SQLite file in data_dir.
    database_url: str = ""
    # memory:// (one process) or redis://host:port/db (several gateways).
    bus_url: str = "memory://"
    # Signs console and visitor tokens.  "" means generate one and keep it in data_dir
    # (fine for one machine; a cluster must share one).
    secret_key: str = ""
    # The first start creates the admin "admin" with this password; "" prints a
    # one-time password instead.
    admin_password: str = ""
    # Origins allowed to embed the widget (exact scheme://host[:port]).  Empty means
    # only the server's own origin.
    allowed_origins: tuple[str, ...] = ()
    # Role of this process: "all" (gateway + router), "gateway" or "router".
    role: str = "all"

    agent_token_ttl_s: int = 12 * 3600
    visitor_token_ttl_s: int = 30 * 24 * 3600

    # Wire limits: bigger frames are refused with close code 1009.
    max_frame_bytes: int = 128 * 1024
    max_message_chars: int = 4000
    # Per connection: a bucket of `rate_burst` frames refilled at `rate_per_s`.
    rate_per_s: float = 20.0
    rate_burst: int = 40
    # Frames refused for rate in a row before the connection is closed with 4429.
    rate_strikes_before_close: int = 20
    # A socket must authenticate within this many seconds of opening.
    hello_timeout_s: float = 10.0
    # Outbound frames queued for one slow client before it is disconnected.
    send_queue_frames: int = 2000

    # Routing defaults (queues override most of these).
    default_chat_capacity: int = 3
    missed_offers_before_away: int = 3
    chat_while_on_call: bool = False
    router_tick_s: float = 0.5
    # The router re-reads queues and agents this often when their rows changed behind
    # its back (the CLI writes the database directly); 0 turns the check off.
    config_poll_s: float = 30.0
    # Clustered: how long the router lease lasts; a standby takes over within this.
    router_lease_s: float = 5.0
    # A visitor whose every socket is gone this long while waiting has abandoned.
    visitor_grace_s: float = 60.0
    # An agent whose every socket is gone this long is set offline; its chats go back
    # to their queues.
    agent_grace_s: float = 60.0
    # Clustered: presence entries and each gateway's heartbeat live this long unless
    # refreshed (every third of it); a killed gateway is seen gone after at most this.
    presence_ttl_s: float = 15.0

    # Journey: record page views from the widget.
    track_page_views: bool = True
    # URL rules -> stage, e.g. "/pricing*=consideration,/checkout*=decision"
    stage_rules: tuple[str, ...] = ()

    # Dashboard push period.
    dashboard_push_s: float = 1.0

    # WebRTC: STUN/TURN URLs and the coturn use-auth-secret shared secret.
    stun_urls: tuple[str, ...] = ()
    turn_urls: tuple[str, ...] = ()
    turn_secret: str = ""
    turn_ttl_s: int = 3600
    ring_timeout_s: float = 45.0
    connect_timeout_s: float = 20.0
    reconnect_grace_s: float = 15.0

    # Sign-in throttling (contact_center.signin): failures an account may make in
    # the window before each further attempt waits base * 2**n seconds (capped); an
    # address (shared behind NAT) gets its own, larger allowance.
    login_free_failures: int = 5
    login_address_free_failures: int = 20
    login_window_s: float = 900.0
    login_backoff_base_s: float = 1.0
    login_backoff_max_s: float = 900.0

    # Data lifecycle (contact_center.lifecycle): transcripts of conversations that
    # ended more than this many days ago are deleted (0 keeps them forever), checked
    # every retention_check_s by the process that routes.
    retention_days: int = 0
    retention_check_s: float = 3600.0

    log_level: str = "info"
    # Extra keyword arguments for tests (never read from the environment).
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'contact-center.db').resolve()}"

    def with_overrides(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    def resolved_secret_key(self) -> str:
        """The configured key, or one generated once and kept in ``data_dir`` so tokens
        survive restarts of a single-machine install."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret.key"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key)
        path.chmod(0o600)
        return key


def _convert(raw: str, annotation: Any) -> Any:
    if annotation is bool:
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if annotation is int:
        return int(raw)
    if annotation is float:
        return float(raw)
    if annotation is Path:
        return Path(raw)
    if annotation == tuple[str, ...]:
        return tuple(part.strip() for part in raw.split(",") if part.strip())
    return raw


def load_settings(environ: dict[str, str] | None = None, **overrides: Any) -> Settings:
    """Settings from ``CC_<FIELD>`` variables, then keyword overrides."""
    env = os.environ if environ is None else environ
    hints = get_type_hints(Settings)
    values: dict[str, Any] = {}
    for f in fields(Settings):
        if f.name == "extra":
            continue
        raw = env.get(_ENV_PREFIX + f.name.upper())
        if raw is not None:
            try:
                values[f.name] = _convert(raw, hints[f.name])
            except ValueError as exc:
                raise ValueError(f"{_ENV_PREFIX}{f.name.upper()}: {exc}") from exc
    values.update(overrides)
    return Settings(**values)
