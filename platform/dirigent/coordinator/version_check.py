"""Before a coordinator starts: can the loaded definitions continue every live instance?

Each running, compensating or parked instance is read once (pipelined, in batches) and
classified by the :class:`~dirigent.saga.SagaCatalog`: it stays on its version, migrates
to the newest, or is stranded. A coordinator refuses to start while any is stranded,
naming the saga, version and step; ``dirigent saga migrate --dry-run`` prints the plan.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

from dirigent.errors import SagaVersionError
from dirigent.saga import SagaCatalog, SagaState, SagaStatus
from dirigent.store.client import RedisClient
from dirigent.store.saga_queries import scan_states

__all__ = ["InstancePlan", "VersionReport", "check_versions", "plan_instances"]

_LIVE = (SagaStatus.RUNNING, SagaStatus.COMPENSATING, SagaStatus.PARKED)
_SHOWN = 10  # stranded instances named in the error


@dataclass(frozen=True, slots=True)
class InstancePlan:
    """What the loaded definitions do with one live instance."""

    partition: int
    saga_id: str
    saga_type: str
    version: int
    plan: str  # "stays on v1", "migrates v1 -> v2", "stranded: ...", "not run here"

    @property
    def stranded(self) -> bool:
        return self.plan.startswith("stranded")


@dataclass
class VersionReport:
    """Counts per (saga type, plan), and the stranded instances."""

    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    stranded: list[InstancePlan] = field(default_factory=list)

    def add(self, p: InstancePlan) -> None:
        key = p.plan.split(":", 1)[0] if p.stranded else p.plan
        self.counts[(p.saga_type, key)] += 1
        if p.stranded:
            self.stranded.append(p)

    def raise_if_stranded(self) -> None:
        if not self.stranded:
            return
        shown = "\n".join(f"  {p.saga_id} (partition {p.partition}): {p.plan}"
                          for p in self.stranded[:_SHOWN])  # fmt: skip
        more = len(self.stranded) - _SHOWN
        tail = f"\n  ... and {more} more" if more > 0 else ""
        raise SagaVersionError(
            f"{len(self.stranded)} running saga instance(s) cannot continue on the loaded "
            f"definitions; not starting:\n{shown}{tail}\nLoad the version they started "
            "on beside the new one, or declare a Migration (see docs/sagas.md, Versions)."
        )


async def plan_instances(
    redis: RedisClient, namespace: str, partitions: int, catalog: SagaCatalog
) -> AsyncIterator[InstancePlan]:
    """The plan for every live instance of the namespace, partition by partition."""
    statuses = [s.value for s in _LIVE]
    async for p, sid, raw in scan_states(redis, namespace, range(partitions), statuses):
        try:
            state = SagaState.from_json(raw)
        except ValueError as exc:
            yield InstancePlan(p, sid, "?", 0, f"stranded: unreadable state ({exc})")
            continue
        plan = catalog.plan(state) if state.saga_type in catalog.newest else "not run here"
        yield InstancePlan(p, sid, state.saga_type, state.definition_version, plan)


async def check_versions(
    redis: RedisClient, namespace: str, partitions: int, catalog: SagaCatalog
) -> VersionReport:
    """Classify every live instance; ``raise_if_stranded()`` on the report refuses."""
    report = VersionReport()
    async for plan in plan_instances(redis, namespace, partitions, catalog):
        report.add(plan)
    return report


def describe(report: VersionReport, types: Sequence[str] = ()) -> list[str]:
    """One line per (saga type, plan) with its count, for logs and the CLI."""
    return [
        f"{t}: {n} {plan}"
        for (t, plan), n in sorted(report.counts.items())
        if not types or t in types
    ]
