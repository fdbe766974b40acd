"""Every REST route the app serves, gathered from the modules that declare them.  A
new group of routes is one import and one entry here; /openapi.json follows."""

from __future__ import annotations

from contact_center.api.audit import ROUTES as AUDIT_ROUTES
from contact_center.api.calls import ROUTES as CALL_ROUTES
from contact_center.api.http import ApiRoute
from contact_center.api.identity import ROUTES as IDENTITY_ROUTES
from contact_center.api.journey import ROUTES as JOURNEY_ROUTES
from contact_center.api.lifecycle import ROUTES as LIFECYCLE_ROUTES
from contact_center.api.locales import ROUTES as LOCALE_ROUTES
from contact_center.api.reports import ROUTES as REPORT_ROUTES
from contact_center.api.routes import ROUTES as CORE_ROUTES
from contact_center.api.saved_replies import ROUTES as SAVED_REPLY_ROUTES
from contact_center.api.supervisor import ROUTES as SUPERVISOR_ROUTES

API_ROUTES: list[ApiRoute] = [
    *CORE_ROUTES,
    *CALL_ROUTES,
    *REPORT_ROUTES,
    *SUPERVISOR_ROUTES,
    *JOURNEY_ROUTES,
    *LOCALE_ROUTES,
    *AUDIT_ROUTES,
    *LIFECYCLE_ROUTES,
    *SAVED_REPLY_ROUTES,
    *IDENTITY_ROUTES,
]
