#!/usr/bin/env bash
# Caches the CustomResourceDefinitions the e2e suite validates the GitOps examples and the
# PrometheusRule against: Argo CD's Application, Flux's Kustomization, GitRepository, OCIRepository
# and HelmRepository, and prometheus-operator's PrometheusRule. Each comes from its project's published Go module
# (`go mod download`, through the Go module proxy), never from a GitHub release download.
#
# Output (the module version is the cache key; existing files are kept):
#   ${ECR_K8S_CACHE_DIR:-$HOME/.cache/ecr-k8s-credentials}/crds/<module>@<version>/<file>.yaml
# Usage: scripts/fetch-crds.sh [--print-paths]
set -euo pipefail

# module version path-in-module, one CRD a line.
CRDS=(
  "github.com/argoproj/argo-cd/v3 v3.6.1 manifests/crds/application-crd.yaml"
  "github.com/fluxcd/kustomize-controller v1.10.1 config/crd/bases/kustomize.toolkit.fluxcd.io_kustomizations.yaml"
  # The source API kustomize-controller v1.10.1 is built against (its go.mod).
  "github.com/fluxcd/source-controller v1.10.0 config/crd/bases/source.toolkit.fluxcd.io_gitrepositories.yaml"
  "github.com/fluxcd/source-controller v1.10.0 config/crd/bases/source.toolkit.fluxcd.io_ocirepositories.yaml"
  "github.com/fluxcd/source-controller v1.10.0 config/crd/bases/source.toolkit.fluxcd.io_helmrepositories.yaml"
  "github.com/prometheus-operator/prometheus-operator v0.85.0 example/prometheus-operator-crd/monitoring.coreos.com_prometheusrules.yaml"
)
# Argo CD's and Flux's go.mod ask for Go 1.27; downloading (nothing is built) still checks it.
export GOTOOLCHAIN=${GOTOOLCHAIN:-go1.27.3}

cache_dir=${ECR_K8S_CACHE_DIR:-$HOME/.cache/ecr-k8s-credentials}/crds

log() { printf '[fetch-crds] %s\n' "$*" >&2; }

# target MODULE VERSION PATH: where the CRD is cached.
target() {
  local module=$1 version=$2 path=$3
  printf '%s/%s@%s/%s\n' "$cache_dir" "${module//\//_}" "$version" "${path##*/}"
}

# module_dir MODULE VERSION: downloads the module and prints the directory it was extracted to,
# read from the Dir field of `go mod download -json`. On failure go still prints JSON, with the
# reason in its Error field, and exits non-zero.
module_dir() {
  local module=$1 version=$2 json
  if ! json=$(go mod download -json "$module@$version"); then
    log "go mod download $module@$version failed: $(jq -r '.Error // "no reason given"' <<<"$json" 2>/dev/null)"
    return 1
  fi
  jq -er '.Dir' <<<"$json"
}

if [[ ${1:-} == --print-paths ]]; then
  for entry in "${CRDS[@]}"; do
    read -r module version path <<<"$entry"
    target "$module" "$version" "$path"
  done
  exit 0
fi

for tool in go jq; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    log "$tool is not installed; install it (Go >= 1.26; jq comes with scripts/e2e-prereqs.sh) and re-run."
    exit 1
  fi
done

for entry in "${CRDS[@]}"; do
  read -r module version path <<<"$entry"
  file=$(target "$module" "$version" "$path")
  if [[ -s $file ]]; then
    log "$module@$version: cached at $file"
    continue
  fi
  log "$module@$version: downloading the module"
  dir=$(module_dir "$module" "$version")
  if [[ ! -f $dir/$path ]]; then
    log "$module@$version has no $path; update CRDS in this script."
    exit 1
  fi
  mkdir -p "$(dirname "$file")"
  # Copy to a temporary name and rename: an interrupted run never leaves a partial CRD.
  cp "$dir/$path" "$file.partial.$$"
  chmod 0644 "$file.partial.$$"
  mv -f "$file.partial.$$" "$file"
  log "$module@$version: $path -> $file"
done
