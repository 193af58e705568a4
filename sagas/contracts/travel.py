"""Typed contracts of the reference travel agency (trip booking), bound to ``schemas/travel``."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from dirigent.events import Event

__all__ = [
    "BookCar",
    "BookFlight",
    "BookHotel",
    "CancelCar",
    "CancelFlight",
    "CancelHotel",
    "CarBooked",
    "CarBookingFailed",
    "CarCancelled",
    "ConfirmTrip",
    "FlightBooked",
    "FlightBookingFailed",
    "FlightCancelled",
    "HotelBooked",
    "HotelBookingFailed",
    "HotelCancelled",
    "TripConfirmed",
    "TripRequested",
]

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas" / "travel"


# --- trips ----------------------------------------------------------------------------
class TripRequested(Event, schema=SCHEMAS / "TripRequested.avsc"):
    trip_id: str
    traveller_id: str
    origin: str
    destination: str
    depart_on: date
    return_on: date
    budget_cents: int
    currency: str


class ConfirmTrip(Event, schema=SCHEMAS / "ConfirmTrip.avsc"):
    trip_id: str


class TripConfirmed(Event, schema=SCHEMAS / "TripConfirmed.avsc"):
    trip_id: str
    flight_booking_id: str
    hotel_booking_id: str
    car_booking_id: str


# --- flights --------------------------------------------------------------------------
class BookFlight(Event, schema=SCHEMAS / "BookFlight.avsc"):
    trip_id: str
    traveller_id: str
    origin: str
    destination: str
    depart_on: date
    return_on: date


class FlightBooked(Event, schema=SCHEMAS / "FlightBooked.avsc"):
    trip_id: str
    booking_id: str
    price_cents: int
    currency: str


class FlightBookingFailed(Event, schema=SCHEMAS / "FlightBookingFailed.avsc"):
    trip_id: str
    reason: str


class CancelFlight(Event, schema=SCHEMAS / "CancelFlight.avsc"):
    trip_id: str
    booking_id: str | None = None


class FlightCancelled(Event, schema=SCHEMAS / "FlightCancelled.avsc"):
    trip_id: str


# --- hotels ---------------------------------------------------------------------------
class BookHotel(Event, schema=SCHEMAS / "BookHotel.avsc"):
    trip_id: str
    traveller_id: str
    city: str
    check_in: date
    check_out: date


class HotelBooked(Event, schema=SCHEMAS / "HotelBooked.avsc"):
    trip_id: str
    booking_id: str
    price_cents: int
    currency: str


class HotelBookingFailed(Event, schema=SCHEMAS / "HotelBookingFailed.avsc"):
    trip_id: str
    reason: str


class CancelHotel(Event, schema=SCHEMAS / "CancelHotel.avsc"):
    trip_id: str
    booking_id: str | None = None


class HotelCancelled(Event, schema=SCHEMAS / "HotelCancelled.avsc"):
    trip_id: str


# --- cars -----------------------------------------------------------------------------
class BookCar(Event, schema=SCHEMAS / "BookCar.avsc"):
    trip_id: str
    traveller_id: str
    city: str
    pick_up: date
    drop_off: date


class CarBooked(Event, schema=SCHEMAS / "CarBooked.avsc"):
    trip_id: str
    booking_id: str
    price_cents: int
    currency: str


class CarBookingFailed(Event, schema=SCHEMAS / "CarBookingFailed.avsc"):
    trip_id: str
    reason: str


class CancelCar(Event, schema=SCHEMAS / "CancelCar.avsc"):
    trip_id: str
    booking_id: str | None = None


class CarCancelled(Event, schema=SCHEMAS / "CarCancelled.avsc"):
    trip_id: str
