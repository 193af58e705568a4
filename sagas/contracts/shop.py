"""Typed contracts of the reference shop (order fulfilment), bound to ``schemas/shop``."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from dirigent.events import Event, Record

__all__ = [
    "ApproveOrder",
    "AuthorizePayment",
    "OrderApproved",
    "OrderLine",
    "OrderPlaced",
    "OrderRejected",
    "PaymentAuthorized",
    "PaymentDeclined",
    "PaymentVoided",
    "RejectOrder",
    "ReleaseStock",
    "ReserveStock",
    "ScheduleShipment",
    "ShipmentFailed",
    "ShipmentLine",
    "ShipmentScheduled",
    "StockLine",
    "StockReleased",
    "StockReservationFailed",
    "StockReserved",
    "VoidPayment",
]

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas" / "shop"


class OrderLine(Record):
    sku: str
    quantity: int


class StockLine(Record):
    sku: str
    quantity: int


class ShipmentLine(Record):
    sku: str
    quantity: int


# --- orders ---------------------------------------------------------------------------
class OrderPlaced(Event, schema=SCHEMAS / "OrderPlaced.avsc"):
    order_id: str
    customer_id: str
    items: list[OrderLine]
    amount_cents: int
    currency: str


class ApproveOrder(Event, schema=SCHEMAS / "ApproveOrder.avsc"):
    order_id: str


class OrderApproved(Event, schema=SCHEMAS / "OrderApproved.avsc"):
    order_id: str


class RejectOrder(Event, schema=SCHEMAS / "RejectOrder.avsc"):
    order_id: str
    reason: str


class OrderRejected(Event, schema=SCHEMAS / "OrderRejected.avsc"):
    order_id: str
    reason: str


# --- inventory ------------------------------------------------------------------------
class ReserveStock(Event, schema=SCHEMAS / "ReserveStock.avsc"):
    order_id: str
    items: list[StockLine]


class StockReserved(Event, schema=SCHEMAS / "StockReserved.avsc"):
    order_id: str
    reservation_id: str


class StockReservationFailed(Event, schema=SCHEMAS / "StockReservationFailed.avsc"):
    order_id: str
    reason: str


class ReleaseStock(Event, schema=SCHEMAS / "ReleaseStock.avsc"):
    order_id: str
    reservation_id: str | None = None


class StockReleased(Event, schema=SCHEMAS / "StockReleased.avsc"):
    order_id: str


# --- payments -------------------------------------------------------------------------
class AuthorizePayment(Event, schema=SCHEMAS / "AuthorizePayment.avsc"):
    order_id: str
    customer_id: str
    amount_cents: int
    currency: str


class PaymentAuthorized(Event, schema=SCHEMAS / "PaymentAuthorized.avsc"):
    order_id: str
    authorization_id: str


class PaymentDeclined(Event, schema=SCHEMAS / "PaymentDeclined.avsc"):
    order_id: str
    reason: str


class VoidPayment(Event, schema=SCHEMAS / "VoidPayment.avsc"):
    order_id: str
    authorization_id: str | None = None


class PaymentVoided(Event, schema=SCHEMAS / "PaymentVoided.avsc"):
    order_id: str


# --- shipping -------------------------------------------------------------------------
class ScheduleShipment(Event, schema=SCHEMAS / "ScheduleShipment.avsc"):
    order_id: str
    customer_id: str
    items: list[ShipmentLine]


class ShipmentScheduled(Event, schema=SCHEMAS / "ShipmentScheduled.avsc"):
    order_id: str
    shipment_id: str
    estimated_delivery: datetime | None = None


class ShipmentFailed(Event, schema=SCHEMAS / "ShipmentFailed.avsc"):
    order_id: str
    reason: str
