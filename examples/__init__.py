"""Example participant services built on ``dirigent.service`` (run from the repo root)."""
