# syntax=docker/dockerfile:1
# The dirigent coordinator: `dirigent coordinator --sagas sagas` in /app.
#
# Build from the repository root (the context; see /.dockerignore):
#   docker build -f deploy/docker/coordinator.Dockerfile -t dirigent-coordinator:0.1.0 .
# Your own sagas: build FROM this image and COPY your package over /app/sagas and your
# Avro contracts over /app/schemas (docs/deploy.md, "Images").
#
# Metrics, /healthz and /readyz on port 9464 (DIRIGENT_COORDINATOR_METRICS_PORT), bound to
# all interfaces (DIRIGENT_COORDINATOR_METRICS_HOST) so that probes and Prometheus reach it.
# Checked by hadolint in `make deploy-check` and by tests/unit/deploy/test_dockerfiles.py.

FROM python:3.11.14-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/dirigent
WORKDIR /src
COPY pyproject.toml README.md ./
COPY platform/ platform/
# A wheel install (never editable): the runtime image holds no source checkout.
RUN /opt/dirigent/bin/pip install --no-cache-dir . \
    && /opt/dirigent/bin/pip uninstall --yes pip
COPY sagas/ /app/sagas/
COPY schemas/ /app/schemas/
# Byte-code compiled here: the runtime's root file system is read-only (Kubernetes).
RUN python -m compileall -q /app/sagas

FROM python:3.11.14-slim-bookworm AS runtime
LABEL org.opencontainers.image.title="dirigent-coordinator" \
      org.opencontainers.image.description="dirigent saga coordinator" \
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
    DIRIGENT_COORDINATOR_METRICS_PORT=9464 \
    DIRIGENT_COORDINATOR_METRICS_HOST=0.0.0.0
USER 10001:10001
EXPOSE 9464
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
    CMD ["python", "/usr/local/bin/dirigent-healthcheck", "DIRIGENT_COORDINATOR_METRICS_PORT"]
# SIGTERM drains in-flight work and commits (the CLI's own handler): exec form, no shell.
STOPSIGNAL SIGTERM
ENTRYPOINT ["dirigent", "coordinator"]
CMD ["--sagas", "sagas"]
