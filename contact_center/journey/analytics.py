"""Journey analytics: the funnel, the journey map (stage x channel) with its
bottlenecks, contacts by stage of origin, attribution of conversions, and a visitor's
timeline.

Every figure is aggregated in the database (a statement or two per figure, SQL that
runs on SQLite and PostgreSQL; only the funnel's median differs) over ``touchpoints``
and, for the funnel, its per-visitor-day rollup ``journey_visitor_days``, with the
indexes of migration 0002; Python only reshapes the few aggregate rows.
``docs/journey.md`` has the same definitions.

Filters (:class:`Filters`): a time window ``[start, end)`` on the touchpoint's
``started_at`` (a conversion's time, for attribution), the visitor's first-touch
source (``visitors.first_source``), and a queue, which applies to contacts only (page
views and conversions have no queue).

Definitions (stages in order: awareness, consideration, decision, purchase, retention;
"contacts" are touchpoints of kind ``contact`` (chat, voice, video) and
``offline_message``):

* **Funnel.**  ``visitors(N)``: visitors with a touchpoint of any kind in stage N in
  the window.  ``reached(N)``: visitors whose furthest stage in the window is N or
  later (a visitor who landed on the pricing page reached awareness and consideration
  too), so the funnel never widens.  Step conversion = reached(N+1) / reached(N);
  drop-off = 1 - step conversion; ``dropped`` = reached(N) - reached(N+1).  Time to
  convert N -> N+1: for visitors with a touchpoint in both stages, first touch in N+1
  minus first touch in N, when not negative; mean and median (the mean of the two
  middle values for an even count).
* **Contact rate per stage** = visitors with a contact that originated in the stage /
  visitors(N).
* **Journey map cell** (stage of origin x channel, over contacts started in the
  window): volume; visitors; queued (kind contact); answered (waited and not abandoned
  or overflowed); abandoned (outcome ``abandoned``); abandonment rate = abandoned /
  queued; average wait over contacts with a measured wait (answered, abandoned or
  overflowed: the time they waited); CSAT = ratings 4-5 / ratings; conversion after
  contact = contacts followed by a conversion of the same visitor within
  ``conversion_window_s`` (7 days) of the contact's start / volume.  A stage's total
  (channel "*") sums its cells.
* **Bottlenecks** (:class:`~contact_center.journey.schemas.BottleneckRules`): a cell
  with at least ``min_volume`` contacts is flagged when abandonment rate >
  ``max_abandonment``, average wait > ``max_avg_wait_s``, CSAT < ``min_csat`` (with at
  least ``min_rated`` ratings), or conversion after contact < (1 -
  ``conversion_margin``) x its stage's total rate and at least ``min_conversion_gap``
  below it.  Score = volume x the sum, over the broken rules, of the relative distance
  past the threshold; worst first.
* **Attribution** of each conversion in the window over the same visitor's page
  views, contacts and offline messages from ``lookback_s`` (30 days) before it up to
  its time (conversions themselves never get credit): first touch gives the
  conversion (and its value) to the earliest, last touch to the latest, linear 1/n to
  each of the n.  Credit is summed by channel x stage.  A conversion with no such
  touchpoint is unattributed.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from contact_center.journey import schemas as js
from contact_center.journey.stages import STAGES

CONTACT_KINDS = ("contact", "offline_message")
CREDITED_KINDS = ("page_view", "contact", "offline_message")
CONVERSION_WINDOW_S = 7 * 86400.0
LOOKBACK_S = 30 * 86400.0
CHANNEL_ORDER = ("web", "chat", "voice", "video", "offline")
PG_WORK_MEM = "64MB"


def _literals(values: Iterable[str]) -> str:
    """Constant identifiers from this module as SQL literals (never user input)."""
    out = []
    for value in values:
        assert value.replace("_", "").isalnum(), value
        out.append(f"'{value}'")
    return ", ".join(out)


_STAGE_LIST = _literals(STAGES)
_CONTACT_KINDS = _literals(CONTACT_KINDS)
_CREDITED_KINDS = _literals(CREDITED_KINDS)


@dataclass(frozen=True, slots=True)
class Filters:
    start: float
    end: float
    source: str | None = None
    queue: str | None = None

    def window(self) -> js.Window:
        return js.Window(start=self.start, end=self.end, source=self.source, queue=self.queue)

    def where(self, alias: str = "t", *, queue: bool = False) -> tuple[str, dict[str, Any]]:
        """The window (and source, and queue when it applies) as SQL on ``alias``."""
        sql = f"{alias}.started_at >= :start AND {alias}.started_at < :end"
        params: dict[str, Any] = {"start": self.start, "end": self.end}
        if self.source:
            sql += f" AND {alias}.visitor_id IN (SELECT id FROM visitors WHERE first_source = :source)"
            params["source"] = self.source
        if queue and self.queue:
            sql += f" AND {alias}.queue_id = :queue"
            params["queue"] = self.queue
        return sql, params


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def _order(values: Iterable[str], preferred: Sequence[str]) -> list[str]:
    rank = {v: i for i, v in enumerate(preferred)}
    return sorted(set(values), key=lambda v: (rank.get(v, len(rank)), v))


class JourneyAnalytics:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def _rows(self, sql: str, params: dict[str, Any], *, serial: bool = False) -> list[Any]:
        async with self._engine.connect() as conn:
            if self._engine.dialect.name == "postgresql":
                # For this transaction only: room to hash and sort in memory, no JIT
                # (compiling costs more than it saves on queries of this size) and, for
                # a grouping whose size the planner cannot estimate, no parallel plan.
                await conn.execute(
                    text(
                        "SELECT set_config('work_mem', :work_mem, true), set_config('jit', 'off', true),"
                        " set_config('max_parallel_workers_per_gather', :workers, true)"
                    ),
                    {"work_mem": PG_WORK_MEM, "workers": "0" if serial else "2"},
                )
            return list((await conn.execute(text(sql), params)).all())

    # ------------------------------------------------------------------ funnel

    async def funnel(self, filters: Filters) -> js.Funnel:
        n = len(STAGES)
        # The planner estimates the per-visitor grouping of a UNION at 200 groups and
        # would pick a parallel partial aggregate that sorts every row; a single hash
        # aggregate is about twice as fast (bench/journey.py).
        row = (await self._rows(self._funnel_sql(filters), self._funnel_params(filters), serial=True))[0]
        visitors = [int(row[i] or 0) for i in range(n)]
        reached = [int(row[n + i] or 0) for i in range(n)]
        times: dict[int, tuple[int, float | None, float | None]] = {}
        for i in range(n - 1):
            timed, avg, median = row[2 * n + 3 * i : 2 * n + 3 * i + 3]
            times[i] = (int(timed or 0), _float(avg), _float(median))

        contact_where, contact_params = filters.where("t", queue=True)
        contacted = {
            stage: int(count)
            for stage, count in await self._rows(
                f"""
                SELECT t.stage, COUNT(DISTINCT t.visitor_id)
                FROM touchpoints t
                WHERE t.kind IN ({_CONTACT_KINDS}) AND {contact_where} AND t.stage IN ({_STAGE_LIST})
                GROUP BY t.stage
                """,
                contact_params,
            )
        }
        out = []
        for i, stage in enumerate(STAGES):
            last = i == n - 1
            conversion = None if last else _ratio(reached[i + 1], reached[i])
            timed, avg, median = times.get(i, (0, None, None))
            out.append(
                js.FunnelStep(
                    stage=stage,
                    visitors=visitors[i],
                    reached=reached[i],
                    step_conversion=conversion,
                    drop_off=None if conversion is None else 1.0 - conversion,
                    dropped=reached[i] - (0 if last else reached[i + 1]),
                    timed=timed,
                    avg_time_to_next_s=avg,
                    median_time_to_next_s=median,
                    contacted=contacted.get(stage, 0),
                    contact_rate=_ratio(contacted.get(stage, 0), visitors[i]),
                )
            )
        return js.Funnel(
            window=filters.window(), steps=out, overall_conversion=_ratio(reached[-1], reached[0])
        )

    @staticmethod
    def _funnel_params(filters: Filters) -> dict[str, Any]:
        """Whole UTC days of the window come from ``journey_visitor_days``; the partial
        days at either end from ``touchpoints``."""
        _, params = filters.where("t")
        day_lo = math.ceil(filters.start / 86400)
        day_hi = math.floor(filters.end / 86400)
        if day_lo >= day_hi:  # no whole day inside: everything from touchpoints
            day_lo = day_hi = 0
            params.update(edge_lo=filters.end, edge_hi=filters.end)
        else:
            params.update(edge_lo=day_lo * 86400.0, edge_hi=day_hi * 86400.0)
        params.update(day_lo=day_lo, day_hi=day_hi)
        return params

    def _funnel_sql(self, filters: Filters) -> str:
        n = len(STAGES)
        source = " AND {a}.visitor_id IN (SELECT id FROM visitors WHERE first_source = :source)"
        rollup_cols = ", ".join(f"d.first_{stage} AS a{i}" for i, stage in enumerate(STAGES))
        raw_cols = ", ".join(
            f"CASE WHEN t.stage = '{stage}' THEN t.started_at END AS a{i}" for i, stage in enumerate(STAGES)
        )
        mins = ", ".join(f"MIN(a{i}) AS s{i}" for i in range(n))
        hits = f"""
            SELECT d.visitor_id, {rollup_cols}
            FROM journey_visitor_days d
            WHERE d.day >= :day_lo AND d.day < :day_hi{source.format(a="d") if filters.source else ""}
            UNION ALL
            SELECT t.visitor_id, {raw_cols}
            FROM touchpoints t
            WHERE ((t.started_at >= :start AND t.started_at < :edge_lo)
                   OR (t.started_at >= :edge_hi AND t.started_at < :end))
              AND t.stage IN ({_STAGE_LIST}){source.format(a="t") if filters.source else ""}
        """
        columns = [f"COUNT(s{i})" for i in range(n)]
        columns += [
            f"COUNT(COALESCE({', '.join(f's{j}' for j in range(i, n))}))" if i < n - 1 else f"COUNT(s{i})"
            for i in range(n)
        ]
        postgres = self._engine.dialect.name == "postgresql"
        for i in range(n - 1):
            dt = f"CASE WHEN s{i + 1} >= s{i} THEN s{i + 1} - s{i} END"
            columns += [f"COUNT({dt})", f"AVG({dt})"]
            if postgres:
                columns.append(f"percentile_cont(0.5) WITHIN GROUP (ORDER BY {dt})")
            else:
                columns.append(f"(SELECT median FROM medians WHERE step = {i})")
        if postgres:
            return f"""
                WITH firsts AS (SELECT visitor_id, {mins} FROM ({hits}) hits GROUP BY visitor_id)
                SELECT {", ".join(columns)} FROM firsts
            """
        # SQLite has no percentile aggregate: the median is the mean of the middle one
        # or two values of each step, found by row number.
        steps = " UNION ALL ".join(
            f"SELECT {i} AS step, s{i + 1} - s{i} AS dt FROM firsts WHERE s{i + 1} >= s{i}"
            for i in range(n - 1)
        )
        return f"""
            WITH firsts AS MATERIALIZED (SELECT visitor_id, {mins} FROM ({hits}) hits GROUP BY visitor_id),
            ranked AS (
                SELECT step, dt,
                       ROW_NUMBER() OVER (PARTITION BY step ORDER BY dt) AS rn,
                       COUNT(*) OVER (PARTITION BY step) AS n
                FROM ({steps}) steps
            ),
            medians AS (
                SELECT step, AVG(dt) AS median FROM ranked
                WHERE rn = (n + 1) / 2 OR rn = (n + 2) / 2
                GROUP BY step
            )
            SELECT {", ".join(columns)} FROM firsts
        """

    # ------------------------------------------------------------------ journey map

    async def _cells(self, filters: Filters, conversion_window_s: float) -> list[js.GridCell]:
        where, params = filters.where("t", queue=True)
        params["window"] = conversion_window_s
        sql = f"""
            WITH c AS (
                SELECT t.stage, t.channel, t.kind, t.visitor_id, t.wait_s, t.outcome, t.csat,
                       CASE WHEN EXISTS (
                           SELECT 1 FROM touchpoints v
                           WHERE v.visitor_id = t.visitor_id AND v.kind = 'conversion'
                             AND v.started_at >= t.started_at AND v.started_at <= t.started_at + :window
                       ) THEN 1 ELSE 0 END AS converted
                FROM touchpoints t
                WHERE t.kind IN ({_CONTACT_KINDS}) AND {where}
            )
            SELECT stage, channel,
                   COUNT(*) AS volume,
                   COUNT(DISTINCT visitor_id) AS visitors,
                   SUM(CASE WHEN kind = 'contact' THEN 1 ELSE 0 END) AS queued,
                   SUM(CASE WHEN wait_s IS NOT NULL AND outcome NOT IN ('abandoned', 'overflowed')
                            THEN 1 ELSE 0 END) AS answered,
                   SUM(CASE WHEN outcome = 'abandoned' THEN 1 ELSE 0 END) AS abandoned,
                   COUNT(wait_s) AS waited,
                   SUM(wait_s) AS wait_sum,
                   COUNT(csat) AS rated,
                   SUM(CASE WHEN csat >= 4 THEN 1 ELSE 0 END) AS satisfied,
                   SUM(converted) AS converted
            FROM c
            GROUP BY stage, channel
        """
        return [_cell(row._mapping) for row in await self._rows(sql, params)]

    async def journey_map(
        self,
        filters: Filters,
        rules: js.BottleneckRules | None = None,
        conversion_window_s: float = CONVERSION_WINDOW_S,
    ) -> js.JourneyMap:
        rules = rules or js.BottleneckRules()
        cells = await self._cells(filters, conversion_window_s)
        # Every stage is a column, empty or not; "unknown" (or a stage named by a site)
        # only when contacts have it.
        stages = _order([*STAGES, *(c.stage for c in cells)], (*STAGES, "unknown"))
        channels = _order((c.channel for c in cells), CHANNEL_ORDER)
        rank = {s: i for i, s in enumerate(stages)}
        crank = {c: i for i, c in enumerate(channels)}
        cells.sort(key=lambda c: (rank[c.stage], crank[c.channel]))
        totals = [_total(stage, [c for c in cells if c.stage == stage]) for stage in stages]
        return js.JourneyMap(
            window=filters.window(),
            stages=stages,
            channels=channels,
            cells=cells,
            stage_totals=totals,
            bottlenecks=find_bottlenecks(cells, totals, rules),
            rules=rules,
            conversion_window_s=conversion_window_s,
        )

    async def bottlenecks(self, filters: Filters, rules: js.BottleneckRules | None = None) -> js.Bottlenecks:
        grid = await self.journey_map(filters, rules)
        return js.Bottlenecks(window=grid.window, bottlenecks=grid.bottlenecks, rules=grid.rules)

    # ------------------------------------------------------------------ origins

    async def origins(self, filters: Filters) -> js.Origins:
        where, params = filters.where("t", queue=True)
        sql = f"""
            SELECT t.stage, t.channel,
                   COUNT(*) AS contacts,
                   SUM(CASE WHEN t.stage_source = 'declared' THEN 1 ELSE 0 END) AS declared,
                   SUM(CASE WHEN t.stage_source = 'rule' THEN 1 ELSE 0 END) AS rule,
                   SUM(CASE WHEN t.stage_source NOT IN ('declared', 'rule') THEN 1 ELSE 0 END) AS inferred
            FROM touchpoints t
            WHERE t.kind IN ({_CONTACT_KINDS}) AND {where}
            GROUP BY t.stage, t.channel
        """
        stage_rank = {s: i for i, s in enumerate((*STAGES, "unknown"))}
        channel_rank = {c: i for i, c in enumerate(CHANNEL_ORDER)}
        rows = sorted(
            (
                js.OriginRow(
                    stage=r.stage,
                    channel=r.channel,
                    contacts=int(r.contacts),
                    declared=int(r.declared),
                    rule=int(r.rule),
                    inferred=int(r.inferred),
                )
                for r in await self._rows(sql, params)
            ),
            key=lambda r: (stage_rank.get(r.stage, 99), channel_rank.get(r.channel, 99), r.channel),
        )
        return js.Origins(window=filters.window(), rows=rows, total=sum(r.contacts for r in rows))

    # ------------------------------------------------------------------ attribution

    async def attribution(self, filters: Filters, lookback_s: float = LOOKBACK_S) -> js.Attribution:
        where, params = filters.where("c")
        params["lookback"] = lookback_s
        # Each conversion's path: the visitor's credited touchpoints from lookback_s
        # before it up to it, numbered in time order (ties by id); rn = 1 is the first
        # touch, rn = n the last.
        sql = f"""
            WITH path AS (
                SELECT c.id AS cid, COALESCE(c.value, 0.0) AS value, p.channel, p.stage,
                       ROW_NUMBER() OVER (PARTITION BY c.id ORDER BY p.started_at, p.id) AS rn,
                       COUNT(*) OVER (PARTITION BY c.id) AS n
                FROM touchpoints c
                JOIN touchpoints p ON p.visitor_id = c.visitor_id
                WHERE c.kind = 'conversion' AND {where}
                  AND p.kind IN ({_CREDITED_KINDS})
                  AND p.started_at <= c.started_at AND p.started_at >= c.started_at - :lookback
            )
            SELECT channel, stage,
                   SUM(CASE WHEN rn = 1 THEN 1 ELSE 0 END) AS first_n,
                   SUM(CASE WHEN rn = 1 THEN value ELSE 0 END) AS first_v,
                   SUM(CASE WHEN rn = n THEN 1 ELSE 0 END) AS last_n,
                   SUM(CASE WHEN rn = n THEN value ELSE 0 END) AS last_v,
                   SUM(CAST(1 AS FLOAT) / n) AS linear_n,
                   SUM(value / n) AS linear_v
            FROM path
            GROUP BY channel, stage
        """
        rows = [
            js.AttributionRow(
                channel=r.channel,
                stage=r.stage,
                first_touch=float(r.first_n),
                first_touch_value=float(r.first_v or 0.0),
                last_touch=float(r.last_n),
                last_touch_value=float(r.last_v or 0.0),
                linear=float(r.linear_n),
                linear_value=float(r.linear_v or 0.0),
            )
            for r in await self._rows(sql, params)
        ]
        stage_rank = {s: i for i, s in enumerate((*STAGES, "unknown"))}
        channel_rank = {c: i for i, c in enumerate(CHANNEL_ORDER)}
        rows.sort(key=lambda r: (stage_rank.get(r.stage, 99), channel_rank.get(r.channel, 99), r.channel))
        sources = [
            js.SourceConversions(source=r.source, conversions=int(r.conversions), value=float(r.value or 0.0))
            for r in await self._rows(
                f"""
                SELECT COALESCE(v.first_source, 'unknown') AS source, COUNT(*) AS conversions,
                       SUM(COALESCE(c.value, 0.0)) AS value
                FROM touchpoints c LEFT JOIN visitors v ON v.id = c.visitor_id
                WHERE c.kind = 'conversion' AND {where}
                GROUP BY COALESCE(v.first_source, 'unknown')
                ORDER BY COUNT(*) DESC, COALESCE(v.first_source, 'unknown')
                """,
                params,
            )
        ]
        total = sum(s.conversions for s in sources)
        attributed = round(sum(r.first_touch for r in rows))
        return js.Attribution(
            window=filters.window(),
            lookback_s=lookback_s,
            conversions=total,
            value=sum(s.value for s in sources),
            attributed=attributed,
            unattributed=total - attributed,
            rows=rows,
            sources=sources,
        )

    # ------------------------------------------------------------------ sources

    async def sources(self, filters: Filters, limit: int = 100) -> js.Sources:
        """First-touch sources of the visitors first seen in the window, most first."""
        rows = await self._rows(
            """
            SELECT first_source, COUNT(*) AS visitors FROM visitors
            WHERE created_at >= :start AND created_at < :end
            GROUP BY first_source ORDER BY COUNT(*) DESC, first_source LIMIT :limit
            """,
            {"start": filters.start, "end": filters.end, "limit": limit},
        )
        return js.Sources(
            window=filters.window(),
            sources=[js.SourceCount(source=r.first_source, visitors=int(r.visitors)) for r in rows],
        )

    # ------------------------------------------------------------------ timeline

    async def timeline(self, visitor_id: str, limit: int = 200) -> js.VisitorJourney:
        """The visitor's first touch and its latest ``limit`` touchpoints, oldest first,
        contacts with their status, agent and outcome."""
        params = {"visitor": visitor_id, "limit": limit + 1}
        visitor_rows = await self._rows(
            """
            SELECT id, created_at, last_seen_at, name, email, first_source, first_referrer,
                   first_landing_url, first_utm_source, first_utm_medium, first_utm_campaign,
                   first_utm_term, first_utm_content
            FROM visitors WHERE id = :visitor
            """,
            params,
        )
        visitor = None
        if visitor_rows:
            v = visitor_rows[0]._mapping
            visitor = js.VisitorOut(
                id=v["id"],
                first_seen_at=v["created_at"],
                last_seen_at=v["last_seen_at"],
                **{k: v[k] for k in v if k not in ("id", "created_at", "last_seen_at")},
            )
        items_rows = await self._rows(
            """
            SELECT t.id, t.kind, t.channel, t.stage, t.stage_source, t.started_at, t.ended_at, t.url,
                   t.title, t.referrer, t.utm_source, t.utm_medium, t.utm_campaign, t.contact_id,
                   t.queue_id, t.wait_s, t.handle_s, t.outcome, t.csat, t.sentiment, t.value, t.data,
                   c.status, c.agent_id
            FROM touchpoints t LEFT JOIN contacts c ON c.id = t.contact_id
            WHERE t.visitor_id = :visitor
            ORDER BY t.started_at DESC, t.id DESC
            LIMIT :limit
            """,
            params,
        )
        truncated = len(items_rows) > limit
        items = [_item(r._mapping) for r in reversed(items_rows[:limit])]
        counts = {
            r.kind: (int(r.n), float(r.value or 0.0))
            for r in await self._rows(
                """
                SELECT kind, COUNT(*) AS n, SUM(value) AS value FROM touchpoints
                WHERE visitor_id = :visitor GROUP BY kind
                """,
                params,
            )
        }
        return js.VisitorJourney(
            visitor_id=visitor_id,
            visitor=visitor,
            items=items,
            truncated=truncated,
            page_views=counts.get("page_view", (0, 0.0))[0],
            contacts=counts.get("contact", (0, 0.0))[0] + counts.get("offline_message", (0, 0.0))[0],
            conversions=counts.get("conversion", (0, 0.0))[0],
            conversion_value=counts.get("conversion", (0, 0.0))[1],
        )


# --------------------------------------------------------------------------- helpers


def _cell(r: Any) -> js.GridCell:
    return _derive(
        r["stage"],
        r["channel"],
        volume=int(r["volume"]),
        visitors=int(r["visitors"]),
        queued=int(r["queued"] or 0),
        answered=int(r["answered"] or 0),
        abandoned=int(r["abandoned"] or 0),
        waited=int(r["waited"] or 0),
        wait_sum=float(r["wait_sum"] or 0.0),
        rated=int(r["rated"] or 0),
        satisfied=int(r["satisfied"] or 0),
        converted=int(r["converted"] or 0),
    )


def _derive(stage: str, channel: str, *, wait_sum: float, **counts: int) -> js.GridCell:
    return js.GridCell(
        stage=stage,
        channel=channel,
        abandonment_rate=_ratio(counts["abandoned"], counts["queued"]),
        avg_wait_s=_ratio(wait_sum, counts["waited"]),
        csat=_ratio(counts["satisfied"], counts["rated"]),
        conversion_rate=_ratio(counts["converted"], counts["volume"]),
        **counts,
    )


def _total(stage: str, cells: list[js.GridCell]) -> js.GridCell:
    """A stage's cells summed (visitors: the sum over channels, so a visitor who used
    two channels counts twice)."""
    names = (
        "volume",
        "visitors",
        "queued",
        "answered",
        "abandoned",
        "waited",
        "rated",
        "satisfied",
        "converted",
    )
    counts = {name: sum(getattr(c, name) for c in cells) for name in names}
    wait_sum = sum((c.avg_wait_s or 0.0) * c.waited for c in cells)
    return _derive(stage, "*", wait_sum=wait_sum, **counts)


def find_bottlenecks(
    cells: Sequence[js.GridCell], totals: Sequence[js.GridCell], rules: js.BottleneckRules
) -> list[js.Bottleneck]:
    """The cells that break a rule, worst (highest score) first."""
    stage_rate = {t.stage: t.conversion_rate for t in totals}
    found = []
    for cell in cells:
        if cell.volume < rules.min_volume:
            continue
        broken: list[tuple[str, float, str]] = []
        if cell.abandonment_rate is not None and cell.abandonment_rate > rules.max_abandonment:
            broken.append(
                (
                    "abandonment",
                    _excess(cell.abandonment_rate, rules.max_abandonment),
                    f"abandonment {cell.abandonment_rate:.0%} > {rules.max_abandonment:.0%} "
                    f"({cell.abandoned} of {cell.queued} contacts left the queue)",
                )
            )
        if cell.avg_wait_s is not None and cell.avg_wait_s > rules.max_avg_wait_s:
            broken.append(
                (
                    "wait",
                    _excess(cell.avg_wait_s, rules.max_avg_wait_s),
                    f"average wait {cell.avg_wait_s:.0f} s > {rules.max_avg_wait_s:.0f} s",
                )
            )
        if cell.csat is not None and cell.rated >= rules.min_rated and cell.csat < rules.min_csat:
            broken.append(
                (
                    "csat",
                    _excess(rules.min_csat, cell.csat),
                    f"CSAT {cell.csat:.0%} < {rules.min_csat:.0%} "
                    f"({cell.satisfied} of {cell.rated} ratings were 4-5)",
                )
            )
        average = stage_rate.get(cell.stage)
        if average and cell.conversion_rate is not None:
            expected = (1.0 - rules.conversion_margin) * average
            if cell.conversion_rate < expected and average - cell.conversion_rate >= rules.min_conversion_gap:
                broken.append(
                    (
                        "conversion",
                        _excess(expected, cell.conversion_rate),
                        f"conversion after contact {cell.conversion_rate:.0%} < {expected:.0%} "
                        f"({1 - rules.conversion_margin:.0%} of the {cell.stage} average {average:.0%})",
                    )
                )
        if broken:
            found.append(
                js.Bottleneck(
                    stage=cell.stage,
                    channel=cell.channel,
                    score=round(cell.volume * sum(e for _, e, _ in broken), 6),
                    rules=[name for name, _, _ in broken],
                    reasons=[reason for _, _, reason in broken],
                    volume=cell.volume,
                )
            )
    stage_rank = {s: i for i, s in enumerate((*STAGES, "unknown"))}
    found.sort(key=lambda b: (-b.score, stage_rank.get(b.stage, 99), b.channel))
    return found


def _excess(bigger: float, smaller: float) -> float:
    """How far ``bigger`` is past ``smaller``, relative to ``smaller`` (1.0 when
    ``smaller`` is 0)."""
    return (bigger - smaller) / smaller if smaller else 1.0


def _item(r: Any) -> js.TimelineItem:
    data = r["data"] or {}
    if isinstance(data, str):  # a raw SQL read returns the JSON column as text
        data = json.loads(data)
    return js.TimelineItem(
        id=int(r["id"]),
        kind=r["kind"],
        channel=r["channel"],
        stage=r["stage"],
        stage_source=r["stage_source"],
        at=r["started_at"],
        ended_at=r["ended_at"],
        url=r["url"],
        title=r["title"],
        referrer=r["referrer"],
        utm_source=r["utm_source"],
        utm_medium=r["utm_medium"],
        utm_campaign=r["utm_campaign"],
        contact_id=r["contact_id"],
        queue_id=r["queue_id"],
        status=r["status"] or "",
        wait_s=r["wait_s"],
        handle_s=r["handle_s"],
        outcome=r["outcome"],
        csat=r["csat"],
        sentiment=r["sentiment"],
        value=r["value"],
        currency=str(data.get("currency", "")) if isinstance(data, dict) else "",
        agent_id=r["agent_id"],
    )
