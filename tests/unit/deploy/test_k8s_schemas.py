"""deploy/tools/k8s_schemas.py: kubeconform's file names, strict objects, standalone refs."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

SCRIPT = Path(__file__).resolve().parents[3] / "deploy" / "tools" / "k8s_schemas.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("k8s_schemas", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


k8s = _load()

SWAGGER = {
    "definitions": {
        "apps.Deployment": {
            "x-kubernetes-group-version-kind": [
                {"group": "apps", "kind": "Deployment", "version": "v1"}
            ],
            "properties": {"spec": {"$ref": "#/definitions/apps.DeploymentSpec"}},
        },
        "apps.DeploymentSpec": {
            "description": "dropped",
            "properties": {
                "replicas": {"type": "integer"},
                "strategy": {"$ref": "#/definitions/apps.Strategy"},
            },
        },
        "apps.Strategy": {
            "properties": {"maxSurge": {"format": "int-or-string", "type": "string"}}
        },
        "core.Unrelated": {"properties": {"x": {"type": "string"}}},
        "core.ConfigMap": {
            "x-kubernetes-group-version-kind": [
                {"group": "", "kind": "ConfigMap", "version": "v1"}
            ],
            "properties": {"data": {"type": "object", "additionalProperties": {"type": "string"}}},
        },
    }
}


def test_file_names_follow_kubeconform() -> None:
    assert k8s.file_name("Deployment", "apps", "v1") == "deployment-apps-v1.json"
    assert k8s.file_name("ConfigMap", "", "v1") == "configmap-v1.json"
    assert (
        k8s.file_name("NetworkPolicy", "networking.k8s.io", "v1")
        == "networkpolicy-networking-v1.json"
    )
    assert k8s.file_name("ScaledObject", "keda.sh", "v1alpha1") == "scaledobject-keda-v1alpha1.json"


def test_objects_are_closed_and_int_or_string_takes_both() -> None:
    schemas = dict(k8s.from_swagger(SWAGGER))
    assert set(schemas) == {"deployment-apps-v1.json", "configmap-v1.json"}
    deployment = schemas["deployment-apps-v1.json"]
    assert deployment["additionalProperties"] is False
    # Standalone: the definitions it refers to, directly or not, and no others.
    assert set(deployment["definitions"]) == {
        "apps.Deployment", "apps.DeploymentSpec", "apps.Strategy"
    }  # fmt: skip
    spec = deployment["definitions"]["apps.DeploymentSpec"]
    assert spec["additionalProperties"] is False
    assert "description" not in spec
    max_surge = deployment["definitions"]["apps.Strategy"]["properties"]["maxSurge"]
    assert max_surge == {"oneOf": [{"type": "string"}, {"type": "integer"}]}
    # A map keeps its own additionalProperties (ConfigMap data).
    data = schemas["configmap-v1.json"]["properties"]["data"]
    assert data["additionalProperties"] == {"type": "string"}


def test_crd_schemas_keep_unknown_fields_where_kubernetes_does() -> None:
    crd = {
        "metadata": {"name": "scaledobjects.keda.sh"},
        "spec": {
            "group": "keda.sh",
            "names": {"kind": "ScaledObject"},
            "versions": [
                {
                    "name": "v1alpha1",
                    "schema": {
                        "openAPIV3Schema": {
                            "properties": {
                                "spec": {"properties": {"minReplicaCount": {"type": "integer"}}},
                                "status": {
                                    "x-kubernetes-preserve-unknown-fields": True,
                                    "properties": {"x": {"type": "string"}},
                                },
                            }
                        }
                    },
                }
            ],
        },
    }
    [(name, schema)] = list(k8s.from_crd(crd))
    assert name == "scaledobject-keda-v1alpha1.json"
    assert schema["properties"]["spec"]["additionalProperties"] is False
    assert "additionalProperties" not in schema["properties"]["status"]
