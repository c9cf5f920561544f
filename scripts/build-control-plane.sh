#!/usr/bin/env bash
# Builds the binaries the e2e suite runs a real control plane with: kube-apiserver,
# kube-controller-manager and kubectl from k8s.io/kubernetes at two minors (1.34, where most of the
# suite runs, and 1.37, where MutatingAdmissionPolicy is GA), etcd from go.etcd.io/etcd/server/v3;
# and promtool from github.com/prometheus/prometheus, which checks and unit-tests the alert rules.
# Everything comes from the Go module proxy through the wrapper modules in scripts/control-plane/
# (kind, k3s and setup-envtest would need downloads from GitHub/GCS or a container registry).
#
# Output (the version is the cache key; existing binaries are kept):
#   ${ECR_K8S_CACHE_DIR:-$HOME/.cache/ecr-k8s-credentials}/bin/kubernetes-<version>/{kube-apiserver,kube-controller-manager,kubectl}
#   ${ECR_K8S_CACHE_DIR:-$HOME/.cache/ecr-k8s-credentials}/bin/etcd-<version>/etcd
#   ${ECR_K8S_CACHE_DIR:-$HOME/.cache/ecr-k8s-credentials}/bin/prometheus-<version>/promtool
#
# A cold 1.34 build took 466 s on 2 cores (kube-apiserver 319 s, kube-controller-manager 82 s, kubectl
# 31 s, etcd 34 s, module downloads included) and needs about 3 GB of RAM. promtool alone, from
# empty Go module and build caches, took 513 s (at low priority on a busy machine).
# The 1.37 binaries (a second wrapper module, scripts/control-plane/kubernetes-1.37) come last, so
# a first run has the 1.34 control plane first. Their build with warm module and build caches (the
# 1.34 build done), at nice 10 on the 2 cores while other builds and test runs kept the load at
# 20-39: kube-apiserver 2765 s, kube-controller-manager 422 s, kubectl 147 s.
# Usage: scripts/build-control-plane.sh [--print-paths]
set -euo pipefail

# Keep in step with scripts/control-plane/*/go.mod (checked below) and
# test/e2e/harness/harness.test.ts (and test/e2e/prometheus-rule.test.ts for promtool).
KUBERNETES_VERSION=v1.34.4
KUBERNETES_137_VERSION=v1.37.2
ETCD_VERSION=v3.6.16
# Prometheus tags module versions v0.3MM.P for release 3.MM.P.
PROMETHEUS_VERSION=v0.316.0
PROMETHEUS_RELEASE=3.16.0

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache_dir=${ECR_K8S_CACHE_DIR:-$HOME/.cache/ecr-k8s-credentials}
kube_bin_dir=$cache_dir/bin/kubernetes-$KUBERNETES_VERSION
kube_137_bin_dir=$cache_dir/bin/kubernetes-$KUBERNETES_137_VERSION
etcd_bin_dir=$cache_dir/bin/etcd-$ETCD_VERSION
prometheus_bin_dir=$cache_dir/bin/prometheus-$PROMETHEUS_VERSION

if [[ ${1:-} == --print-paths ]]; then
  printf '%s\n' "$kube_bin_dir/kube-apiserver" "$kube_bin_dir/kube-controller-manager" \
    "$kube_bin_dir/kubectl" "$etcd_bin_dir/etcd" "$prometheus_bin_dir/promtool" \
    "$kube_137_bin_dir/kube-apiserver" "$kube_137_bin_dir/kube-controller-manager" "$kube_137_bin_dir/kubectl"
  exit 0
fi

log() { printf '[build-control-plane] %s\n' "$*" >&2; }

if ! command -v go >/dev/null 2>&1; then
  log "go is not installed; install Go >= 1.26 (the etcd wrapper module needs it) and re-run."
  exit 1
fi

# The version strings come from here, the code from the wrapper's go.mod: refuse to label one
# version with another's name.
require_version() {
  local go_mod=$1 module=$2 version=$3
  if ! grep -qE "^[[:space:]]*$module $version( |\$)" "$go_mod"; then
    log "$go_mod does not require $module $version; update it (go get -tool ...) or this script."
    exit 1
  fi
}
require_version "$repo_root/scripts/control-plane/kubernetes/go.mod" k8s.io/kubernetes "$KUBERNETES_VERSION"
require_version "$repo_root/scripts/control-plane/kubernetes-1.37/go.mod" k8s.io/kubernetes "$KUBERNETES_137_VERSION"
require_version "$repo_root/scripts/control-plane/etcd/go.mod" go.etcd.io/etcd/server/v3 "$ETCD_VERSION"
require_version "$repo_root/scripts/control-plane/promtool/go.mod" github.com/prometheus/prometheus "$PROMETHEUS_VERSION"

# wait_with_progress NAME PID STARTED: waits for the build PID, saying every 30 s that it is still
# going, so a first run does not sit silent for minutes; returns the build's exit status.
wait_with_progress() {
  local name=$1 pid=$2 started=$3 next=30
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    if ((SECONDS - started >= next)); then
      log "$name: still building, $((SECONDS - started))s elapsed"
      next=$((next + 30))
    fi
  done
  wait "$pid"
}

# build NAME MODULE_DIR PACKAGE OUTPUT LDFLAGS
build() {
  local name=$1 module_dir=$2 package=$3 output=$4 ldflags=$5
  if [[ -x $output ]]; then
    log "$name: cached at $output"
    return 0
  fi
  log "$name: building $package (first build of this version: many minutes)"
  local started=$SECONDS tmp_output
  mkdir -p "$(dirname "$output")"
  # Build to a temporary name and rename, so an interrupted build never leaves a file that a
  # later run would take for a finished one.
  tmp_output=$output.partial.$$
  (
    cd "$module_dir"
    CGO_ENABLED=0 GOFLAGS=-mod=readonly go build -trimpath -buildvcs=false \
      -ldflags "-s -w $ldflags" -o "$tmp_output" "$package"
  ) &
  wait_with_progress "$name" "$!" "$started"
  mv -f "$tmp_output" "$output"
  log "$name: built in $((SECONDS - started))s -> $output"
}

# kube_ldflags VERSION: stamps the version `kubectl version` and /version report (a module build
# has no git tree to take it from).
kube_ldflags() {
  local version=$1 minor major pkg flags=""
  minor=${version#v*.}
  minor=${minor%%.*}
  major=${version#v}
  major=${major%%.*}
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags+=" -X $pkg.gitVersion=$version"
    flags+=" -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
    flags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  printf '%s' "$flags"
}

# build_kubernetes VERSION MODULE_DIR BIN_DIR
build_kubernetes() {
  local version=$1 module_dir=$2 bin_dir=$3 ldflags cmd
  ldflags=$(kube_ldflags "$version")
  for cmd in kube-apiserver kube-controller-manager kubectl; do
    build "$cmd $version" "$module_dir" "k8s.io/kubernetes/cmd/$cmd" "$bin_dir/$cmd" "$ldflags"
  done
}

total_started=$SECONDS
build_kubernetes "$KUBERNETES_VERSION" "$repo_root/scripts/control-plane/kubernetes" "$kube_bin_dir"
build etcd "$repo_root/scripts/control-plane/etcd" \
  go.etcd.io/etcd/server/v3 "$etcd_bin_dir/etcd" \
  "-X go.etcd.io/etcd/api/v3/version.GitSHA=$ETCD_VERSION"
build promtool "$repo_root/scripts/control-plane/promtool" \
  github.com/prometheus/prometheus/cmd/promtool "$prometheus_bin_dir/promtool" \
  "-X github.com/prometheus/common/version.Version=$PROMETHEUS_RELEASE"
build_kubernetes "$KUBERNETES_137_VERSION" "$repo_root/scripts/control-plane/kubernetes-1.37" "$kube_137_bin_dir"
log "all binaries ready in $((SECONDS - total_started))s"
