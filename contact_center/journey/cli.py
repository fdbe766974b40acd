"""Journey commands of ``contact-center``: ``demo-data``, ``sites`` (keys for
conversion reports) and ``stage-rules``.  Merged into the main command by one
``add_typer`` in :mod:`contact_center.cli`."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, TypeVar

import typer

from contact_center.settings import load_settings

app = typer.Typer()
sites_app = typer.Typer(no_args_is_help=True, help="Sites that report conversions, and their keys.")
rules_app = typer.Typer(no_args_is_help=True, help="URL rules that give pages a journey stage.")
app.add_typer(sites_app, name="sites")
app.add_typer(rules_app, name="stage-rules")

T = TypeVar("T")


def _run(work: Callable[[Any], Awaitable[T]], migrate: bool = True) -> T:
    """Run ``work(engine)`` against the configured database (the database layer is
    imported here, not at start, so ``--help`` stays quick)."""
    from contact_center.store.database import run_on_database

    return run_on_database(load_settings().resolved_database_url, work, migrate=migrate)


async def _audit(engine: Any, action: str, kind: str, target: str, **details: Any) -> None:
    from contact_center.audit import record_cli_change

    await record_cli_change(engine, action, kind, target, **details)


def _end_of(day: str) -> float:
    if not day:
        today = datetime.now(UTC).date()
        return datetime(today.year, today.month, today.day, tzinfo=UTC).timestamp()
    try:
        parsed = date.fromisoformat(day)
    except ValueError:
        raise typer.BadParameter("use YYYY-MM-DD") from None
    return (datetime(parsed.year, parsed.month, parsed.day, tzinfo=UTC) + timedelta(days=1)).timestamp()


@app.command("demo-data")
def demo_data(
    visitors: Annotated[int, typer.Option(min=1, max=10_000_000, help="How many visitors.")] = 10_000,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed and end give the same rows.")] = 42,
    days: Annotated[int, typer.Option(min=1, max=3650, help="Days of history.")] = 30,
    end: Annotated[
        str, typer.Option(help="Last day of the history, YYYY-MM-DD (UTC; default: yesterday).")
    ] = "",
) -> None:
    """Generate a realistic, reproducible journey history.

    Visitors from several sources walking the stages, page views, contacts on every
    channel with waits and outcomes, and conversions."""
    from sqlalchemy import select

    from contact_center.journey.demo import DemoConfig, DemoSummary, write_demo
    from contact_center.store.models import User
    from contact_center.store.queues import QueueStore

    end_at = _end_of(end)

    async def work(engine: Any) -> DemoSummary:
        queues = QueueStore(engine)
        existing = [q.id for q in await queues.all()]
        if not existing:
            await queues.create("sales", name="Sales", description="Choosing and buying a bike")
            await queues.create("support", name="Support", description="Orders, returns and service")
            existing = ["sales", "support"]
            typer.echo("created the queues sales and support")
        async with engine.connect() as conn:
            agents = tuple(
                (await conn.execute(select(User.id).where(User.role == "agent").order_by(User.username)))
                .scalars()
                .all()
            )
        config = DemoConfig(
            visitors=visitors,
            seed=seed,
            days=days,
            end=end_at,
            sales_queue=existing[0],
            support_queue=existing[1] if len(existing) > 1 else existing[0],
            agents=agents,
        )
        started = time.monotonic()

        def progress(summary: DemoSummary) -> None:
            typer.echo(f"  {summary.visitors} visitors, {summary.touchpoints} touchpoints", err=True)

        summary = await write_demo(engine, config, progress if visitors > 20_000 else None)
        typer.echo(f"wrote in {time.monotonic() - started:.1f} s", err=True)
        return summary

    try:
        summary = _run(work)
    except Exception as exc:
        if "unique" not in str(exc).lower() and "duplicate" not in str(exc).lower():
            raise
        typer.echo(
            f"this database already holds the demo history of seed {seed} ending {end or 'today'}; "
            "pick another --seed to add more",
            err=True,
        )
        raise typer.Exit(1) from None
    typer.echo(
        f"demo data: {summary.visitors} visitors, {summary.touchpoints} touchpoints "
        f"({summary.page_views} page views), {summary.contacts} contacts, {summary.conversions} conversions "
        f"worth {summary.value:,.0f}, over {days} days to {datetime.fromtimestamp(end_at - 1, UTC).date()}"
    )


# --------------------------------------------------------------------------- sites


def _locales(text: str | None) -> list[str] | None:
    return None if text is None else [code.strip() for code in text.split(",") if code.strip()]


@sites_app.command("add")
def sites_add(
    name: Annotated[str, typer.Argument(help="A name for the site, e.g. shop.example.")],
    default_locale: Annotated[str, typer.Option(help="The language its widget falls back to.")] = "en",
    locales: Annotated[
        str, typer.Option(help="The languages its widget may speak, comma-separated (default: all).")
    ] = "",
) -> None:
    """Add a site and print its key (once: only a hash is kept)."""
    from contact_center.journey.sites import SiteStore

    async def work(engine: Any) -> tuple[Any, str]:
        site, key = await SiteStore(engine).create(
            name, default_locale=default_locale, allowed_locales=_locales(locales)
        )
        await _audit(engine, "site.create", "site", site.id, name=site.name)
        return site, key

    try:
        site, key = _run(work)
    except ValueError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    typer.echo(f"added site {site.name} ({site.id})")
    typer.echo(
        f'its widget tag: <script src="https://<this server>/widget.js" data-site="{site.id}" async></script>'
    )
    typer.echo("its key (shown once; send it as the X-Site-Key header of POST /api/journey/events):")
    typer.echo(key)


@sites_app.command("list")
def sites_list() -> None:
    """List sites as JSON lines (never the keys)."""
    from contact_center.journey.sites import SiteStore, locales_out

    async def work(engine: Any) -> list[Any]:
        return await SiteStore(engine).all()

    for site in _run(work):
        typer.echo(
            json.dumps(
                {
                    "id": site.id,
                    "name": site.name,
                    "key_prefix": site.key_prefix,
                    "disabled": site.disabled,
                    "created_at": site.created_at,
                    **locales_out(site),
                },
                ensure_ascii=False,
            )
        )


@sites_app.command("locales")
def sites_locales(
    site_id: Annotated[str, typer.Argument(help="The site's id.")],
    default_locale: Annotated[str | None, typer.Option(help="The language its widget falls back to.")] = None,
    locales: Annotated[
        str | None, typer.Option(help="The languages its widget may speak, comma-separated ('' for all).")
    ] = None,
) -> None:
    """Change the languages a site's widget speaks."""
    from contact_center.journey.sites import SiteStore, locales_out

    async def work(engine: Any) -> Any:
        return await SiteStore(engine).set_locales(site_id, default_locale, _locales(locales))

    try:
        site = _run(work)
    except ValueError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    if site is None:
        typer.echo(f"no site {site_id!r}", err=True)
        raise typer.Exit(1)
    typer.echo(json.dumps({"id": site.id, **locales_out(site)}, ensure_ascii=False))


@sites_app.command("disable")
def sites_disable(site_id: Annotated[str, typer.Argument(help="The site's id.")]) -> None:
    """Disable a site: its key stops working."""
    from contact_center.journey.sites import SiteStore

    async def work(engine: Any) -> bool:
        done = await SiteStore(engine).set_disabled(site_id)
        if done:
            await _audit(engine, "site.disable", "site", site_id)
        return done

    if not _run(work):
        typer.echo(f"no site {site_id!r}", err=True)
        raise typer.Exit(1)
    typer.echo(f"disabled site {site_id}")


@sites_app.command("identity-secret")
def sites_identity_secret(
    site_id: Annotated[str, typer.Argument(help="The site's id.")],
    remove: Annotated[
        bool, typer.Option("--remove", help="Turn verified identity off instead (every HMAC is refused).")
    ] = False,
) -> None:
    """Issue or rotate the site's identity secret and print it (once).

    The site's backend signs its signed-in customer's id with it,
    HMAC-SHA256(secret, id) in hex, for ContactCenter.identify(); HMACs made with the
    previous secret stop verifying at once."""
    from contact_center.journey.identity import remove_secret, rotate_secret

    key = load_settings().resolved_secret_key()

    async def work(engine: Any) -> Any:
        if remove:
            done = await remove_secret(engine, site_id)
            if done:
                await _audit(engine, "site.identity_secret_remove", "site", site_id)
            return done
        issued = await rotate_secret(engine, key, site_id)
        if issued is not None:
            await _audit(engine, "site.identity_secret", "site", site_id, prefix=issued.prefix)
        return issued

    outcome = _run(work)
    if not outcome:
        typer.echo(f"no site {site_id!r}", err=True)
        raise typer.Exit(1)
    if remove:
        typer.echo(f"verified identity is off for site {site_id}")
        return
    typer.echo(f"new identity secret of site {site_id} (shown once; the previous one no longer verifies):")
    typer.echo(outcome.secret)


# --------------------------------------------------------------------------- stage rules


@rules_app.command("list")
def rules_list() -> None:
    """The admin rules in evaluation order, as JSON lines (settings rules follow them)."""
    from contact_center.journey.rules import StageRuleStore

    async def work(engine: Any) -> list[Any]:
        return await StageRuleStore(engine).all()

    for rule in _run(work):
        typer.echo(json.dumps({"id": rule.id, "pattern": rule.pattern, "stage": rule.stage}))
    configured = load_settings().stage_rules
    for spec in configured:
        typer.echo(json.dumps({"id": None, "setting": spec}))


@rules_app.command("add")
def rules_add(
    pattern: Annotated[str, typer.Argument(help="Glob on the URL path (/pricing*) or the whole URL.")],
    stage: Annotated[str, typer.Argument(help="awareness, consideration, decision, purchase or retention.")],
    position: Annotated[int | None, typer.Option(help="Where in the order (default: last).")] = None,
) -> None:
    """Add a URL rule (running servers pick it up within seconds)."""
    from contact_center.journey.rules import InvalidRule, StageRuleStore

    async def work(engine: Any) -> Any:
        rule = await StageRuleStore(engine).add(pattern, stage, position)
        await _audit(engine, "stage_rule.add", "stage_rule", str(rule.id), pattern=pattern, stage=stage)
        return rule

    try:
        rule = _run(work)
    except InvalidRule as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    typer.echo(f"added rule {rule.id}: {rule.pattern} -> {rule.stage}")


@rules_app.command("remove")
def rules_remove(rule_id: Annotated[int, typer.Argument(help="The rule's id (see list).")]) -> None:
    """Remove a URL rule."""
    from contact_center.journey.rules import StageRuleStore

    async def work(engine: Any) -> bool:
        done = await StageRuleStore(engine).remove(rule_id)
        if done:
            await _audit(engine, "stage_rule.remove", "stage_rule", str(rule_id))
        return done

    if not _run(work):
        typer.echo(f"no rule {rule_id}", err=True)
        raise typer.Exit(1)
    typer.echo(f"removed rule {rule_id}")
