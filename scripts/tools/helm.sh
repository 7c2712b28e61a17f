#!/usr/bin/env bash
# Install Helm (pinned) into .local/bin with `go install`, idempotently, and print its path.
#   scripts/tools/helm.sh            -> /…/.local/bin/helm
#   HELM_VERSION=v3.22.0 scripts/tools/helm.sh
# Helm 3 built by `go install` assumes Kubernetes 1.20 unless --kube-version is passed:
# callers (tests, render-manifests.sh) always pass --kube-version.
set -euo pipefail
HELM_VERSION="${HELM_VERSION:-v3.22.0}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BIN="${ROOT}/.local/bin"
HELM="${BIN}/helm"
STAMP="${BIN}/.helm-${HELM_VERSION}"

if [[ -x "${HELM}" && -f "${STAMP}" ]]; then
  echo "${HELM}"
  exit 0
fi
command -v go >/dev/null || { echo "helm.sh: go is required (https://go.dev/dl/)" >&2; exit 1; }
mkdir -p "${BIN}"
# Serialise concurrent installs (parallel test workers).
exec 9>"${BIN}/.helm.lock"
flock 9
if [[ ! -x "${HELM}" || ! -f "${STAMP}" ]]; then
  echo "helm.sh: go install helm.sh/helm/v3/cmd/helm@${HELM_VERSION}" >&2
  GOBIN="${BIN}" GOFLAGS="${GOFLAGS:-} -buildvcs=false" \
    go install "helm.sh/helm/v3/cmd/helm@${HELM_VERSION}" >&2
  rm -f "${BIN}"/.helm-v*
  touch "${STAMP}"
fi
echo "${HELM}"
