"""Which definition version runs a stored instance, and whether it can.

An instance records the version it runs on. A deployment may load several versions of
a saga side by side (same name, different ``version``); new instances start on the
newest. A stored instance is run by:

1. the newest version, if the newest declares migrations from the instance's version
   onwards (the instance is migrated when it next moves);
2. otherwise the version it started on, if that one is loaded;
3. otherwise nothing: it is *stranded*, and ``SagaVersionError`` names why.

The chosen definition must also know every step the instance has started; a change
that renames or removes one without a migration strands the instance just the same.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

from dirigent.errors import SagaDefinitionError, SagaVersionError
from dirigent.saga.definition import SagaDefinition
from dirigent.saga.migration import apply_migration
from dirigent.saga.state import SagaState

__all__ = ["SagaCatalog", "migrate_to", "misfit"]


def _can_migrate(defn: SagaDefinition, from_version: int) -> bool:
    have = {m.from_version for m in defn.migrations}
    return from_version < defn.version and all(n in have for n in range(from_version, defn.version))


def migrate_to(defn: SagaDefinition, state: SagaState) -> SagaState:
    """``state`` as an instance of ``defn``'s version (unchanged if it already is one)."""
    v = state.definition_version
    if v == defn.version:
        return state
    if not _can_migrate(defn, v):
        raise SagaVersionError(
            f"saga {defn.name!r} instance {state.saga_id!r} runs on version {v}; version "
            f"{defn.version} declares no migration from it (load version {v} beside it, "
            "or add a Migration)"
        )
    chain = {m.from_version: m for m in defn.migrations}
    for n in range(v, defn.version):
        state = apply_migration(state, chain[n])
    return state


def misfit(defn: SagaDefinition, state: SagaState) -> str | None:
    """Why ``defn`` cannot continue ``state`` (a step it does not know), or ``None``."""
    names = [*state.steps, *(state.compensation_queue or ()), *state.early]
    unknown = sorted({n for n in names if n not in defn.steps})
    if not unknown:
        return None
    return (
        f"saga {defn.name!r} version {defn.version} has no step "
        f"{', '.join(repr(n) for n in unknown)}, which instance {state.saga_id!r} "
        f"(version {state.definition_version}) has started"
    )


class SagaCatalog:
    """Every loaded saga definition, by name and version."""

    def __init__(self, definitions: Iterable[SagaDefinition]) -> None:
        versions: dict[str, dict[int, SagaDefinition]] = defaultdict(dict)
        for d in definitions:
            if d.version in versions[d.name]:
                raise SagaDefinitionError(f"saga {d.name!r} version {d.version} is loaded twice")
            versions[d.name][d.version] = d
        self.versions: Mapping[str, Mapping[int, SagaDefinition]] = dict(versions)
        self.newest: Mapping[str, SagaDefinition] = {
            name: vs[max(vs)] for name, vs in versions.items()
        }

    def for_state(self, state: SagaState) -> SagaDefinition:
        """The definition that runs ``state`` (raises ``SagaVersionError`` if none can)."""
        newest = self.newest.get(state.saga_type)
        if newest is None:
            raise SagaVersionError(f"no saga {state.saga_type!r} is loaded here")
        v = state.definition_version
        if v == newest.version or _can_migrate(newest, v):
            return newest
        exact = self.versions[state.saga_type].get(v)
        if exact is not None:
            return exact
        return newest  # migrate_to names why it cannot

    def problem(self, state: SagaState) -> str | None:
        """Why no loaded definition can continue ``state`` (``None``: one can)."""
        try:
            defn = self.for_state(state)
            return misfit(defn, migrate_to(defn, state))
        except SagaVersionError as exc:
            return str(exc)

    def plan(self, state: SagaState) -> str:
        """What happens to ``state``: "stays on vN", "migrates vN -> vM" or "stranded: ..."."""
        problem = self.problem(state)
        if problem is not None:
            return f"stranded: {problem}"
        v = state.definition_version
        target = self.for_state(state).version
        return f"stays on v{v}" if target == v else f"migrates v{v} -> v{target}"
