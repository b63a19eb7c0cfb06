"""Event brokers: how a committed event reaches the streams that wait for it.

In one process the hub hands it over directly; across server instances it
travels through PostgreSQL LISTEN/NOTIFY or Redis pub/sub and every instance's
hub hands it to its own streams. The database stays the record: a lost
notification delays a terminal until it reconnects, it never loses a change.
"""

from circlebook.notify.hub import Hub, Signal, Subscriber
from circlebook.notify.local import LocalBroker
from circlebook.notify.postgres import PostgresBroker
from circlebook.notify.redis import RedisBroker

__all__ = ["Hub", "LocalBroker", "PostgresBroker", "RedisBroker", "Signal", "Subscriber"]
