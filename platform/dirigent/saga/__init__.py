"""Saga definitions (DSL), saga state and the pure engine."""

__all__: list[str] = []
