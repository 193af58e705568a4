"""Encode every command the harness sends as the coordinator would (Avro, single object)."""

from __future__ import annotations

from dirigent.errors import ContractError, UnknownSchema
from dirigent.events import AvroCodec, SchemaCatalog, SingleObjectCodec
from dirigent.saga import Command, SagaDefinition

__all__ = ["CommandEncoder"]


class CommandEncoder:
    """The coordinator's codec for one saga: built over ``definition.models``, like its own.

    A saga none of whose models (start, replies, awaited events) is bound to a schema
    cannot be deployed, so there is no coordinator to mirror: its commands are not encoded
    (the engine's own unit tests use such ad-hoc events). A saga with only some of them
    bound could not be deployed either; that raises ``UnknownSchema`` naming the saga, as
    the coordinator would refuse it.
    """

    def __init__(self, definition: SagaDefinition) -> None:
        self.saga = definition.name
        models = sorted(definition.models, key=lambda m: m.__qualname__)
        self.codec: AvroCodec | None = None
        if all(m.avro_schema is None for m in models):
            return
        try:
            self.codec = SingleObjectCodec(SchemaCatalog(), models=models)
        except UnknownSchema as exc:
            raise UnknownSchema(
                f"saga {self.saga!r} cannot run under a coordinator: {exc}"
            ) from exc

    def check(self, command: Command) -> None:
        """Encode ``command`` (bytes and schema reference) or raise naming saga, step and type.

        Raises ``UnknownSchema`` when its model is bound to no schema and ``ContractError``
        when a value cannot be written (a string with lone surrogates, a long out of range).
        """
        if self.codec is None:
            return
        model = type(command.event)
        try:
            self.codec.schema_ref(model)
            self.codec.encode(command.event)
        except ContractError as exc:
            kind = UnknownSchema if isinstance(exc, UnknownSchema) else ContractError
            raise kind(
                f"saga {self.saga!r}, step {command.step!r} ({command.phase}): command "
                f"{model.__name__} cannot be encoded, so the coordinator could not send it: "
                f"{exc}"
            ) from exc
