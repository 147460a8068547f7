#!/usr/bin/env bash
# Build the gateway's container image from this checkout (see doc/operations.md, "Container image").
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: ./build_docker.sh [--dry-run] [IMAGE:TAG]

Builds the gateway's image (the API, the dashboard, vLLM, NeMo and pyannote on an NVIDIA CUDA 13.0
base) from the Dockerfile of this checkout. IMAGE:TAG defaults to inference-gateway:latest; give a
version tag too (inference-gateway:2026-12-04) to be able to go back to it.

Options:
  --dry-run   print the docker command, one shell-quoted line, and run nothing
  -h, --help  this help

Variables:
  CUDA_IMAGE  another base image for the runtime stage (default: the Dockerfile's
              nvidia/cuda:13.0.1-runtime-ubuntu24.04), such as a registry mirror of it
EOF
}

# shellcheck source=scripts/print_command.sh
source "$(dirname "${BASH_SOURCE[0]}")/scripts/print_command.sh"

dry_run=false
image=""
while (($#)); do
  case $1 in
    -h | --help) usage; exit 0 ;;
    --dry-run) dry_run=true ;;
    -*) echo "build_docker.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *)
      [[ -z $image ]] || { echo "build_docker.sh: one image name at most (see --help)" >&2; exit 2; }
      image=$1
      ;;
  esac
  shift
done
image=${image:-inference-gateway:latest}

cd "$(dirname "$0")"
command=(docker build --file Dockerfile --tag "$image")
if [[ -n ${CUDA_IMAGE:-} ]]; then
  command+=(--build-arg "CUDA_IMAGE=$CUDA_IMAGE")
fi
if revision=$(git rev-parse HEAD 2>/dev/null); then
  command+=(--label "org.opencontainers.image.revision=$revision")
fi
command+=(.)

if $dry_run; then
  print_command "${command[@]}"
  exit 0
fi
"${command[@]}"
echo "build_docker.sh: built $image; start it with ./run_docker.sh $image" >&2
