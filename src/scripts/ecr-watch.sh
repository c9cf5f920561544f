# ecr-watch.sh - the watch mode: a namespace created between two scheduled runs gets the pull
# secret within seconds. Sourced by refresh-ecr-credentials.sh; defines functions only.
#
# The loop lists the namespaces once (their resourceVersion), then watches from there through
# the API server's watch stream, read event by event from its JSON. New namespaces are batched
# (events arriving within ECR_WATCH_BATCH_SECONDS of each other form one batch) and each batch
# is written by the same selection, token and write code as a scheduled run. Namespaces that
# exist at start are left to the CronJob. A watch that ends is resumed from the last
# resourceVersion; one that expired (410 Gone) is replaced by a fresh list, and namespaces
# created meanwhile are written then. API errors are retried with backoff; an AWS error keeps the
# batch for the next try. A heartbeat file is written every loop turn for the probes.
# shellcheck shell=sh

heartbeat() {
  heartbeats=$((heartbeats + 1))
  printf '%s\n' "$heartbeats" >"$heartbeat_file"
}

# list_for_watch: lists the selected namespaces into $work/listed (names) and sets $watch_rv,
# from one GET of the API server's Table of namespaces (as a scheduled run lists them). Returns
# non-zero, the reason in $work/watch.err, when the API server cannot be asked.
list_for_watch() {
  if ! get_namespace_table "$work/list.json"; then
    printf 'cannot list namespaces: %s\n' "$table_error" >"$work/watch.err"
    return 1
  fi
  jq -r '.metadata.resourceVersion, (.rows[] | .cells[0])' "$work/list.json" >"$work/list" 2>"$work/watch.err" ||
    return 1
  IFS= read -r watch_rv <"$work/list" || return 1
  [ -n "$watch_rv" ] || return 1
  # Everything after the first line is a name.
  tail -n +2 "$work/list" >"$work/listed"
}

# is_seen NAME
is_seen() {
  grep -qxF "$1" "$work/seen"
}

# open_watch: starts the watch stream from $watch_rv in the background (curl, the credentials in
# its config on stdin), one event per line on file descriptor 4: TYPE NAME PHASE
# RESOURCE_VERSION CODE ("-" where absent), then "END". A refusal (a Status instead of events)
# is one line: STATUS - - - CODE MESSAGE.
open_watch() {
  rm -f "$work/events"
  mkfifo "$work/events"
  (
    trap - EXIT
    printf '%s\n' "$api_config" silent show-error no-buffer 'connect-timeout = 10' \
      "max-time = $((watch_timeout + 60))" 'header = "Accept: application/json"' \
      "url = \"$api_server/api/v1/namespaces?watch=1&allowWatchBookmarks=true&resourceVersion=$watch_rv&timeoutSeconds=$watch_timeout${selector_query:+&$selector_query}\"" |
      curl -q --config - 2>"$work/watch.err" |
      jq -r --unbuffered 'if .type then
          "\(.type) \(.object.metadata.name // "-") \(.object.status.phase // "-") \(.object.metadata.resourceVersion // "-") \(.object.code // "-")"
        else "STATUS - - - \(.code // "-") \(.message // "" | gsub("\n"; " "))" end' 2>>"$work/watch.err"
    echo END
  ) >"$work/events" &
  watch_pid=$!
  exec 4<"$work/events"
}

# write_batch: writes the pending namespaces with a fresh token, in a subshell so that an AWS or
# API failure (which ends a scheduled run) only fails this batch. Returns its exit code.
write_batch() {
  [ -s "$work/pending" ] || return 0
  wb_status=0
  (
    trap - EXIT
    updated=0
    skipped=0
    conflicts=0
    failed=0
    fetch_tokens
    select_namespaces
    write_secrets
    # A new namespace's default ServiceAccount appears a moment after the namespace.
    patch_service_accounts 10
    log info batch "namespaces=$listed_count" "updated=$updated" "skipped=$skipped" \
      "conflict=$conflicts" "failed=$failed"
  ) || wb_status=$?
  return "$wb_status"
}

# flush_pending: writes the batch; on success the names join $work/seen, on failure they stay
# pending and the next try waits longer (AWS is never asked more than once per backoff step).
flush_pending() {
  [ -s "$work/pending" ] || return 0
  [ "$(date -u +%s)" -ge "$next_batch_at" ] || return 0
  cp "$work/pending" "$work/namespaces"
  if write_batch; then
    cut -d' ' -f1 "$work/pending" >>"$work/seen"
    : >"$work/pending"
    batch_backoff=0
  else
    batch_backoff=$((batch_backoff == 0 ? 5 : batch_backoff * 2))
    [ "$batch_backoff" -le 300 ] || batch_backoff=300
    log warn batch "reason=\"batch failed; kept for the next try\"" "retry_in_s=$batch_backoff"
    next_batch_at=$(($(date -u +%s) + batch_backoff))
  fi
}

# pend NAME PHASE: queues a namespace not written before.
pend() {
  is_seen "$1" && return 0
  grep -q "^$1 " "$work/pending" && return 0
  printf '%s %s\n' "$1" "$2" >>"$work/pending"
}

# watch_session: one watch stream, until it ends. Sets $relist when a fresh list is needed.
watch_session() {
  open_watch
  ws_events=0
  while :; do
    heartbeat
    # busybox read -t returns 1 on a timeout as on EOF; the producer's END line tells them apart.
    # shellcheck disable=SC3045 # busybox ash has read -t
    if ! IFS=' ' read -r -t "$batch_wait" ws_type ws_name ws_phase ws_rv ws_code ws_message <&4; then
      flush_pending
      continue
    fi
    case $ws_type in
      END) break ;;
      ADDED)
        ws_events=$((ws_events + 1))
        watch_rv=$ws_rv
        [ "$ws_phase" = Terminating ] || pend "$ws_name" "$ws_phase"
        ;;
      MODIFIED | DELETED | BOOKMARK)
        ws_events=$((ws_events + 1))
        watch_rv=$ws_rv
        ;;
      ERROR)
        # 410 Gone: the resourceVersion is too old to resume from.
        log warn watch "code=$ws_code" "reason=\"watch expired; listing again\""
        relist=true
        ;;
      STATUS)
        # The API server refused the watch (401, 403, 500...): its Status, not events.
        printf 'watch refused: HTTP %s: %s\n' "$ws_code" "$ws_message" >"$work/watch.err"
        ;;
    esac
  done
  exec 4<&-
  wait "$watch_pid" 2>/dev/null || true
  if [ "$ws_events" -eq 0 ] && [ -s "$work/watch.err" ]; then
    quote "$(last_line "$work/watch.err")"
    log warn watch "reason=$quoted"
    return 1
  fi
}

# watch_namespaces: runs until killed. Exits non-zero only when it cannot go on at all.
watch_namespaces() {
  heartbeat_file=${ECR_HEARTBEAT_FILE:-${TMPDIR:-/tmp}/ecr-watch-heartbeat}
  batch_wait=${ECR_WATCH_BATCH_SECONDS:-1}
  watch_timeout=${ECR_WATCH_TIMEOUT_SECONDS:-300}
  case $batch_wait:$watch_timeout in
    *[!0-9:]* | :* | *: | 0:* | *:0) die "$EXIT_CONFIG" "ECR_WATCH_BATCH_SECONDS \"$batch_wait\" and ECR_WATCH_TIMEOUT_SECONDS \"$watch_timeout\" must be positive integers, e.g. 1 and 300" ;;
  esac
  heartbeats=0
  : >"$work/pending"
  : >"$work/seen"
  batch_backoff=0
  next_batch_at=0
  relist=true
  first_list=true
  api_backoff=0
  log info watch "selector=\"$namespace_selector\"" "batch_seconds=$batch_wait" "watch_timeout_s=$watch_timeout"
  while :; do
    heartbeat
    # Read for every watch: in a pod the kubelet rotates the ServiceAccount token.
    api_access
    if $relist; then
      if ! list_for_watch; then
        api_backoff=$((api_backoff == 0 ? 1 : api_backoff * 2))
        [ "$api_backoff" -le 30 ] || api_backoff=30
        quote "$(last_line "$work/watch.err")"
        log warn watch "reason=$quoted" "retry_in_s=$api_backoff"
        sleep "$api_backoff"
        continue
      fi
      if $first_list; then
        # Existing namespaces are the CronJob's; only what appears from now on is ours.
        cp "$work/listed" "$work/seen"
        first_list=false
        log info watch "listed=$(wc -l <"$work/listed" | tr -d ' ')" "resource_version=$watch_rv"
      else
        while IFS= read -r wn_name; do
          pend "$wn_name" Active
        done <"$work/listed"
      fi
      relist=false
    fi
    if watch_session; then
      api_backoff=0
    else
      api_backoff=$((api_backoff == 0 ? 1 : api_backoff * 2))
      [ "$api_backoff" -le 30 ] || api_backoff=30
      sleep "$api_backoff"
      relist=true
    fi
    flush_pending
  done
}
