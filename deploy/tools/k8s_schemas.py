"""Write the JSON schemas kubeconform validates against, offline, from files of Go modules.

kubeconform reads one JSON schema per kind, laid out as
``<dir>/v<version>-standalone-strict/<kind>-<group>-<version>.json``. Its default source
is a web site this machine cannot reach, so ``make deploy-check`` writes them here from:

- the Kubernetes OpenAPI v2 document (``api/openapi-spec/swagger.json`` of the
  ``k8s.io/kubernetes`` module), every kind with ``x-kubernetes-group-version-kind``;
- CustomResourceDefinition files (the Prometheus Operator's ServiceMonitor and
  PrometheusRule, KEDA's ScaledObject), each version's ``openAPIV3Schema``.

"strict": every object that lists its properties gets ``additionalProperties: false``, so
a misspelt or misplaced field fails (kubeconform ``-strict``), except where Kubernetes
keeps unknown fields. ``int-or-string`` fields accept both; quantities accept numbers.

    python deploy/tools/k8s_schemas.py --out DIR --version 1.35.4 \\
        --swagger .../swagger.json --crd .../monitoring.coreos.com_servicemonitors.yaml
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import yaml

JSON = dict[str, Any]
_REF = "#/definitions/"
_QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
_INT_OR_STRING = {"oneOf": [{"type": "string"}, {"type": "integer"}]}


def file_name(kind: str, group: str, version: str) -> str:
    """kubeconform's ``{{ .ResourceKind }}{{ .KindSuffix }}.json`` for one kind."""
    suffix = f"-{version}" if not group else f"-{group.split('.')[0]}-{version}"
    return f"{kind.lower()}{suffix}.json".lower()


def strict(node: Any) -> Any:
    """A copy of ``node`` with closed objects, both-typed int-or-string, no descriptions."""
    if isinstance(node, list):
        return [strict(item) for item in node]
    if not isinstance(node, dict):
        return node
    if node.get("format") == "int-or-string" or node.get("x-kubernetes-int-or-string"):
        return dict(_INT_OR_STRING)
    out = {k: strict(v) for k, v in node.items() if k != "description"}
    keeps_unknown = node.get("x-kubernetes-preserve-unknown-fields") is True
    if "properties" in node and "additionalProperties" not in node and not keeps_unknown:
        out["additionalProperties"] = False
    return out


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(_REF):
            yield ref[len(_REF) :]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def closure(name: str, definitions: JSON) -> list[str]:
    """Every definition ``name`` refers to, directly or not (itself included)."""
    seen: list[str] = []
    todo = [name]
    while todo:
        current = todo.pop()
        if current in seen or current not in definitions:
            continue
        seen.append(current)
        todo.extend(_refs(definitions[current]))
    return seen


def from_swagger(swagger: JSON) -> Iterator[tuple[str, JSON]]:
    """(file name, standalone schema) for every kind of a Kubernetes OpenAPI v2 document."""
    definitions = {k: strict(v) for k, v in swagger["definitions"].items()}
    if _QUANTITY in definitions:
        definitions[_QUANTITY] = {"oneOf": [{"type": "string"}, {"type": "number"}]}
    for name, definition in swagger["definitions"].items():
        for gvk in definition.get("x-kubernetes-group-version-kind", []):
            needed = closure(name, definitions)
            schema = dict(definitions[name])
            schema["definitions"] = {n: definitions[n] for n in needed}
            yield file_name(gvk["kind"], gvk.get("group", ""), gvk["version"]), schema


def from_crd(crd: JSON) -> Iterator[tuple[str, JSON]]:
    """(file name, schema) for every served version of a CustomResourceDefinition."""
    spec = crd["spec"]
    for version in spec["versions"]:
        schema = version.get("schema", {}).get("openAPIV3Schema")
        if schema is None:
            raise ValueError(f"CRD {crd['metadata']['name']} {version['name']}: no schema")
        yield file_name(spec["names"]["kind"], spec["group"], version["name"]), strict(schema)


def write(out: Path, schemas: Iterator[tuple[str, JSON]]) -> int:
    out.mkdir(parents=True, exist_ok=True)
    count = 0
    for name, schema in schemas:
        (out / name).write_text(json.dumps(schema, separators=(",", ":")), encoding="utf-8")
        count += 1
    return count


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, required=True, help="kubeconform's schema folder")
    p.add_argument("--version", required=True, help="Kubernetes version, e.g. 1.35.4")
    p.add_argument("--swagger", type=Path, required=True, help="the OpenAPI v2 swagger.json")
    p.add_argument("--crd", type=Path, action="append", default=[], help="a CRD YAML file")
    args = p.parse_args(argv)
    folder = args.out / f"v{args.version}-standalone-strict"
    swagger = json.loads(args.swagger.read_text(encoding="utf-8"))
    kinds = write(folder, from_swagger(swagger))
    for path in args.crd:
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if doc and doc.get("kind") == "CustomResourceDefinition":
                kinds += write(folder, from_crd(doc))
    print(f"k8s-schemas: {kinds} schemas in {folder}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
