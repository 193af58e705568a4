"""Every Redis key dirigent's client library uses, built here and nowhere else.

Keys carry a ``{hash tag}`` so that each atomic call touches exactly one Redis Cluster
slot. The tag is the narrowest id a call needs (here: the message id), so keys spread
over the cluster instead of piling onto one slot per service.
"""

from __future__ import annotations

__all__ = ["ROOT", "idempotency"]

ROOT = "dirigent"


def idempotency(namespace: str, message_id: str) -> str:
    """The stored reply of ``message_id`` as handled by ``namespace`` (a consumer group).

    Example::

        idempotency("inventory", "5f1c...")  # "dirigent:idem:inventory:{5f1c...}"
    """
    _check_part("namespace", namespace)
    _check_part("message id", message_id)
    return f"{ROOT}:idem:{namespace}:{{{message_id}}}"


def _check_part(what: str, value: str) -> None:
    # A brace would move the hash tag; an empty part would merge key spaces.
    if not value or "{" in value or "}" in value:
        raise ValueError(f"{what} {value!r} cannot be part of a Redis key")
