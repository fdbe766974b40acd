"""Request and response bodies of the REST API (msgspec structs; they double as the
OpenAPI schemas)."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from contact_center.protocol import ContactSummary, PageInfo, QueueStatus
from contact_center.routing_config import holiday_date, weekday_number

Username = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")]
Password = Annotated[str, Meta(min_length=8, max_length=256)]
QueueKey = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_.-]*$")]
Strategy = Literal["longest_idle", "least_occupied", "round_robin", "best_skill", "manual"]
RoleName = Literal["agent", "supervisor", "admin"]
# A locale code ("fa", "en"); handlers check it is a shipped one (i18n.check_locale).
# Integers stored in 32-bit columns (a queue's place, its priority): a larger number is
# a 422, not a database error.
Int32 = Annotated[int, Meta(ge=-(2**31), le=2**31 - 1)]
LocaleCode = Annotated[str, Meta(min_length=2, max_length=16, pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")]


class LoginRequest(Struct, forbid_unknown_fields=True):
    username: Annotated[str, Meta(max_length=64)]
    password: Annotated[str, Meta(max_length=256)]


class UserOut(Struct):
    id: str
    username: str
    display_name: str
    role: str
    skills: dict[str, int]
    languages: list[str]
    capacity: dict[str, int]
    queues: list[str]
    disabled: bool
    created_at: float
    # The language the staff pages speak to this person; None: the browser's.
    locale: str | None = None


class MeUpdate(Struct, forbid_unknown_fields=True):
    """What a person changes about themselves: the language of the staff pages
    (a shipped locale, or null for the browser's)."""

    locale: LocaleCode | None


class DirectoryEntry(Struct):
    id: str
    display_name: str
    role: str


class LoginResponse(Struct):
    token: str
    expires_in: int
    user: UserOut


class VisitorIdentity(Struct, forbid_unknown_fields=True):
    """A site's signed-in customer: ``id`` is the site's own id for it (exactly the
    bytes its HMAC covers); name and e-mail are shown to agents as verified."""

    id: Annotated[str, Meta(min_length=1, max_length=128)]
    name: Annotated[str, Meta(max_length=128)] = ""
    email: Annotated[str, Meta(max_length=256)] = ""


class VisitorTokenRequest(Struct, forbid_unknown_fields=True):
    """Send the token you have (if any) to renew it for the same visitor.  With
    ``identity``, ``hmac`` (hex HMAC-SHA256 of ``identity.id`` under the site's identity
    secret) and ``site``, the token names the customer's visitor instead, the same on
    every device; a wrong HMAC is refused (403 ``identity_refused``)."""

    token: Annotated[str, Meta(max_length=4096)] = ""
    site: Annotated[str, Meta(max_length=32)] = ""
    identity: VisitorIdentity | None = None
    hmac: Annotated[str, Meta(max_length=128)] = ""


class VisitorTokenResponse(Struct):
    token: str
    visitor_id: str
    expires_in: int
    # The token names a customer the site vouched for (identity and hmac were right).
    verified: bool = False


class CustomerOut(Struct):
    """The verified customer behind a visitor, as its site vouched for it."""

    site_id: str
    site_name: str
    external_id: str
    name: str
    email: str
    created_at: float
    verified_at: float


class IdentitySecretOut(Struct):
    """A site's new identity secret: shown once (the server keeps only a salt)."""

    site_id: str
    secret: str
    prefix: str
    rotated_at: float


class WidgetQueue(Struct):
    id: str
    name: str
    description: str
    open: bool
    # Someone is signed in and serving the queue (available, busy or in wrap-up).
    online: bool
    agents_available: int
    waiting: int
    next_open: float | None = None


class WidgetConfig(Struct):
    queues: list[WidgetQueue]
    track_page_views: bool
    server_time: float
    # The language chosen for this visitor (``want`` against the site's locales): queue
    # names above are in it.
    locale: str = "en"
    dir: str = "ltr"
    # The site's locales (all shipped ones when no site is named).
    allowed_locales: list[str] = []
    default_locale: str = "en"


class PageViewsRequest(Struct, forbid_unknown_fields=True):
    token: Annotated[str, Meta(max_length=4096)]
    views: Annotated[list[PageInfo], Meta(max_length=50)]


class AgentCreate(Struct, forbid_unknown_fields=True):
    username: Username
    password: Password
    role: RoleName = "agent"
    display_name: Annotated[str, Meta(max_length=128)] = ""
    skills: dict[str, Annotated[int, Meta(ge=1, le=10)]] = {}
    languages: list[Annotated[str, Meta(max_length=16)]] = []
    capacity: dict[Literal["chat", "voice", "video"], Annotated[int, Meta(ge=0, le=50)]] = {}
    queues: list[QueueKey] = []


class AgentUpdate(Struct, forbid_unknown_fields=True, omit_defaults=True):
    password: Password | None = None
    role: RoleName | None = None
    display_name: Annotated[str, Meta(max_length=128)] | None = None
    skills: dict[str, Annotated[int, Meta(ge=1, le=10)]] | None = None
    languages: list[str] | None = None
    capacity: dict[Literal["chat", "voice", "video"], Annotated[int, Meta(ge=0, le=50)]] | None = None
    queues: list[QueueKey] | None = None
    disabled: bool | None = None


class OpeningSpanIn(Struct, forbid_unknown_fields=True):
    """``weekday``: 0 (Monday) to 6, or the day's name ("sat", "friday")."""

    weekday: Annotated[int, Meta(ge=0, le=6)] | Annotated[str, Meta(min_length=3, max_length=9)]
    opens: Annotated[str, Meta(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]
    closes: Annotated[str, Meta(pattern=r"^(([01]\d|2[0-3]):[0-5]\d|24:00)$")]


class BusinessHoursIn(Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Opening spans in an IANA time zone (e.g. "Europe/Paris"); a span whose
    ``closes`` is before ``opens`` runs past midnight."""

    timezone: Annotated[str, Meta(max_length=64)] = "UTC"
    spans: list[OpeningSpanIn] = []
    # Public holidays: closed all day, whatever the week says.  Dates as YYYY-MM-DD in
    # ``holiday_calendar``: "gregorian", or "persian" (Jalali, e.g. 1404-01-01 Nowruz).
    holidays: Annotated[list[Annotated[str, Meta(max_length=10)]], Meta(max_length=400)] = []
    holiday_calendar: Literal["gregorian", "persian"] = "gregorian"

    def __post_init__(self) -> None:
        # The router would fail on every reload of a queue with an unknown zone, day or date.
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {self.timezone!r}") from None
        for span in self.spans:
            weekday_number(span.weekday)
        for day in self.holidays:
            try:
                holiday_date(day, self.holiday_calendar)
            except ValueError:
                raise ValueError(f"not a {self.holiday_calendar} date: {day!r}") from None


class QueueCreate(Struct, forbid_unknown_fields=True):
    id: QueueKey
    name: Annotated[str, Meta(max_length=128)] = ""
    description: Annotated[str, Meta(max_length=1000)] = ""
    strategy: Strategy = "longest_idle"
    skills: list[str] = []
    priority: Int32 = 0
    sl_target_s: Annotated[float, Meta(gt=0)] = 20.0
    offer_timeout_s: Annotated[float, Meta(gt=0, le=600)] = 20.0
    max_wait_s: Annotated[float, Meta(gt=0)] | None = None
    overflow_to: QueueKey | None = None
    ageing_s: Annotated[float, Meta(gt=0)] | None = None
    wrap_up_s: Annotated[float, Meta(ge=0, le=3600)] = 0.0
    hours: BusinessHoursIn | None = None
    position: Int32 = 0
    # The queue's name in other languages: {"fa": "فروش"}.
    labels: dict[LocaleCode, Annotated[str, Meta(max_length=128)]] = {}


class QueueUpdate(Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Only the fields sent change.  ``max_wait_s``, ``overflow_to``, ``ageing_s`` and
    ``hours`` may be sent as null to clear them: no maximum wait, overflow to the
    offline form, no priority ageing, always open."""

    name: str | None = None
    description: str | None = None
    strategy: Strategy | None = None
    skills: list[str] | None = None
    priority: Int32 | None = None
    sl_target_s: Annotated[float, Meta(gt=0)] | None = None
    offer_timeout_s: Annotated[float, Meta(gt=0, le=600)] | None = None
    max_wait_s: Annotated[float, Meta(gt=0)] | UnsetType | None = UNSET
    overflow_to: QueueKey | UnsetType | None = UNSET
    ageing_s: Annotated[float, Meta(gt=0)] | UnsetType | None = UNSET
    wrap_up_s: Annotated[float, Meta(ge=0, le=3600)] | None = None
    hours: BusinessHoursIn | UnsetType | None = UNSET
    position: Int32 | None = None
    labels: dict[LocaleCode, Annotated[str, Meta(max_length=128)]] | None = None


# QueueUpdate fields where null means "clear", not "leave as is".
CLEARABLE_QUEUE_FIELDS = frozenset({"max_wait_s", "overflow_to", "ageing_s", "hours"})


def queue_changes(body: QueueUpdate) -> dict[str, Any]:
    """The columns a QueueUpdate changes (hours as plain data)."""
    changes = {
        name: value
        for name, value in msgspec.structs.asdict(body).items()
        if value is not UNSET and (value is not None or name in CLEARABLE_QUEUE_FIELDS)
    }
    if "hours" in changes:
        changes["hours"] = msgspec.to_builtins(changes["hours"])
    return changes


class QueueOut(Struct):
    id: str
    name: str
    description: str
    strategy: str
    skills: list[str]
    priority: int
    sl_target_s: float
    offer_timeout_s: float
    max_wait_s: float | None
    overflow_to: str | None
    ageing_s: float | None
    wrap_up_s: float
    hours: dict[str, Any] | None
    position: int
    status: QueueStatus | None = None
    labels: dict[str, str] = {}


class TranscriptEntry(Struct, omit_defaults=True):
    seq: int
    kind: str
    at: float
    sender_kind: str
    sender_id: str = ""
    sender_name: str = ""
    body: str = ""
    data: dict[str, Any] | None = None


class OfferEntry(Struct):
    """One offer of the contact to an agent.  ``outcome``: accepted, declined, expired,
    or why it was withdrawn (the visitor left, ...); null while the offer is open.
    ``reason``: what the agent said when declining."""

    agent_id: str
    agent_name: str
    offered_at: float
    answered_at: float | None
    outcome: str | None
    reason: str


class ContactDetail(Struct):
    contact: ContactSummary
    disposition: str
    ended_by: str
    csat_comment: str
    transcript: list[TranscriptEntry]
    earlier_contacts: list[ContactSummary]
    visitor: dict[str, Any] | None
    offers: list[OfferEntry]
    # Set when the visitor is a customer its site verified (ContactCenter.identify).
    customer: CustomerOut | None = None


class ContactList(Struct):
    contacts: list[ContactSummary]


class Health(Struct):
    status: str
    role: str
    bus: str
    uptime_s: float
    # This process's id in a cluster, and whether it is the active router now.
    node_id: str
    routing: bool
