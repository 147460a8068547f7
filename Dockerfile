# syntax=docker/dockerfile:1
# The gateway's image: the API, the dashboard and the model runtimes (vLLM, NeMo, pyannote) in one
# container. Build with ./build_docker.sh, run with ./run_docker.sh or `docker compose up -d`
# (doc/operations.md, "Container image").

# torch 2.11.0's Linux wheels are CUDA 13.0 builds: the base's CUDA matches them, and its
# NVIDIA_REQUIRE_CUDA makes the NVIDIA container toolkit refuse a driver older than CUDA 13.0 needs (R580).
ARG CUDA_IMAGE=nvidia/cuda:13.0.1-runtime-ubuntu24.04

# The dashboard: a static build (its API types are checked in, so no Python is needed here).
FROM node:22-bookworm-slim AS dashboard
WORKDIR /src/frontend
ENV PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
COPY frontend/package.json frontend/package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund --loglevel=error
COPY frontend/ ./
RUN npm run build

FROM ${CUDA_IMAGE} AS runtime
ARG DEBIAN_FRONTEND=noninteractive
# ffmpeg: torchcodec decodes uploads with its libraries. gcc, libc6-dev, python3-dev: Triton (vLLM's
# kernels) compiles a small launcher at run time. tini: PID 1, forwards SIGTERM to the gateway (which
# then drains its requests) and reaps vLLM's engine processes. Ubuntu's versions, refreshed by rebuilding.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        ffmpeg gcc libc6-dev python3 python3-dev python3-venv tini \
    && rm -rf /var/lib/apt/lists/*

# The image's user: uid 1000 (Ubuntu's own `ubuntu` user gives it up), which owns /models. run_docker.sh
# runs the container as the owner of the host's model folder instead; HOME is writable by any uid for that.
RUN if id ubuntu >/dev/null 2>&1; then userdel --remove ubuntu; fi \
    && groupadd --gid 1000 gateway \
    && useradd --uid 1000 --gid gateway --home-dir /home/gateway --no-create-home gateway \
    && mkdir -p /models /home/gateway \
    && chown gateway:gateway /models \
    && chmod 1777 /home/gateway

ENV VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    HOME=/home/gateway
RUN python3 -m venv /opt/venv

# Dependencies first, from pyproject.toml and constraints.txt alone (a stub package stands for the code),
# so that a change to backend/ does not reinstall torch and vLLM. The same extras and constraints as
# `make test`, less the `test` extra.
WORKDIR /src
COPY pyproject.toml constraints.txt ./
RUN --mount=type=cache,target=/root/.cache/pip \
    mkdir -p backend/app && touch backend/app/__init__.py README.md \
    && pip install -c constraints.txt ".[gpu,asr,diarization]" \
    && pip uninstall -y inference-gateway \
    && rm -rf /src/backend /src/build /src/README.md

# The code.
COPY README.md ./
COPY backend/ backend/
RUN --mount=type=cache,target=/root/.cache/pip \
    pip install --no-deps -c constraints.txt . \
    && rm -rf /src

COPY --from=dashboard /src/frontend/dist /app/frontend
WORKDIR /app

# Settings of the container layout. XDG_CACHE_HOME keeps the compile caches of vLLM and torch with the
# models, so that later starts reuse them.
ENV FRONTEND_DIST=/app/frontend \
    MODEL_CACHE_DIR=/models \
    XDG_CACHE_HOME=/models/.cache \
    API_HOST=0.0.0.0 \
    API_PORT=8000

USER 1000:1000
EXPOSE 8000
# /health is public and answers as soon as the server is up (models load after, or on first use).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('API_PORT', '8000'), timeout=4)"]
ENTRYPOINT ["/usr/bin/tini", "--", "inference-gateway"]
CMD ["serve"]
