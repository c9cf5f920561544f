# ecr-namespaces.sh - which namespaces get the Secret: the listing, the target/exclude globs and
# the label selector. Sourced by refresh-ecr-credentials.sh; defines functions only.
# shellcheck shell=sh

# matches_any NAME "GLOB ..." - the patterns are globs on purpose (set -f keeps them from
# matching files while the list is split).
matches_any() {
  for ma_pattern in $2; do
    # shellcheck disable=SC2254
    case $1 in
      $ma_pattern) return 0 ;;
    esac
  done
  return 1
}

# urlencode TEXT: TEXT with every byte but [A-Za-z0-9._~-] percent-encoded (a label selector in a
# query string).
urlencode() {
  ue_in=$1
  ue_out=
  while [ -n "$ue_in" ]; do
    ue_rest=${ue_in#?}
    ue_char=${ue_in%"$ue_rest"}
    case $ue_char in
      [A-Za-z0-9._~-]) ue_out=$ue_out$ue_char ;;
      *) ue_out=$ue_out$(printf '%%%02X' "'$ue_char") ;;
    esac
    ue_in=$ue_rest
  done
  printf '%s' "$ue_out"
}

# list_namespaces: writes the namespaces the selector matches to $work/namespaces, one
# "NAME PHASE" line each, from one GET of the API server's Table of namespaces without their
# objects: the server selects and formats, and the client reads about 120 bytes per namespace
# (curl and jq take a tenth of the CPU and a fifth of the memory `kubectl get` took at 5,000
# namespaces). One LIST (no chunks) keeps the request count at N + a handful. Should the
# Status column ever change, a terminating namespace is still caught when its write is refused.
list_namespaces() {
  ln_query=includeObject=None
  [ -z "$namespace_selector" ] || ln_query="$ln_query&labelSelector=$(urlencode "$namespace_selector")"
  ln_status=$(api_get "/api/v1/namespaces?$ln_query" "$work/namespaces.json" \
    'application/json;as=Table;v=v1;g=meta.k8s.io')
  case $ln_status in
    200) ;;
    000) die "$EXIT_KUBERNETES" "cannot list namespaces: no answer from the API server ($(last_line "$work/curl.err")); nothing was written" ;;
    *)
      ln_message=$(status_message "$work/namespaces.json")
      if [ "$ln_status" = 400 ] && [ -n "$namespace_selector" ]; then
        die "$EXIT_CONFIG" "ECR_NAMESPACE_SELECTOR \"$namespace_selector\" was rejected: $ln_message; use kubectl -l syntax, e.g. env=prod,team!=infra"
      fi
      die "$EXIT_KUBERNETES" "cannot list namespaces: HTTP $ln_status: ${ln_message:-no Status message}; nothing was written"
      ;;
  esac
  jq -r '.rows[] | "\(.cells[0]) \(.cells[1])"' "$work/namespaces.json" >"$work/namespaces" ||
    die "$EXIT_KUBERNETES" "cannot list namespaces: the API server's answer is not a Table; nothing was written"
  rm -f "$work/namespaces.json"
}

# skip NAMESPACE REASON
skip() {
  quote "$2"
  log warn namespace "namespace=$1" result=skipped "reason=$quoted"
  skipped=$((skipped + 1))
}

# select_namespaces [report-missing]: reads $work/namespaces, writes the names to write into
# $work/targets and logs every namespace left out. Sets $listed_count, $selected and
# $target_count. With report-missing (the listing is complete), a name asked for but not
# listed is logged too; the watcher's batches of new namespaces are not complete listings.
select_namespaces() {
  selected=0
  target_count=0
  listed_count=0
  exec 3>"$work/targets"
  listed=
  while read -r sn_ns sn_phase _; do
    [ -n "$sn_ns" ] || continue
    listed_count=$((listed_count + 1))
    [ -z "$target_namespaces" ] || listed="$listed $sn_ns "
    if [ -n "$target_namespaces" ] && ! matches_any "$sn_ns" "$target_namespaces"; then
      continue
    fi
    selected=$((selected + 1))
    if [ -n "$exclude_namespaces" ] && matches_any "$sn_ns" "$exclude_namespaces"; then
      skip "$sn_ns" "excluded by ECR_EXCLUDE_NAMESPACES"
    elif [ "$sn_phase" = Terminating ]; then
      # Writes into a terminating namespace are refused; they would fail every run until it is gone.
      skip "$sn_ns" "namespace is terminating"
    else
      printf '%s\n' "$sn_ns" >&3
      target_count=$((target_count + 1))
    fi
  done <"$work/namespaces"
  exec 3>&-

  # A name (not a glob) asked for explicitly but not listed deserves a line of its own.
  [ "${1:-}" = report-missing ] || return 0
  for sn_pattern in $target_namespaces; do
    case $sn_pattern in
      *[*?[]*) continue ;;
    esac
    case $listed in
      *" $sn_pattern "*) continue ;;
    esac
    selected=$((selected + 1))
    if [ -n "$namespace_selector" ]; then
      skip "$sn_pattern" "namespace not found or not matched by ECR_NAMESPACE_SELECTOR"
    else
      skip "$sn_pattern" "namespace not found"
    fi
  done
  listed=
}
