"""Redis adapters: the only package that builds Redis keys or holds Lua."""

from dirigent.store.idempotency import IdempotencySettings, IdempotencyStore

__all__ = ["IdempotencySettings", "IdempotencyStore"]
