"""WebRTC call signalling: everything about a call except the media.

- :mod:`signalling.call`: the call state machine (sans-I/O, one object per call)
- :mod:`signalling.validation`: checks on SDP, ICE candidates, stats and call messages
- :mod:`signalling.turn`: ``iceServers`` with time-limited TURN credentials
- :mod:`signalling.quality`: client stats to MOS, warnings and the call's summary
- :mod:`signalling.peer`: a headless aiortc endpoint for tests, load and a call bot
  (the only module importing aiortc; import it explicitly)
- :mod:`signalling.errors`: :class:`SignallingError`, with stable codes

Stdlib only, apart from ``peer``.  Nothing here reads a clock except ``peer``.
"""
