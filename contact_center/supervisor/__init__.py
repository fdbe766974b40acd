"""The supervisor's side of the shell: the live push of the dashboard to the
``/ws/supervisor`` sockets, today's figures rebuilt from the database at start-up,
the facts the reports need (when wrap-up ended), the supervisor actions (set an
agent's status, reassign a waiting contact) and the Prometheus gauges read from the
live aggregator.

The KPIs themselves are computed by the sans-I/O core in :mod:`dashboard`; this
package only feeds it, schedules it and carries its output to sockets and scrapers.
"""
