"""Bodies of the journey REST API (msgspec structs; they double as OpenAPI schemas).

The analytics functions in :mod:`contact_center.journey.analytics` return these
structs, so what the API documents is what the queries produce.
"""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta, Struct

StageName = Literal["awareness", "consideration", "decision", "purchase", "retention"]
Rate = Annotated[float, Meta(ge=0, le=1)]


class Window(Struct):
    """The filters a figure was computed with (``start`` inclusive, ``end`` exclusive,
    Unix seconds)."""

    start: float
    end: float
    source: str | None = None
    queue: str | None = None


# --------------------------------------------------------------------------- funnel


class FunnelStep(Struct):
    stage: str
    # Visitors with at least one touchpoint in this stage in the window.
    visitors: int
    # Visitors whose furthest stage in the window is this one or a later one.
    reached: int
    # reached(next) / reached(this); None for the last stage or when reached is 0.
    step_conversion: float | None
    # 1 - step_conversion.
    drop_off: float | None
    # reached(this) - reached(next): visitors whose furthest stage is this one.
    dropped: int
    # Visitors with a first touch in this stage and a later-or-equal first touch in the
    # next one, and the time between those two first touches (seconds).
    timed: int
    avg_time_to_next_s: float | None
    median_time_to_next_s: float | None
    # Visitors with a contact (chat, call, offline message) that originated in this
    # stage, and contacted / visitors.
    contacted: int
    contact_rate: float | None


class Funnel(Struct):
    window: Window
    steps: list[FunnelStep]
    # reached(retention... last) / reached(first stage).
    overall_conversion: float | None


# --------------------------------------------------------------------------- grid


class GridCell(Struct):
    """One cell of the journey map: contacts that originated in ``stage`` on
    ``channel`` (``channel`` is "*" in a stage's total)."""

    stage: str
    channel: str
    # Contacts and offline messages.
    volume: int
    visitors: int
    # Contacts that entered a queue (offline messages do not).
    queued: int
    answered: int
    abandoned: int
    # abandoned / queued.
    abandonment_rate: float | None
    # Contacts with a measured wait (answered, abandoned or overflowed) and their mean.
    waited: int
    avg_wait_s: float | None
    # CSAT = ratings of 4-5 / all ratings.
    rated: int
    satisfied: int
    csat: float | None
    # Contacts whose visitor converted within the conversion window after the contact.
    converted: int
    conversion_rate: float | None


class BottleneckRules(Struct):
    """When a cell is a bottleneck.  Every rule needs ``min_volume`` contacts in the
    cell; CSAT also needs ``min_rated`` ratings."""

    min_volume: int = 20
    max_abandonment: float = 0.15
    max_avg_wait_s: float = 60.0
    min_csat: float = 0.7
    min_rated: int = 5
    # Conversion after contact below (1 - margin) x the stage's average, and at least
    # min_conversion_gap (absolute) below it, so tiny rates do not flag.
    conversion_margin: float = 0.25
    min_conversion_gap: float = 0.05


class Bottleneck(Struct):
    stage: str
    channel: str
    # volume x sum over the broken rules of how far past the threshold (relative).
    score: float
    # Which rules: abandonment, wait, csat, conversion.
    rules: list[str]
    reasons: list[str]
    volume: int


class JourneyMap(Struct):
    window: Window
    stages: list[str]
    channels: list[str]
    cells: list[GridCell]
    stage_totals: list[GridCell]
    bottlenecks: list[Bottleneck]
    rules: BottleneckRules
    conversion_window_s: float


class Bottlenecks(Struct):
    window: Window
    bottlenecks: list[Bottleneck]
    rules: BottleneckRules


# --------------------------------------------------------------------------- origins


class OriginRow(Struct):
    """Contacts by stage of origin x channel, and how their stage was set."""

    stage: str
    channel: str
    contacts: int
    declared: int
    rule: int
    inferred: int


class Origins(Struct):
    window: Window
    rows: list[OriginRow]
    total: int


# --------------------------------------------------------------------------- attribution


class AttributionRow(Struct):
    """Conversions (and their value) credited to touchpoints of one channel x stage."""

    channel: str
    stage: str
    first_touch: float
    first_touch_value: float
    last_touch: float
    last_touch_value: float
    linear: float
    linear_value: float


class SourceConversions(Struct):
    source: str
    conversions: int
    value: float


class Attribution(Struct):
    window: Window
    lookback_s: float
    conversions: int
    value: float
    # Conversions with at least one credited touchpoint before them (the rest have none).
    attributed: int
    unattributed: int
    rows: list[AttributionRow]
    sources: list[SourceConversions]


class SourceCount(Struct):
    source: str
    visitors: int


class Sources(Struct):
    window: Window
    sources: list[SourceCount]


# --------------------------------------------------------------------------- timeline


class VisitorOut(Struct):
    id: str
    first_seen_at: float
    last_seen_at: float
    name: str
    email: str
    first_source: str
    first_referrer: str
    first_landing_url: str
    first_utm_source: str
    first_utm_medium: str
    first_utm_campaign: str
    first_utm_term: str
    first_utm_content: str


class TimelineItem(Struct, omit_defaults=True):
    id: int
    # page_view | contact | offline_message | conversion
    kind: str
    channel: str
    stage: str
    # declared | rule | inferred
    stage_source: str
    at: float
    ended_at: float | None = None
    url: str = ""
    title: str = ""
    referrer: str = ""
    utm_source: str = ""
    utm_medium: str = ""
    utm_campaign: str = ""
    contact_id: str | None = None
    queue_id: str = ""
    status: str = ""
    wait_s: float | None = None
    handle_s: float | None = None
    # answered | abandoned | overflowed | offline | the agent's disposition | the
    # conversion's event name
    outcome: str = ""
    csat: int | None = None
    sentiment: float | None = None
    value: float | None = None
    currency: str = ""
    agent_id: str | None = None
    agent_name: str = ""


class VisitorJourney(Struct):
    visitor_id: str
    visitor: VisitorOut | None
    # Oldest first; the most recent ``limit`` touchpoints.
    items: list[TimelineItem]
    truncated: bool
    page_views: int
    contacts: int
    conversions: int
    conversion_value: float


# --------------------------------------------------------------------------- conversions


class JourneyEventIn(Struct, forbid_unknown_fields=True):
    """A conversion reported by a site (``X-Site-Key`` header).  Name the visitor by
    the id the widget holds or by its visitor token."""

    event: Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
    visitor_id: Annotated[str, Meta(max_length=64, pattern=r"^[A-Za-z0-9_-]*$")] = ""
    visitor_token: Annotated[str, Meta(max_length=4096)] = ""
    value: Annotated[float, Meta(ge=-1e12, le=1e12)] | None = None
    currency: Annotated[str, Meta(max_length=8)] = ""
    stage: StageName = "purchase"
    channel: Annotated[str, Meta(min_length=1, max_length=16, pattern=r"^[a-z_]+$")] = "web"
    # Your id for this event: a retried report with the same id is stored once.
    event_id: Annotated[str, Meta(max_length=128)] = ""
    # When it happened (Unix seconds; default now).  At most 30 days back.
    occurred_at: float | None = None
    url: Annotated[str, Meta(max_length=2048)] = ""
    title: Annotated[str, Meta(max_length=256)] = ""
    data: Annotated[dict[str, str | int | float | bool], Meta(max_length=20)] = {}


class JourneyEventOut(Struct):
    id: int
    visitor_id: str
    duplicate: bool


# --------------------------------------------------------------------------- admin


LocaleList = Annotated[list[Annotated[str, Meta(min_length=2, max_length=16)]], Meta(max_length=20)]


class SiteCreate(Struct, forbid_unknown_fields=True):
    """``allowed_locales``: the languages its widget may speak (empty: every shipped
    one); ``default_locale``: the one a visitor gets when none of theirs is allowed."""

    name: Annotated[str, Meta(min_length=1, max_length=128)]
    default_locale: Annotated[str, Meta(min_length=2, max_length=16)] = "en"
    allowed_locales: LocaleList = []


class SiteUpdate(Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Only the fields sent change (an empty ``allowed_locales``: every shipped one)."""

    default_locale: Annotated[str, Meta(min_length=2, max_length=16)] | None = None
    allowed_locales: LocaleList | None = None


class SiteOut(Struct):
    id: str
    name: str
    key_prefix: str
    disabled: bool
    created_at: float
    default_locale: str = "en"
    allowed_locales: list[str] = []
    # The first characters of its identity secret (verified visitors); None: none.
    identity_prefix: str | None = None


class SiteCreated(Struct):
    site: SiteOut
    # Shown once: only its hash is stored.
    key: str


class StageRuleIn(Struct, forbid_unknown_fields=True):
    """``pattern`` is a glob on the URL's path (``/pricing*``), or on the whole URL
    when it contains "://"."""

    pattern: Annotated[str, Meta(min_length=1, max_length=512)]
    stage: StageName
    position: int | None = None


class StageRulesReplace(Struct, forbid_unknown_fields=True):
    rules: Annotated[list[StageRuleIn], Meta(max_length=500)]


class StageRuleOut(Struct):
    # None for a rule from settings (read-only).
    id: int | None
    pattern: str
    stage: str
    position: int
    origin: Literal["admin", "settings"]


class StageRuleList(Struct):
    """Evaluated in this order; a page's data-stage wins over every rule."""

    rules: list[StageRuleOut]


class StageMatch(Struct):
    stage: str
    stage_source: str
    pattern: str | None
