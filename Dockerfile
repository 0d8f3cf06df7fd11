# runbook-guard in a container (docs/install.md).
#
#   docker build -t runbook-guard .
#   docker run --rm runbook-guard demo          # the smoke test: the whole pipeline, no AWS
#   docker run --rm -v "$PWD:/work" -w /work --user "$(id -u):$(id -g)" \
#     runbook-guard check --template template.yaml --output-dir out
#
# EXTRAS picks the package's extras: `template` (the template gate) and `demo` (moto, for the
# smoke test above) by default. `--build-arg EXTRAS=template` makes an image without the AWS
# emulator, whose smoke test is `docker run --rm IMAGE test` (each rule's own cases).
#
# The base is pinned to an exact Python and Debian release. To pin it byte for byte, add its
# digest (`docker buildx imagetools inspect python:3.12.12-slim-bookworm` prints it) as
# `--build-arg PYTHON_IMAGE=python:3.12.12-slim-bookworm@sha256:...`, or let Dependabot or
# Renovate maintain the default below.
ARG PYTHON_IMAGE=python:3.12.12-slim-bookworm

# Build stage: the wheel and every dependency go into a virtual environment that the runtime
# stage copies whole, so no compiler, pip cache or source tree reaches the final image.
FROM ${PYTHON_IMAGE} AS build
ARG EXTRAS=template,demo
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
WORKDIR /src
# .dockerignore admits only what building the package needs.
COPY . .
RUN python -m venv /opt/runbook-guard \
    && /opt/runbook-guard/bin/pip install --no-cache-dir "/src[${EXTRAS}]"

FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="runbook-guard" \
      org.opencontainers.image.description="Policy-as-code compliance checks for an AWS operations runbook" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PATH=/opt/runbook-guard/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
COPY --from=build /opt/runbook-guard /opt/runbook-guard
# An unprivileged user with a home of its own: the tool only reads AWS and writes reports.
RUN useradd --create-home --uid 10001 --user-group --shell /usr/sbin/nologin runbook-guard
USER 10001:10001
WORKDIR /home/runbook-guard
ENTRYPOINT ["runbook-guard"]
CMD ["--help"]
