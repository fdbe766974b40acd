"""The one exception the signalling core raises for a client's mistake.

Every rejection carries a stable, machine-readable ``code`` so the gateway can answer
with ``{"type": "error", "code": ..., "message": ..., "ref": id}`` and keep the
connection up (DESIGN section 4).  Clients and tests match on ``code``; ``message`` is
for humans and may change.
"""

from __future__ import annotations


class SignallingError(Exception):
    """A call message or input that the server refuses.

    Codes used by this package:

    ``message_invalid``     the frame is not a well-formed call message
    ``sdp_too_large``       SDP over the size limit
    ``sdp_invalid``         not an SDP session description
    ``description_invalid`` ``description.type`` does not fit the message
    ``candidate_invalid``   an ICE candidate that is not RFC 8839 syntax
    ``too_many_candidates`` more candidates than one message (or a call) may carry
    ``stats_invalid``       a ``call.stats`` sample with missing or absurd numbers
    ``not_a_party``         the sender's party id has no part in this call
    ``invalid_state``       the input is not allowed in the call's current state
    ``call_ended``          the call is over (usually a harmless race; may be ignored)
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message

    def to_message(self, ref: str | None = None) -> dict[str, object]:
        """The protocol's error frame for this error."""
        frame: dict[str, object] = {"type": "error", "code": self.code, "message": self.message}
        if ref is not None:
            frame["ref"] = ref
        return frame
