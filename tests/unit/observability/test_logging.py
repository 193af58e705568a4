"""One renderer, one level: dirigent's lines and the standard library's look alike."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable

import pytest

from dirigent.observability import bind_context, configure_logging, get_logger
from dirigent.observability.stdlib import DemoteBenign

Configure = Callable[..., Callable[[], list[dict[str, object]]]]


def test_a_stdlib_record_is_rendered_as_json_with_the_same_fields(json_lines: Configure) -> None:
    read = json_lines()
    with bind_context(saga_id="o-1"):
        logging.getLogger("redis.asyncio.client").warning("connection lost: %s", "reset")
    get_logger("dirigent.test").warning("ours", answer=42)
    theirs, ours = read()
    assert theirs["event"] == "connection lost: reset"
    assert theirs["level"] == "warning"
    assert theirs["logger"] == "redis.asyncio.client"
    assert theirs["saga_id"] == "o-1"  # bound context reaches foreign lines too
    assert ours["logger"] == "dirigent.test"
    assert ours["answer"] == 42
    assert set(theirs) - {"saga_id"} == set(ours) - {"answer"}  # timestamp, level, ...


def test_the_group_forming_noise_of_aiokafka_is_kept_at_debug(json_lines: Configure) -> None:
    read = json_lines("INFO")
    aiokafka = logging.getLogger("aiokafka.consumer.group_coordinator")
    aiokafka.error(
        "Group Coordinator Request failed: %s", "[Error 15] CoordinatorNotAvailableError"
    )
    aiokafka.error("Group Coordinator Request failed: %s", "[Error 31] ClusterAuthorizationFailed")
    aiokafka.info("(Re-)joining group %s", "g")
    aiokafka.error("Heartbeat session expired - marking coordinator dead")
    assert [line["event"] for line in read()] == [
        "Group Coordinator Request failed: [Error 31] ClusterAuthorizationFailed",
        "Heartbeat session expired - marking coordinator dead",
    ]


def test_demoted_records_show_at_debug_as_debug(json_lines: Configure) -> None:
    read = json_lines("DEBUG")
    logging.getLogger("aiokafka.consumer.group_coordinator").error(
        "Group Coordinator Request failed: %s", "[Error 15] CoordinatorNotAvailableError"
    )
    [line] = [x for x in read() if x["logger"].startswith("aiokafka")]  # type: ignore[union-attr]
    assert line["level"] == "debug"


def test_the_level_applies_to_both_kinds_of_line(json_lines: Configure) -> None:
    read = json_lines("WARNING")
    get_logger("dirigent.test").info("hidden")
    logging.getLogger("aiokafka").info("hidden too")
    get_logger("dirigent.test").warning("shown")
    assert [line["event"] for line in read()] == ["shown"]


def test_an_exception_is_rendered_into_the_json_line(json_lines: Configure) -> None:
    read = json_lines()
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("aiokafka").exception("failed")
    [line] = read()
    assert "ValueError: boom" in str(line["exception"])


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.usefixtures("json_lines")
def test_a_terminal_gets_readable_lines_unless_json_is_asked_for() -> None:
    term = _Terminal()
    configure_logging(level="INFO", stream=term)
    get_logger("dirigent.test").info("hello", saga_id="o-7")
    text = term.getvalue()
    assert "hello" in text
    assert "saga_id" in text
    with pytest.raises(json.JSONDecodeError):
        json.loads(text.splitlines()[0])

    forced = _Terminal()
    configure_logging(json=True, level="INFO", stream=forced)
    get_logger("dirigent.test").info("hello")
    assert json.loads(forced.getvalue())["event"] == "hello"


def test_the_filter_keeps_other_records_untouched() -> None:
    f = DemoteBenign(logging.INFO)
    record = logging.LogRecord(
        "aiokafka", logging.ERROR, __file__, 1, "Unexpected %s", ("x",), None
    )
    assert f.filter(record)
    assert record.levelname == "ERROR"
