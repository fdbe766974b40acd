"""Supervisor KPIs: the live aggregator, historical reports and Prometheus collectors.

Sans-I/O: everything here takes events and times as arguments and never reads a clock,
a socket or a database.  Entry points: :class:`dashboard.aggregator.KpiAggregator`,
:func:`dashboard.reports.report`, :class:`dashboard.metrics.Metrics`.
"""
