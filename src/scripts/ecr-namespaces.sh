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

# list_namespaces: writes the namespaces the selector matches to $work/namespaces, one
# "NAME STATUS AGE" line each. The server-side table rather than -o jsonpath: kubectl then never decodes the
# full objects, which at 5,000 namespaces saves ~25 MiB. One LIST (no chunks) keeps the request
# count at N + a handful. Should the STATUS column ever change, a terminating namespace is still
# caught when its write is refused.
list_namespaces() {
  set -- get namespaces --chunk-size=0 --request-timeout=60s --no-headers
  [ -z "$namespace_selector" ] || set -- "$@" --selector "$namespace_selector"
  if ! kubectl "$@" >"$work/namespaces" 2>"$work/kubectl.err"; then
    ln_error=$(last_line "$work/kubectl.err")
    case $ln_error in
      *selector* | *"parse requirement"* | *"found '"*)
        die "$EXIT_CONFIG" "ECR_NAMESPACE_SELECTOR \"$namespace_selector\" was rejected: $ln_error; use kubectl -l syntax, e.g. env=prod,team!=infra" ;;
    esac
    die "$EXIT_KUBERNETES" "cannot list namespaces: $ln_error; nothing was written"
  fi
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
  : >"$work/targets"
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
      printf '%s\n' "$sn_ns" >>"$work/targets"
      target_count=$((target_count + 1))
    fi
  done <"$work/namespaces"

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
