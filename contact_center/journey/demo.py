"""A realistic, reproducible journey history for a fresh install
(``contact-center demo-data``) and for the benchmark.

Visitors of an imaginary bike shop arrive from a handful of sources (paid search,
organic search, newsletter, social, a review site, direct), land on a page that fits
the source, and walk the stages: awareness (home, blog), consideration (product
pages), decision (pricing), purchase (checkout) and, for some buyers days later,
retention (after-sales).  At every stage some of them reach for help by chat, voice,
video or an offline message; contacts wait (log-normal waits), some abandon (patience
shorter than the wait), the rest are handled with a disposition and sometimes a CSAT
rating.  An answered contact makes the visitor more likely to go on, an abandoned one
less.  Checkouts end in a ``purchase_completed`` conversion with the order's value.

Two cells are made worse on purpose so the journey map has something to show: voice
at the decision stage (an understaffed sales line: long waits, many abandon) and chat
at purchase (payment problems: low CSAT).

Everything comes from one ``random.Random(seed)`` and a fixed end date, so the same
arguments give the same rows, ids included.  Rows are made in chunks of visitors and
written with the fastest path each database has (COPY on PostgreSQL, ``executemany``
on SQLite).
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from contact_center.store.sources import first_source

BASE_URL = "https://northwind.example"

VISITOR_COLUMNS = (
    "id",
    "created_at",
    "last_seen_at",
    "name",
    "email",
    "first_referrer",
    "first_landing_url",
    "first_utm_source",
    "first_utm_medium",
    "first_utm_campaign",
    "first_utm_term",
    "first_utm_content",
    "first_source",
)
CONTACT_COLUMNS = (
    "id",
    "visitor_id",
    "queue_id",
    "channel",
    "status",
    "priority",
    "name",
    "email",
    "topic",
    "stage",
    "stage_source",
    "page_url",
    "page_title",
    "referrer",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "created_at",
    "enqueued_at",
    "answered_at",
    "ended_at",
    "abandoned_at",
    "wrap_up_ended_at",
    "agent_id",
    "ended_by",
    "disposition",
    "csat",
    "csat_comment",
    "visitor_read_seq",
    "agent_read_seq",
    "visitor_delivered_seq",
    "agent_delivered_seq",
    "data",
)
TOUCHPOINT_COLUMNS = (
    "visitor_id",
    "contact_id",
    "kind",
    "channel",
    "stage",
    "stage_source",
    "url",
    "title",
    "referrer",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "started_at",
    "ended_at",
    "queue_id",
    "wait_s",
    "handle_s",
    "outcome",
    "csat",
    "sentiment",
    "value",
    "data",
    "dedupe_key",
)

STAGES = ("awareness", "consideration", "decision", "purchase", "retention")

# (path, title, how the stage is set) per stage.
PAGES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "awareness": (
        ("/", "Northwind Bikes - ride further", "declared"),
        ("/blog/choosing-your-first-gravel-bike", "Choosing your first gravel bike", "rule"),
        ("/blog/commuting-by-bike", "Commuting by bike: a starter guide", "rule"),
    ),
    "consideration": (
        ("/product?model=gravel", "Gravel GX - Northwind", "declared"),
        ("/product?model=road", "Road R8 - Northwind", "declared"),
        ("/product?model=city", "City C3 - Northwind", "declared"),
        ("/product?model=trail", "Trail T5 - Northwind", "declared"),
    ),
    "decision": (
        ("/pricing", "Pricing and financing - Northwind", "declared"),
        ("/pricing#compare", "Compare models - Northwind", "declared"),
        ("/pricing#financing", "0% financing - Northwind", "declared"),
    ),
    "purchase": (
        ("/checkout", "Checkout - Northwind", "declared"),
        ("/checkout?step=payment", "Payment - Northwind", "declared"),
    ),
    "retention": (
        ("/after-sales", "After-sales care - Northwind", "declared"),
        ("/after-sales?topic=returns", "Returns - Northwind", "declared"),
        ("/after-sales?topic=service", "Book a service - Northwind", "declared"),
    ),
}


@dataclass(frozen=True, slots=True)
class Source:
    weight: float
    utm: tuple[str, str, str]  # source, medium, campaign
    referrer: str
    landing: str  # stage
    keen: float  # how likely this audience goes on to the next stage


SOURCES = (
    Source(0.22, ("google", "cpc", "spring_sale"), "https://www.google.com/", "consideration", 0.62),
    Source(0.25, ("", "", ""), "https://www.google.com/search", "awareness", 0.5),
    Source(0.10, ("newsletter", "email", "may_newsletter"), "", "decision", 0.68),
    Source(0.13, ("facebook", "social", "gravel_launch"), "https://m.facebook.com/", "awareness", 0.42),
    Source(0.08, ("", "", ""), "https://www.bikeradar.example/reviews/gravel-gx", "consideration", 0.6),
    Source(0.22, ("", "", ""), "", "awareness", 0.52),
)
_SOURCE_WEIGHTS = [s.weight for s in SOURCES]

# Chance of a contact while in the stage, and the channel mix.
CONTACT_P = {"awareness": 0.01, "consideration": 0.05, "decision": 0.12, "purchase": 0.12, "retention": 0.2}
CHANNELS = ("chat", "voice", "video", "offline")
CHANNEL_MIX = {
    "retention": (0.5, 0.35, 0.05, 0.10),
    "default": (0.68, 0.2, 0.05, 0.07),
}
MEDIAN_WAIT_S = {"chat": 25.0, "voice": 35.0, "video": 30.0}
PATIENCE_S = {"chat": 400.0, "voice": 400.0, "video": 400.0}
MEDIAN_HANDLE_S = {"chat": 240.0, "voice": 300.0, "video": 420.0}
# The deliberate bottlenecks.
WAIT_FACTOR = {("decision", "voice"): 6.0, ("purchase", "chat"): 1.5}
RATINGS_GOOD = (0.04, 0.04, 0.10, 0.32, 0.50)
RATINGS_BAD = (0.16, 0.16, 0.22, 0.24, 0.22)
BAD_CSAT_CELLS = {("purchase", "chat")}
ADVANCE = {"awareness": 0.26, "consideration": 0.28, "decision": 0.25, "purchase": 0.0}
PRICES = (690.0, 1290.0, 1890.0, 2490.0, 3490.0)


@dataclass(slots=True)
class DemoChunk:
    visitors: list[tuple[Any, ...]] = field(default_factory=list)
    contacts: list[tuple[Any, ...]] = field(default_factory=list)
    touchpoints: list[tuple[Any, ...]] = field(default_factory=list)


@dataclass(slots=True)
class DemoSummary:
    visitors: int = 0
    contacts: int = 0
    touchpoints: int = 0
    page_views: int = 0
    conversions: int = 0
    value: float = 0.0

    def add(self, chunk: DemoChunk) -> None:
        self.visitors += len(chunk.visitors)
        self.contacts += len(chunk.contacts)
        self.touchpoints += len(chunk.touchpoints)
        kind = TOUCHPOINT_COLUMNS.index("kind")
        value = TOUCHPOINT_COLUMNS.index("value")
        for row in chunk.touchpoints:
            if row[kind] == "page_view":
                self.page_views += 1
            elif row[kind] == "conversion":
                self.conversions += 1
                self.value += row[value]


@dataclass(frozen=True, slots=True)
class DemoConfig:
    visitors: int = 10_000
    seed: int = 42
    days: int = 30
    # Unix seconds the history ends at (exclusive); nothing happens after it.
    end: float = 0.0
    sales_queue: str = "sales"
    support_queue: str = "support"
    agents: tuple[str, ...] = ()
    chunk: int = 2000


_TOUCHPOINT_DEFAULTS: dict[str, Any] = {
    "contact_id": None,
    "referrer": "",
    "utm_source": "",
    "utm_medium": "",
    "utm_campaign": "",
    "utm_term": "",
    "utm_content": "",
    "ended_at": None,
    "queue_id": "",
    "wait_s": None,
    "handle_s": None,
    "outcome": "",
    "csat": None,
    "sentiment": None,
    "value": None,
    "data": None,
    "dedupe_key": None,
}
_CONTACT_DEFAULTS: dict[str, Any] = {
    "priority": 0,
    "email": "",
    "answered_at": None,
    "ended_at": None,
    "abandoned_at": None,
    "wrap_up_ended_at": None,
    "agent_id": None,
    "ended_by": "",
    "disposition": "",
    "csat": None,
    "csat_comment": "",
    "visitor_read_seq": 0,
    "agent_read_seq": 0,
    "visitor_delivered_seq": 0,
    "agent_delivered_seq": 0,
    "data": "{}",
}


def _touchpoint(**values: Any) -> tuple[Any, ...]:
    row = {**_TOUCHPOINT_DEFAULTS, **values}
    return tuple(row[c] for c in TOUCHPOINT_COLUMNS)


def _contact(**values: Any) -> tuple[Any, ...]:
    row = {**_CONTACT_DEFAULTS, **values}
    return tuple(row[c] for c in CONTACT_COLUMNS)


class _Visitor:
    """Builds one visitor's rows."""

    def __init__(self, gen: DemoGenerator, chunk: DemoChunk) -> None:
        self.gen = gen
        self.rng = gen.rng
        self.chunk = chunk
        self.id = gen.new_id()
        self.last = 0.0
        self.referrer = ""

    def page(
        self, stage: str, at: float, utm: tuple[str, str, str] = ("", "", ""), referrer: str | None = None
    ) -> tuple[str, str, str, str]:
        path, title, how = self.rng.choice(PAGES[stage])
        url = BASE_URL + path
        if utm[0]:
            sep = "&" if "?" in url else "?"
            url += f"{sep}utm_source={utm[0]}&utm_medium={utm[1]}&utm_campaign={utm[2]}"
        ref = self.referrer if referrer is None else referrer
        self.chunk.touchpoints.append(
            _touchpoint(
                visitor_id=self.id,
                kind="page_view",
                channel="web",
                stage=stage,
                stage_source=how,
                url=url,
                title=title,
                referrer=ref,
                utm_source=utm[0],
                utm_medium=utm[1],
                utm_campaign=utm[2],
                started_at=at,
            )
        )
        self.referrer = url
        self.last = max(self.last, at)
        return url, title, ref, how

    def contact(self, stage: str, at: float, page: tuple[str, str, str, str]) -> str:
        """A contact from this page; returns its outcome (answered, handled, abandoned,
        offline)."""
        rng = self.rng
        mix = CHANNEL_MIX.get(stage, CHANNEL_MIX["default"])
        channel = rng.choices(CHANNELS, mix)[0]
        queue = self.gen.config.support_queue if stage == "retention" else self.gen.config.sales_queue
        contact_id = self.gen.new_id()
        url, title, referrer, how = page
        utm = _utm_of(url)
        contact = {
            "id": contact_id,
            "visitor_id": self.id,
            "queue_id": queue,
            "name": f"Visitor {contact_id[:5]}",
            "topic": queue.title(),
            "stage": stage,
            "stage_source": how,
            "page_url": url,
            "page_title": title,
            "referrer": referrer,
            "utm_source": utm[0],
            "utm_medium": utm[1],
            "utm_campaign": utm[2],
            "created_at": at,
            "enqueued_at": at,
        }
        touch = {
            "visitor_id": self.id,
            "contact_id": contact_id,
            "kind": "contact",
            "channel": channel,
            "stage": stage,
            "stage_source": how,
            "url": url,
            "title": title,
            "referrer": referrer,
            "started_at": at,
            "queue_id": queue,
        }
        if channel == "offline":
            self.chunk.contacts.append(
                _contact(**contact, channel="chat", status="offline", ended_at=at, ended_by="system")
            )
            self.chunk.touchpoints.append(
                _touchpoint(**{**touch, "kind": "offline_message"}, ended_at=at, outcome="offline")
            )
            self.last = max(self.last, at)
            return "offline"
        wait = rng.lognormvariate(
            math.log(MEDIAN_WAIT_S[channel] * WAIT_FACTOR.get((stage, channel), 1.0)), 0.8
        )
        patience = rng.expovariate(1.0 / PATIENCE_S[channel])
        if patience < wait:
            left = at + patience
            self.chunk.contacts.append(
                _contact(
                    **contact,
                    channel=channel,
                    status="abandoned",
                    ended_at=left,
                    abandoned_at=left,
                    ended_by="visitor",
                )
            )
            self.chunk.touchpoints.append(
                _touchpoint(**touch, ended_at=left, wait_s=patience, outcome="abandoned")
            )
            self.last = max(self.last, left)
            return "abandoned"
        answered = at + wait
        handle = rng.lognormvariate(math.log(MEDIAN_HANDLE_S[channel]), 0.6)
        ended = answered + handle
        disposition = rng.choices(("resolved", "follow_up", "other"), (0.72, 0.18, 0.10))[0]
        csat = None
        sentiment = None
        if rng.random() < 0.45:
            weights = RATINGS_BAD if (stage, channel) in BAD_CSAT_CELLS else RATINGS_GOOD
            csat = rng.choices((1, 2, 3, 4, 5), weights)[0]
            sentiment = round(max(-1.0, min(1.0, (csat - 3) / 2 + rng.gauss(0, 0.2))), 3)
        agent = rng.choice(self.gen.config.agents) if self.gen.config.agents else None
        self.chunk.contacts.append(
            _contact(
                **contact,
                channel=channel,
                status="ended",
                answered_at=answered,
                ended_at=ended,
                wrap_up_ended_at=ended,
                agent_id=agent,
                ended_by="agent",
                disposition=disposition,
                csat=csat,
                visitor_read_seq=2,
                agent_read_seq=2,
                visitor_delivered_seq=2,
                agent_delivered_seq=2,
            )
        )
        self.chunk.touchpoints.append(
            _touchpoint(
                **touch,
                ended_at=ended,
                wait_s=wait,
                handle_s=handle,
                outcome=disposition,
                csat=csat,
                sentiment=sentiment,
            )
        )
        self.last = max(self.last, ended)
        return "answered" if disposition == "resolved" else "handled"

    def conversion(self, at: float) -> None:
        rng = self.rng
        value = rng.choice(PRICES) + rng.choice((0.0, 0.0, 49.0, 129.0))
        order = self.gen.new_id()[:12]
        self.chunk.touchpoints.append(
            _touchpoint(
                visitor_id=self.id,
                kind="conversion",
                channel="web",
                stage="purchase",
                stage_source="declared",
                url=BASE_URL + "/checkout/thanks",
                title="Thank you - Northwind",
                started_at=at,
                ended_at=at,
                outcome="purchase_completed",
                value=value,
                data=json.dumps({"site": "demo", "event_id": order, "currency": "EUR"}),
                dedupe_key=f"demo:{order}",
            )
        )
        self.last = max(self.last, at)


def _utm_of(url: str) -> tuple[str, str, str]:
    if "utm_source=" not in url:
        return ("", "", "")
    params = dict(part.split("=", 1) for part in url.split("?", 1)[1].split("&") if "=" in part)
    return (params.get("utm_source", ""), params.get("utm_medium", ""), params.get("utm_campaign", ""))


class DemoGenerator:
    def __init__(self, config: DemoConfig) -> None:
        self.config = config
        self.rng = random.Random(config.seed)
        self.end = config.end
        self.start = config.end - config.days * 86400

    def new_id(self) -> str:
        return f"{self.rng.getrandbits(128):032x}"

    def chunks(self) -> Iterator[DemoChunk]:
        remaining = self.config.visitors
        while remaining > 0:
            size = min(self.config.chunk, remaining)
            chunk = DemoChunk()
            for _ in range(size):
                self._visitor(chunk)
            remaining -= size
            yield chunk

    def _gap(self, median: float) -> float:
        return self.rng.lognormvariate(math.log(median), 0.7)

    def _visitor(self, chunk: DemoChunk) -> None:
        rng = self.rng
        source = rng.choices(SOURCES, _SOURCE_WEIGHTS)[0]
        v = _Visitor(self, chunk)
        t = rng.uniform(self.start, self.end - 3600)
        first_at = t
        stage_i = STAGES.index(source.landing)
        # The page the visitor enters a stage on, when it is already recorded.
        landing = v.page(STAGES[stage_i], t, source.utm, source.referrer)
        entry: tuple[str, str, str, str] | None = landing
        landing_url = landing[0]
        sessions = 1
        keen = source.keen
        bought = False
        while True:
            stage = STAGES[stage_i]
            # A few pages in this stage, perhaps a contact from one of them.
            pages = 1 + min(5, int(rng.expovariate(0.6)))
            page = entry
            for _ in range(pages - (1 if entry is not None else 0)):
                t += self._gap(60.0)
                if t >= self.end:
                    break
                page = v.page(stage, t)
            entry = None
            if t >= self.end or page is None:
                break
            boost = 0.0
            contact_at = t + self._gap(20.0)
            if rng.random() < CONTACT_P[stage] and contact_at < self.end:
                outcome = v.contact(stage, contact_at, page)
                t = max(t, v.last)
                boost = {"answered": 0.15, "handled": 0.05, "abandoned": -0.2}.get(outcome, 0.0)
            if stage == "purchase":
                if rng.random() < 0.55 + boost:
                    t += self._gap(120.0)
                    if t < self.end:
                        v.conversion(t)
                        bought = True
                break
            if stage == "retention":
                break
            if rng.random() < min(0.95, ADVANCE[stage] * (keen / 0.5) + boost):
                stage_i += 1
                t += self._gap(45.0)
                continue
            # Left at this stage: perhaps come back another day where they were.
            if sessions < 4 and rng.random() < 0.35:
                sessions += 1
                t += rng.uniform(0.5, 5) * 86400
                if t >= self.end:
                    break
                v.referrer = ""
                entry = v.page(stage, t, referrer="")
                keen *= 0.9
                continue
            break
        if bought and rng.random() < 0.35:
            t += rng.uniform(3, 20) * 86400
            if t < self.end:
                v.referrer = ""
                page = v.page("retention", t, referrer="")
                for _ in range(int(rng.expovariate(1.0))):
                    t += self._gap(60.0)
                    if t >= self.end:
                        break
                    page = v.page("retention", t)
                contact_at = t + self._gap(20.0)
                if contact_at < self.end and rng.random() < CONTACT_P["retention"]:
                    v.contact("retention", contact_at, page)
        chunk.visitors.append(
            (
                v.id,
                first_at,
                v.last,
                "",
                "",
                source.referrer,
                landing_url,
                *source.utm,
                "",
                "",
                first_source(source.utm[0], source.referrer, landing_url),
            )
        )


# --------------------------------------------------------------------------- writing


async def write_rows(
    engine: AsyncEngine, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    """Append rows fast: COPY on PostgreSQL, one executemany on SQLite."""
    if not rows:
        return
    if engine.dialect.name == "postgresql":
        async with engine.connect() as conn:
            raw = await conn.get_raw_connection()
            driver: Any = raw.driver_connection
            await driver.copy_records_to_table(table, records=rows, columns=list(columns))
        return
    placeholders = ", ".join("?" for _ in columns)
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})"
    async with engine.begin() as conn:
        await conn.exec_driver_sql(sql, rows)  # type: ignore[arg-type]


async def write_demo(
    engine: AsyncEngine, config: DemoConfig, progress: Callable[[DemoSummary], None] | None = None
) -> DemoSummary:
    summary = DemoSummary()
    for chunk in DemoGenerator(config).chunks():
        await write_rows(engine, "visitors", VISITOR_COLUMNS, chunk.visitors)
        await write_rows(engine, "contacts", CONTACT_COLUMNS, chunk.contacts)
        await write_rows(engine, "touchpoints", TOUCHPOINT_COLUMNS, chunk.touchpoints)
        summary.add(chunk)
        if progress is not None:
            progress(summary)
    return summary
