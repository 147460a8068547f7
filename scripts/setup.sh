#!/usr/bin/env bash
# Create .venv (if missing) and install the project with the given extras, pinned by constraints.txt.
# Idempotent: a stamp of the inputs skips pip when nothing changed.
#   scripts/setup.sh cpu,asr,diarization        # what `make serve` needs
#   scripts/setup.sh gpu,asr,diarization,test   # what `make test` needs (vLLM too: its adapter is
#                                               # checked against real vLLM types, without a GPU;
#                                               # the openai Node SDK the tests drive, with npm;
#                                               # Debian's shellcheck for `make lint` and
#                                               # redis-server for the shared-limits tests)
set -euo pipefail
cd "$(dirname "$0")/.."
extras=${1:-cpu}
python=${PYTHON:-python3}

# Debian packages beside pip's, installed with apt-get (as root or through sudo) when their command is missing.
apt_install() {  # apt_install <package> <what it is for>
  local package=$1 why=$2 sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    if ! command -v sudo >/dev/null; then
      echo "setup.sh: $package is missing and installing it needs root or sudo: run apt-get install $package as root" >&2
      return 1
    fi
    sudo=(sudo)
  fi
  if ! command -v apt-get >/dev/null; then
    echo "setup.sh: $package is missing and apt-get is not available: install it with the system's packages" >&2
    return 1
  fi
  echo "setup.sh: installing $package (apt-get) for $why" >&2
  if ! { "${sudo[@]}" apt-get update -q &&
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$package"; }; then
    echo "setup.sh: apt-get could not install $package; install it by hand and run this again" >&2
    return 1
  fi
}
# torchcodec decodes audio uploads with the system's FFmpeg libraries: Debian's ffmpeg package.
command -v ffmpeg >/dev/null || apt_install ffmpeg "audio decoding"

if [[ ! -x .venv/bin/python ]]; then
  "$python" -m venv .venv
fi
stamp=.venv/.installed-$(cat pyproject.toml constraints.txt <(echo "$extras") | sha256sum | cut -c1-16)
if [[ ! -f $stamp ]]; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -c constraints.txt -e ".[$extras]"
  rm -f .venv/.installed-*
  touch "$stamp"
fi

# The tests also drive the official openai Node SDK (tests/node_sdk, pinned by its package-lock.json).
install_node_sdk() {
  local folder=tests/node_sdk lock_stamp
  command -v npm >/dev/null || { echo "setup.sh: the tests need Node.js 20+ and npm" >&2; return 1; }
  lock_stamp=$folder/node_modules/.installed-$(sha256sum "$folder/package-lock.json" | cut -c1-16)
  [[ -f $lock_stamp ]] && return 0
  npm ci --prefix "$folder" --no-audit --no-fund --loglevel=error
  touch "$lock_stamp"
}
if [[ ,$extras, == *,test,* ]]; then
  install_node_sdk
  # `make lint` checks the shell scripts with ShellCheck (Debian's package; hadolint comes from PyPI).
  command -v shellcheck >/dev/null || apt_install shellcheck "make lint"
  # tests/test_shared_limits.py runs real Redis servers on loopback (REDIS_URL: limits shared by gateways).
  command -v redis-server >/dev/null || apt_install redis-server "the shared-limits tests"
fi
