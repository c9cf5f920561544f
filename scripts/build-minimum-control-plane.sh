#!/usr/bin/env bash
# Builds kube-apiserver and kube-controller-manager of the oldest Kubernetes minor the README
# claims (the minimum), from the Go module proxy through scripts/control-plane/kubernetes-minimum,
# and prints the directory that holds them. The e2e suite runs its control plane from there with
#   E2E_KUBERNETES_BIN_DIR=$(scripts/build-minimum-control-plane.sh) \
#     npx vitest run -c vitest.e2e.config.ts test/e2e/kubernetes-version.test.ts
# (kubectl, etcd and the rest stay the suite's own, from scripts/build-control-plane.sh).
# Binaries are cached in ${ECR_K8S_CACHE_DIR:-$HOME/.cache/ecr-k8s-credentials}/bin/kubernetes-<version>/.
# Usage: scripts/build-minimum-control-plane.sh [--print-dir]
set -euo pipefail

# Keep in step with scripts/control-plane/kubernetes-minimum/go.mod (checked below), README's
# "Kubernetes versions" and MINIMUM_MINOR in test/e2e/kubernetes-version.test.ts.
KUBERNETES_VERSION=v1.33.13

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
module_dir=$repo_root/scripts/control-plane/kubernetes-minimum
bin_dir=${ECR_K8S_CACHE_DIR:-$HOME/.cache/ecr-k8s-credentials}/bin/kubernetes-$KUBERNETES_VERSION

log() { printf '[build-minimum-control-plane] %s\n' "$*" >&2; }

if [[ ${1:-} == --print-dir ]]; then
  printf '%s\n' "$bin_dir"
  exit 0
fi

if ! grep -qE "^[[:space:]]*k8s.io/kubernetes $KUBERNETES_VERSION( |\$)" "$module_dir/go.mod"; then
  log "$module_dir/go.mod does not require k8s.io/kubernetes $KUBERNETES_VERSION; update one of them."
  exit 1
fi

# The version /version and `kubectl version` report: a module build has no git tree to take it from.
minor=${KUBERNETES_VERSION#v*.}
minor=${minor%%.*}
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$KUBERNETES_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done

mkdir -p "$bin_dir"
for command in kube-apiserver kube-controller-manager; do
  if [[ -x $bin_dir/$command ]]; then
    log "$command: cached at $bin_dir/$command"
    continue
  fi
  log "$command: building $KUBERNETES_VERSION (many minutes on 2 cores)"
  started=$SECONDS
  # A temporary name, renamed when complete: an interrupted build never passes for a finished one.
  (cd "$module_dir" && CGO_ENABLED=0 GOFLAGS=-mod=readonly go build -trimpath -buildvcs=false \
    -ldflags "$ldflags" -o "$bin_dir/$command.partial.$$" "k8s.io/kubernetes/cmd/$command")
  mv -f "$bin_dir/$command.partial.$$" "$bin_dir/$command"
  log "$command: built in $((SECONDS - started))s"
done
printf '%s\n' "$bin_dir"
