"""The WebSocket gateway: sockets in, bus and router out."""
