"""Where a visitor came from: one short "source" label per visitor.

The label is derived once, from the visitor's first touch, and kept on the visitor row
(``visitors.first_source``) so analytics can filter by it through an index:

1. the first ``utm_source`` (lower-cased), when the landing URL carried one;
2. else the referring site's host name without a leading ``www.``, when the referrer
   is another site than the landing page's;
3. else ``"direct"``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

DIRECT = "direct"


def host_of(url: str) -> str:
    """Lower-case host name of ``url`` without ``www.``; "" when there is none."""
    if not url:
        return ""
    try:
        host = urlsplit(url.strip()).hostname or ""
    except ValueError:
        return ""
    host = host.lower()
    return host[4:] if host.startswith("www.") else host


def first_source(utm_source: str, referrer: str, landing_url: str) -> str:
    utm = utm_source.strip().lower()
    if utm:
        return utm[:256]
    referring = host_of(referrer)
    if referring and referring != host_of(landing_url):
        return referring[:256]
    return DIRECT
