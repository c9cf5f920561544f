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

# get_namespace_table FILE [INCLUDE]: one GET of the API server's Table of the namespaces the
# selector matches, without their objects (INCLUDE None; Metadata adds each one's metadata), into
# FILE: the server selects and formats, and the client reads
# about 120 bytes per namespace (curl and jq took a tenth of the CPU and a fifth of the memory
# `kubectl get` took at 5,000 namespaces). Sets $table_status (the HTTP status); on failure returns
# non-zero with the reason in $table_error.
get_namespace_table() {
  table_status=$(api_get "/api/v1/namespaces?includeObject=${2:-None}${selector_query:+&$selector_query}" "$1" \
    'application/json;as=Table;v=v1;g=meta.k8s.io')
  case $table_status in
    200) return 0 ;;
    000) table_error="no answer from the API server ($(last_line "$work/curl.err"))" ;;
    *) table_error="HTTP $table_status: $(status_message "$1")" ;;
  esac
  return 1
}

# list_namespaces: writes the namespaces the selector matches to $work/namespaces, one
# "NAME PHASE" line each. One LIST (no chunks) keeps the request count at N + a handful. Should
# the Status column ever change, a terminating namespace is still caught when its write is refused.
list_namespaces() {
  if ! get_namespace_table "$work/namespaces.json"; then
    if [ "$table_status" = 400 ] && [ -n "$namespace_selector" ]; then
      die "$EXIT_CONFIG" "ECR_NAMESPACE_SELECTOR \"$namespace_selector\" was rejected: $(status_message "$work/namespaces.json"); use kubectl -l syntax, e.g. env=prod,team!=infra"
    fi
    die "$EXIT_KUBERNETES" "cannot list namespaces: $table_error; nothing was written"
  fi
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
