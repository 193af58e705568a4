"""The dashboard's dead-letter page shows failure patterns beside exact fingerprints."""

from __future__ import annotations

from dirigent.dashboard.context import templates
from dirigent.dashboard.reads import DltGroups
from dirigent.ops.dlt_groups import GroupCounter
from dirigent.ops.dlt_similar import SimilarCounter
from dirigent.transport import Failure
from tests.unit.ops.dlt_fixtures import letter


def test_one_incident_with_three_fingerprints_is_one_pattern_row() -> None:
    exact, similar = GroupCounter(), SimilarCounter()
    for i, host in enumerate(("10.0.3.17", "10.0.3.21", "10.0.3.9")):
        fail = Failure("payments.GatewayTimeout", f"gateway {host}:8443 timed out after "
                       f"{2990 + i} ms", "", f"fp-{i}", "payments.authorize", 3, 1, 2)  # fmt: skip
        d = letter(i, fail=fail, message_id=f"m-{i}")
        exact.add(d)
        similar.add(d)
    found = DltGroups("pay.dlt", 3, 3, exact.groups(), similar.groups())
    html = templates.get_template("dlt.html").render(found=found, topics=[], topic="pay.dlt")
    assert html.count('<tr data-fingerprint="fp-') == 3
    assert html.count('<tr data-count="3">') == 1
    assert "gateway &lt;ip&gt; timed out after &lt;num&gt; ms" in html
    assert '<a href="/dlt/pay.dlt/fp-2">' in html
