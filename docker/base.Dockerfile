# syntax=docker/dockerfile:1.7
# Shared base image for every Hallway service.
#
# All five services ship from one Python distribution (`hallway`, the root pyproject.toml),
# so they share one virtualenv: the per-service images (services/<name>/Dockerfile) are a
# few metadata layers on top of this one and share every heavy layer on the node.
#
#   docker build -f docker/base.Dockerfile -t hallway-base .
#   docker build -f services/profile/Dockerfile -t hallway/profile .
#
# Stage 1 (build) has pip, grpcio-tools and the sources; stage 2 (runtime) only gets the
# finished virtualenv: no compiler, no grpcio-tools, no sources, non-root uid 10001.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    VIRTUAL_ENV=/opt/hallway \
    PATH=/opt/hallway/bin:$PATH
RUN python -m venv /opt/hallway
WORKDIR /src

# Dependency layer: only a change of pyproject.toml invalidates it. The pins come from
# pyproject.toml itself (runtime deps + the grpcio-tools pin from the dev extra).
COPY pyproject.toml ./
RUN python - <<'PY' > /tmp/requirements.txt && pip install -r /tmp/requirements.txt
import tomllib
project = tomllib.load(open("pyproject.toml", "rb"))["project"]
print("\n".join(project["dependencies"]))
print("\n".join(d for d in project["optional-dependencies"]["dev"] if d.startswith("grpcio-tools")))
PY

# Sources, generated gRPC code (gen/hallway, from proto/), then the distribution itself.
COPY proto/ proto/
COPY common/ common/
COPY dev/ dev/
COPY gen/ gen/
COPY services/ services/
RUN PYTHONPATH=/src/common:/src/dev python -m hallway_dev.protogen \
 && pip install --no-deps . \
 && pip uninstall -y grpcio-tools \
 && python -c "import hallway, hallway_common, hallway_profile, hallway_feed, hallway_search, hallway_notification, hallway_gateway"

FROM ${PYTHON_IMAGE} AS runtime
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="hallway-base" \
      org.opencontainers.image.description="Hallway shared runtime: Python 3.11 virtualenv with every service and the generated gRPC code" \
      org.opencontainers.image.source="https://github.com/hallway/hallway" \
      org.opencontainers.image.vendor="Hallway" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
RUN groupadd --system --gid 10001 hallway \
 && useradd --system --uid 10001 --gid 10001 --home-dir /nonexistent --no-create-home \
      --shell /usr/sbin/nologin hallway
COPY --from=build /opt/hallway /opt/hallway
ENV VIRTUAL_ENV=/opt/hallway \
    PATH=/opt/hallway/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONFAULTHANDLER=1
WORKDIR /tmp
# Numeric uid:gid so Kubernetes' runAsNonRoot can verify it without /etc/passwd.
USER 10001:10001
HEALTHCHECK NONE
CMD ["python", "-c", "import hallway_common; print('hallway base image: use a service image')"]
