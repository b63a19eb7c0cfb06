"""Web Push senders: messages encrypted to a browser's keys, signed with the server's VAPID key."""

from circlebook.push.webpush import WebPushSender, public_key_b64

__all__ = ["WebPushSender", "public_key_b64"]
