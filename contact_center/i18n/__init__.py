"""Locales: the message catalogues, the translator and the formatting of numbers and
dates for people.

Catalogues live in ``contact_center/locales/<locale>/`` (one folder per locale, JSON
files keyed by stable identifiers, not by English text).  The pages load them through
``GET /locales/{bundle}.json`` (see :mod:`contact_center.i18n.web`); the server uses
the ``server`` file through :func:`translate`.  Direction, plural rules and the
calendar come from the locale (CLDR data through babel; jdatetime for the Jalali
calendar), never from a table here.
"""

from contact_center.i18n import tables
from contact_center.i18n.catalogue import (
    BUNDLES,
    DEFAULT_LOCALE,
    LOCALES_DIR,
    available_locales,
    bundle,
    catalogue,
    locale_info,
    negotiate,
)
from contact_center.i18n.text import Text, digits, format_number, translate

__all__ = [
    "BUNDLES",
    "DEFAULT_LOCALE",
    "LOCALES_DIR",
    "Text",
    "available_locales",
    "bundle",
    "catalogue",
    "digits",
    "format_number",
    "locale_info",
    "negotiate",
    "tables",
    "translate",
]
