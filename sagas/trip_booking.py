"""Trip booking: flight, hotel and car booked in parallel, then the trip is confirmed.

The three bookings run at once. If one fails, the others still in flight are awaited
(until their reply or timeout) and every booking that succeeded is cancelled. Confirming
the trip is the pivot: a confirmed trip is never unwound.
"""

from __future__ import annotations

from typing import Any

from dirigent.events import Event
from dirigent.saga import Compensation, RetryPolicy, Step, StepKind, define_saga, parallel
from sagas.contracts.travel import (
    BookCar,
    BookFlight,
    BookHotel,
    CancelCar,
    CancelFlight,
    CancelHotel,
    CarBooked,
    CarBookingFailed,
    CarCancelled,
    ConfirmTrip,
    FlightBooked,
    FlightBookingFailed,
    FlightCancelled,
    HotelBooked,
    HotelBookingFailed,
    HotelCancelled,
    TripConfirmed,
    TripRequested,
)

__all__ = ["trip_booking"]


def _remember(key: str) -> Any:
    def update(data: dict[str, Any], reply: Event) -> dict[str, Any]:
        return {**data, key: getattr(reply, "booking_id")}  # noqa: B009 - any booked reply

    return update


_RETRY = RetryPolicy(max_attempts=3, backoff_base_s=1, backoff_cap_s=10)

book_flight = Step(
    name="book_flight",
    command=lambda d: BookFlight(
        trip_id=d["trip_id"],
        traveller_id=d["traveller_id"],
        origin=d["origin"],
        destination=d["destination"],
        depart_on=d["depart_on"],
        return_on=d["return_on"],
    ),
    topic="flights.commands",
    success=(FlightBooked,),
    failure=(FlightBookingFailed,),
    on_success=_remember("flight_booking_id"),
    compensation=Compensation(
        command=lambda d: CancelFlight(trip_id=d["trip_id"], booking_id=d.get("flight_booking_id")),
        topic="flights.commands",
        compensated=(FlightCancelled,),
    ),
    retry=RetryPolicy(max_attempts=3, non_retryable=(FlightBookingFailed,)),
)

book_hotel = Step(
    name="book_hotel",
    command=lambda d: BookHotel(
        trip_id=d["trip_id"],
        traveller_id=d["traveller_id"],
        city=d["destination"],
        check_in=d["depart_on"],
        check_out=d["return_on"],
    ),
    topic="hotels.commands",
    success=(HotelBooked,),
    failure=(HotelBookingFailed,),
    on_success=_remember("hotel_booking_id"),
    compensation=Compensation(
        command=lambda d: CancelHotel(trip_id=d["trip_id"], booking_id=d.get("hotel_booking_id")),
        topic="hotels.commands",
        compensated=(HotelCancelled,),
    ),
    retry=RetryPolicy(max_attempts=3, non_retryable=(HotelBookingFailed,)),
)

book_car = Step(
    name="book_car",
    command=lambda d: BookCar(
        trip_id=d["trip_id"],
        traveller_id=d["traveller_id"],
        city=d["destination"],
        pick_up=d["depart_on"],
        drop_off=d["return_on"],
    ),
    topic="cars.commands",
    success=(CarBooked,),
    failure=(CarBookingFailed,),
    on_success=_remember("car_booking_id"),
    compensation=Compensation(
        command=lambda d: CancelCar(trip_id=d["trip_id"], booking_id=d.get("car_booking_id")),
        topic="cars.commands",
        compensated=(CarCancelled,),
    ),
    retry=RetryPolicy(max_attempts=3, non_retryable=(CarBookingFailed,)),
)

confirm_trip = Step(
    name="confirm_trip",
    command=lambda d: ConfirmTrip(trip_id=d["trip_id"]),
    topic="trips.commands",
    success=(TripConfirmed,),
    kind=StepKind.PIVOT,
    retry=_RETRY,
)

trip_booking = define_saga(
    "trip_booking",
    start=TripRequested,
    start_topic="trips.events",
    saga_id="trip_id",
    steps=[parallel("book_all", book_flight, book_hotel, book_car), confirm_trip],
    deadline_s=10 * 60,
)
