#!/usr/bin/env bash
# Installs what the e2e suite needs and is missing; quick when everything is there. `npm test`
# and `npm run test:e2e` run it first, so a fresh clone needs nothing else but Go and Python.
#   - apt packages: busybox (Alpine-like shell and applets), jq, shellcheck, openssl, strace
#     (the argv audits trace every execve)
#   - a Python venv with the pinned moto and aws CLI (test/e2e/harness/requirements.txt)
#   - kube-apiserver, kube-controller-manager and kubectl (1.34 and 1.37), etcd and promtool built
#     from Go modules (scripts/build-control-plane.sh)
#   - the Argo CD, Flux and prometheus-operator CRDs, from their Go modules (scripts/fetch-crds.sh)
# Everything but the apt packages lives in ${ECR_K8S_CACHE_DIR:-$HOME/.cache/ecr-k8s-credentials}.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache_dir=${ECR_K8S_CACHE_DIR:-$HOME/.cache/ecr-k8s-credentials}
requirements=$repo_root/test/e2e/harness/requirements.txt
venv=$cache_dir/venv

log() { printf '[e2e-prereqs] %s\n' "$*" >&2; }

install_apt_packages() {
  local missing=() tool
  for tool in busybox jq shellcheck openssl strace; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
  done
  if ((${#missing[@]} == 0)); then
    log "apt packages: present"
    return 0
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    log "missing ${missing[*]} and no apt-get here: install them with your package manager."
    return 1
  fi
  local sudo=()
  if ((EUID != 0)); then
    # Never prompt for a password in the middle of a test run.
    if ! sudo -n true 2>/dev/null; then
      log "missing ${missing[*]}; installing them needs root. Run:"
      log "  sudo apt-get install -y --no-install-recommends ${missing[*]}"
      return 1
    fi
    sudo=(sudo -n)
  fi
  log "apt packages: installing ${missing[*]}"
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
}

install_venv() {
  local want have=""
  want=$(sha256sum "$requirements" | cut -d' ' -f1)
  if [[ -f $venv/.requirements.sha256 ]]; then have=$(<"$venv/.requirements.sha256"); fi
  if [[ $want == "$have" && -x $venv/bin/aws && -x $venv/bin/python ]]; then
    log "python venv: present ($venv)"
    return 0
  fi
  log "python venv: creating $venv from $requirements"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
  # Written last: a half-installed venv has no stamp and is rebuilt next time.
  printf '%s\n' "$want" >"$venv/.requirements.sha256"
}

time_phase() {
  local name=$1 started=$SECONDS
  shift
  "$@"
  log "$name: $((SECONDS - started))s"
}

if ! command -v go >/dev/null 2>&1; then
  log "go is not installed: install Go >= 1.26 (https://go.dev/dl/), then re-run."
  exit 1
fi
if ! command -v python3 >/dev/null 2>&1; then
  log "python3 is not installed: install Python >= 3.9 with the venv module, then re-run."
  exit 1
fi

time_phase "apt packages" install_apt_packages
time_phase "python venv" install_venv
time_phase "control plane binaries" "$repo_root/scripts/build-control-plane.sh"
time_phase "CRDs" "$repo_root/scripts/fetch-crds.sh"
