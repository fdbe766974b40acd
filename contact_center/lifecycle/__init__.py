"""Data lifecycle: backup and restore, retention of transcripts, and a visitor's data
exported or erased on request.  The commands are in :mod:`.cli`, the admin REST
routes in :mod:`contact_center.api.lifecycle`; every run leaves an audit entry."""
