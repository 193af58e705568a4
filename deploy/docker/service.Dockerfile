# syntax=docker/dockerfile:1
# A participant service built on dirigent's client library: one of the shop example's
# services (examples/shop: inventory, payments, shipping, orders), chosen by CMD.
#
# Build from the repository root (the context; see /.dockerignore):
#   docker build -f deploy/docker/service.Dockerfile -t dirigent-shop-service:0.1.0 .
#   docker run dirigent-shop-service:0.1.0 --service payments
# Your own service: the same two stages with your package in place of examples/.
#
# Metrics, /healthz and /readyz on port 9465 (DIRIGENT_SERVICE_METRICS_PORT and
# DIRIGENT_SERVICE_METRICS_HOST, the service metrics server of the observability work).
# Checked by hadolint in `make deploy-check` and by tests/unit/deploy/test_dockerfiles.py.

FROM python:3.11.14-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/dirigent
WORKDIR /src
COPY pyproject.toml README.md ./
COPY platform/ platform/
RUN /opt/dirigent/bin/pip install --no-cache-dir . \
    && /opt/dirigent/bin/pip uninstall --yes pip
# The example services import their contracts from the sagas package (sagas/contracts).
COPY examples/ /app/examples/
COPY sagas/ /app/sagas/
COPY schemas/ /app/schemas/
RUN python -m compileall -q /app

FROM python:3.11.14-slim-bookworm AS runtime
LABEL org.opencontainers.image.title="dirigent-shop-service" \
      org.opencontainers.image.description="dirigent example participant service (shop)" \
      org.opencontainers.image.licenses="Apache-2.0"
RUN groupadd --system --gid 10001 dirigent \
    && useradd --system --uid 10001 --gid dirigent --no-create-home \
       --home-dir /nonexistent --shell /usr/sbin/nologin dirigent
COPY --from=build /opt/dirigent /opt/dirigent
COPY --from=build /app /app
COPY deploy/docker/healthcheck.py /usr/local/bin/dirigent-healthcheck
WORKDIR /app
ENV PATH=/opt/dirigent/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DIRIGENT_SCHEMAS_DIR=/app/schemas \
    DIRIGENT_SERVICE_METRICS_PORT=9465 \
    DIRIGENT_SERVICE_METRICS_HOST=0.0.0.0
USER 10001:10001
EXPOSE 9465
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
    CMD ["python", "/usr/local/bin/dirigent-healthcheck", "DIRIGENT_SERVICE_METRICS_PORT"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["python", "-m", "examples.shop.run"]
CMD ["--service", "payments"]
