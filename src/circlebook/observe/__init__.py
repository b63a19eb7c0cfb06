"""Watching the running server: request ids, the access log, JSON log lines, metrics, readiness.

Edges of their own: nothing in domain or services imports them; the app wires them in.
"""
