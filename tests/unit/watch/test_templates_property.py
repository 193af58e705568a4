"""Property: whatever the variable parts of a message, its template is the same."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from dirigent.watch.templates import mask

TEMPLATES = (
    "gateway 10.0.{a}.{b}:8443 timed out after {n} ms charging order 'ord-{n}'",
    "saga {u}: step 'pay' attempt {a} failed: card {n} declined",
    "row 0x{h} locked by txid={h} for {x}.{a}s",
    'sku "{w}" not found in warehouse wh-{b} (request {u})',
)
words = st.text(alphabet=st.characters(codec="ascii", categories=("L", "N")), min_size=1,
                max_size=12)  # fmt: skip


octet = st.integers(0, 255)


@given(st.sampled_from(TEMPLATES), octet, octet, st.integers(0, 10**9), st.integers(0, 10**6),
       words, st.uuids(), st.integers(0, 2**63))  # fmt: skip
def test_a_template_masks_to_one_form(text: str, a: int, b: int, n: int, x: int, w: str,
                                      u: uuid.UUID, h: int) -> None:  # fmt: skip
    one = mask(text.format(a=a, b=b, n=n, x=x, w=w, u=u, h=f"{h:x}"))
    other = mask(text.format(a=1, b=2, n=3, x=4, w="sku", u=uuid.UUID(int=5), h="abc"))
    assert one == other
    assert mask(one) == one  # masking a template changes nothing
