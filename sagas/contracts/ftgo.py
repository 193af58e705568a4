"""Typed contracts of FTGO (Food To Go, the example application of *Microservices Patterns*),
bound to ``schemas/ftgo``.

The create-order saga also speaks the orders service's ``ApproveOrder``/``RejectOrder``
of ``sagas.contracts.shop``: one order service, one contract, whichever saga sends it.
Every command names its order by ``order_id``, so a participant finds what to undo by
the business key even when the id from a reply (``ticket_id``) never arrived.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from dirigent.events import Event, Record

__all__ = [
    "ApproveTicket",
    "AuthorizeCard",
    "CardAuthorized",
    "CardDeclined",
    "ConsumerVerificationFailed",
    "ConsumerVerified",
    "CreateTicket",
    "OrderCreated",
    "OrderLineItem",
    "RedeemVoucher",
    "RejectTicket",
    "RestoreVoucher",
    "TicketAccepted",
    "TicketApprovalFailed",
    "TicketApproved",
    "TicketCreated",
    "TicketCreationFailed",
    "TicketLineItem",
    "TicketRejected",
    "VerifyConsumer",
    "VoucherRedeemed",
    "VoucherRejected",
    "VoucherRestored",
]

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas" / "ftgo"


class OrderLineItem(Record):
    menu_item_id: str
    quantity: int


class TicketLineItem(Record):
    menu_item_id: str
    quantity: int


# --- orders ---------------------------------------------------------------------------
class OrderCreated(Event, schema=SCHEMAS / "OrderCreated.avsc"):
    order_id: str
    consumer_id: str
    restaurant_id: str
    line_items: list[OrderLineItem]
    total_cents: int
    currency: str
    voucher_code: str | None = None


# --- consumers ------------------------------------------------------------------------
class VerifyConsumer(Event, schema=SCHEMAS / "VerifyConsumer.avsc"):
    order_id: str
    consumer_id: str
    total_cents: int


class ConsumerVerified(Event, schema=SCHEMAS / "ConsumerVerified.avsc"):
    order_id: str


class ConsumerVerificationFailed(Event, schema=SCHEMAS / "ConsumerVerificationFailed.avsc"):
    order_id: str
    reason: str


# --- kitchen --------------------------------------------------------------------------
class CreateTicket(Event, schema=SCHEMAS / "CreateTicket.avsc"):
    order_id: str
    restaurant_id: str
    line_items: list[TicketLineItem]


class TicketCreated(Event, schema=SCHEMAS / "TicketCreated.avsc"):
    order_id: str
    ticket_id: str


class TicketCreationFailed(Event, schema=SCHEMAS / "TicketCreationFailed.avsc"):
    order_id: str
    reason: str


class RejectTicket(Event, schema=SCHEMAS / "RejectTicket.avsc"):
    order_id: str
    ticket_id: str | None = None


class TicketRejected(Event, schema=SCHEMAS / "TicketRejected.avsc"):
    order_id: str


class TicketAccepted(Event, schema=SCHEMAS / "TicketAccepted.avsc"):
    """A business event, not a reply: the kitchen publishes it when the restaurant
    accepts, keyed by restaurant; the saga correlates it by ``order_id``."""

    order_id: str
    restaurant_id: str
    ticket_id: str
    ready_by: datetime


class ApproveTicket(Event, schema=SCHEMAS / "ApproveTicket.avsc"):
    order_id: str
    ticket_id: str | None = None


class TicketApproved(Event, schema=SCHEMAS / "TicketApproved.avsc"):
    order_id: str


class TicketApprovalFailed(Event, schema=SCHEMAS / "TicketApprovalFailed.avsc"):
    order_id: str
    reason: str


# --- accounting -----------------------------------------------------------------------
class AuthorizeCard(Event, schema=SCHEMAS / "AuthorizeCard.avsc"):
    order_id: str
    consumer_id: str
    amount_cents: int
    currency: str


class CardAuthorized(Event, schema=SCHEMAS / "CardAuthorized.avsc"):
    order_id: str
    authorization_id: str


class CardDeclined(Event, schema=SCHEMAS / "CardDeclined.avsc"):
    order_id: str
    reason: str


# --- vouchers -------------------------------------------------------------------------
class RedeemVoucher(Event, schema=SCHEMAS / "RedeemVoucher.avsc"):
    order_id: str
    consumer_id: str
    voucher_code: str


class VoucherRedeemed(Event, schema=SCHEMAS / "VoucherRedeemed.avsc"):
    order_id: str
    discount_cents: int


class VoucherRejected(Event, schema=SCHEMAS / "VoucherRejected.avsc"):
    order_id: str
    reason: str


class RestoreVoucher(Event, schema=SCHEMAS / "RestoreVoucher.avsc"):
    order_id: str
    voucher_code: str


class VoucherRestored(Event, schema=SCHEMAS / "VoucherRestored.avsc"):
    order_id: str
