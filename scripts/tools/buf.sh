#!/usr/bin/env bash
# Lint proto/ with buf (pinned, installed into .local/bin with `go install` when missing).
#   scripts/tools/buf.sh                 -> buf lint proto/ (exit status is buf's)
#   scripts/tools/buf.sh --path          -> just install and print buf's path
#   BUF_VERSION=v1.75.0 scripts/tools/buf.sh
# The rules are in proto/buf.yaml (STANDARD, with the wire-breaking ones excepted).
set -euo pipefail
BUF_VERSION="${BUF_VERSION:-v1.75.0}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BIN="${ROOT}/.local/bin"
BUF="${BIN}/buf"
STAMP="${BIN}/.buf-${BUF_VERSION}"

if [[ ! -x "${BUF}" || ! -f "${STAMP}" ]]; then
  if ! command -v go >/dev/null && [[ -x /usr/local/go/bin/go ]]; then
    PATH="/usr/local/go/bin:${PATH}"
  fi
  command -v go >/dev/null || { echo "buf.sh: go is required (https://go.dev/dl/)" >&2; exit 1; }
  mkdir -p "${BIN}"
  # Serialise concurrent installs (parallel test workers).
  exec 9>"${BIN}/.buf.lock"
  flock 9
  if [[ ! -x "${BUF}" || ! -f "${STAMP}" ]]; then
    echo "buf.sh: go install github.com/bufbuild/buf/cmd/buf@${BUF_VERSION}" >&2
    GOBIN="${BIN}" GOFLAGS="${GOFLAGS:-} -buildvcs=false" \
      go install "github.com/bufbuild/buf/cmd/buf@${BUF_VERSION}" >&2
    rm -f "${BIN}"/.buf-v*
    touch "${STAMP}"
  fi
  exec 9>&-
fi

if [[ "${1:-}" == "--path" ]]; then
  echo "${BUF}"
  exit 0
fi
cd "${ROOT}/proto"
exec "${BUF}" lint "$@"
