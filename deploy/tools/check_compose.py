"""Validate compose files against the Compose Specification's JSON schema.

`docker compose config` needs the compose plugin, which this machine does not have; the
schema it validates with ships in the Go module github.com/compose-spec/compose-go/v2
(``schema/compose-spec.json``), which ``make deploy-check`` downloads.

    python deploy/tools/check_compose.py --schema .../compose-spec.json deploy/docker-compose.yml
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import jsonschema
import yaml


def problems(schema: dict[str, object], path: Path) -> list[str]:
    """One line per schema violation in the compose file at ``path``."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    validator = jsonschema.validators.validator_for(schema)(schema)
    return [f"{path}: {e.json_path}: {e.message}" for e in validator.iter_errors(document)]


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--schema", type=Path, required=True, help="compose-spec.json")
    p.add_argument("files", type=Path, nargs="+")
    args = p.parse_args(argv)
    schema = json.loads(args.schema.read_text(encoding="utf-8"))
    found = [line for path in args.files for line in problems(schema, path)]
    for line in found:
        print(line, file=sys.stderr)
    if not found:
        services = sum(len(yaml.safe_load(f.read_text("utf-8"))["services"]) for f in args.files)
        print(f"compose-spec: {len(args.files)} file(s), {services} services valid")
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
