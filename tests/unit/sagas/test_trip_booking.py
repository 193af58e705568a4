"""Trip booking: a parallel group and its compensations, tested with the harness."""

from __future__ import annotations

from datetime import date

from dirigent.testing import Outcome, SagaHarness, assert_compensates_every_step
from sagas.contracts.travel import (
    CancelCar,
    CancelHotel,
    CarBooked,
    CarCancelled,
    FlightBooked,
    FlightBookingFailed,
    FlightCancelled,
    HotelBooked,
    HotelCancelled,
    TripConfirmed,
    TripRequested,
)
from sagas.trip_booking import trip_booking

TRIP = TripRequested(
    trip_id="t-1",
    traveller_id="u-1",
    origin="AMS",
    destination="LIS",
    depart_on=date(2026, 5, 1),
    return_on=date(2026, 5, 8),
    budget_cents=90000,
    currency="EUR",
)
FLIGHT = FlightBooked(trip_id="t-1", booking_id="f-1", price_cents=20000, currency="EUR")
HOTEL = HotelBooked(trip_id="t-1", booking_id="h-1", price_cents=50000, currency="EUR")
CAR = CarBooked(trip_id="t-1", booking_id="c-1", price_cents=9000, currency="EUR")


def test_books_all_three_at_once_then_confirms() -> None:
    h = SagaHarness(trip_booking)
    h.start(TRIP)
    assert [c.step for c in h.awaiting()] == ["book_flight", "book_hotel", "book_car"]
    h.reply(HOTEL)
    h.reply(CAR)
    h.reply(FLIGHT)
    (confirm,) = h.awaiting()
    h.reply_to(
        confirm,
        TripConfirmed(
            trip_id="t-1", flight_booking_id="f-1", hotel_booking_id="h-1", car_booking_id="c-1"
        ),
    )
    assert h.status == "COMPLETED"


def test_failed_flight_cancels_the_bookings_that_succeeded() -> None:
    h = SagaHarness(trip_booking)
    h.start(TRIP)
    h.reply(HOTEL)
    h.reply(FlightBookingFailed(trip_id="t-1", reason="sold out"))
    assert h.status == "COMPENSATING"
    assert h.compensations() == []  # the car booking is still in flight
    h.reply(CAR)
    assert h.awaiting()[0].event == CancelCar(trip_id="t-1", booking_id="c-1")
    h.reply(CarCancelled(trip_id="t-1"))
    assert h.awaiting()[0].event == CancelHotel(trip_id="t-1", booking_id="h-1")
    h.reply(HotelCancelled(trip_id="t-1"))
    assert h.status == "COMPENSATED"


def test_every_booking_failure_is_compensated() -> None:
    # The flight fails by a reply (it did not happen, so it is not cancelled); the hotel,
    # the car and the confirmation fail by silence. Siblings succeed before the failing
    # booking; a timed-out booking may have happened, so it is cancelled too; bookings are
    # cancelled in reverse declaration order. The silent pivot parks the trip.
    everything = ("book_car", "book_hotel", "book_flight")
    assert_compensates_every_step(
        trip_booking,
        TRIP,
        expected={
            "book_flight": Outcome("COMPENSATED", "book_car", "book_hotel"),
            "book_hotel": Outcome("COMPENSATED", *everything),
            "book_car": Outcome("COMPENSATED", *everything),
            "confirm_trip": Outcome("PARKED"),
        },
        success_replies={
            "book_flight": FLIGHT,
            "book_hotel": HOTEL,
            "book_car": CAR,
            "confirm_trip": TripConfirmed(
                trip_id="t-1", flight_booking_id="f-1", hotel_booking_id="h-1", car_booking_id="c-1"
            ),
        },
        compensation_replies={
            "book_flight": FlightCancelled(trip_id="t-1"),
            "book_hotel": HotelCancelled(trip_id="t-1"),
            "book_car": CarCancelled(trip_id="t-1"),
        },
        failure_replies={"book_flight": FlightBookingFailed(trip_id="t-1", reason="sold out")},
    )
