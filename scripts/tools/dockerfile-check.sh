#!/usr/bin/env bash
# Build scripts/tools/dockerfile-check (BuildKit's Dockerfile frontend, pinned in its
# go.mod) into .local/bin, idempotently, and print its path. It converts a Dockerfile the
# way `docker build` does, offline (no engine, no registry), and prints the image
# configuration and BuildKit's lint warnings as JSON:
#   "$(scripts/tools/dockerfile-check.sh)" -build-arg SERVICE=feed docker/Dockerfile
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SRC="${ROOT}/scripts/tools/dockerfile-check"
BIN="${ROOT}/.local/bin"
TOOL="${BIN}/dockerfile-check"
STAMP="${BIN}/.dockerfile-check.sum"
WANT="$(cat "${SRC}/go.mod" "${SRC}/go.sum" "${SRC}/main.go" | sha256sum | cut -d' ' -f1)"

if [[ -x "${TOOL}" && "$(cat "${STAMP}" 2>/dev/null)" == "${WANT}" ]]; then
  echo "${TOOL}"
  exit 0
fi
command -v go >/dev/null || { echo "dockerfile-check.sh: go is required (https://go.dev/dl/)" >&2; exit 1; }
mkdir -p "${BIN}"
# Serialise concurrent builds (parallel test workers).
exec 9>"${BIN}/.dockerfile-check.lock"
flock 9
if [[ ! -x "${TOOL}" || "$(cat "${STAMP}" 2>/dev/null)" != "${WANT}" ]]; then
  echo "dockerfile-check.sh: go build (github.com/moby/buildkit, see its go.mod)" >&2
  (cd "${SRC}" && GOFLAGS="${GOFLAGS:-} -buildvcs=false -mod=readonly" go build -o "${TOOL}.tmp" .) >&2
  mv "${TOOL}.tmp" "${TOOL}"
  echo "${WANT}" >"${STAMP}"
fi
echo "${TOOL}"
