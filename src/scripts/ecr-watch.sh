# ecr-watch.sh - the watch mode: a namespace created between two scheduled runs gets the pull
# secret within seconds. Sourced by refresh-ecr-credentials.sh; defines functions only.
#
# The loop lists the namespaces once (their resourceVersion), then watches from there through
# the API server's watch stream, read event by event from its JSON. New namespaces are queued
# and written as one batch once no new one arrived for WATCH_QUIET_CS, and at the latest
# ECR_WATCH_BATCH_SECONDS after the first of them, whatever else the stream carries. Each batch
# is written by the same selection and write code as a scheduled run, with each region's token
# kept between batches (kept_tokens in ecr-token.sh). Namespaces that exist at start are left to
# the CronJob, except those created within the last hour: a restart of the watcher would
# otherwise leave them to the next scheduled run. A watch that ends is resumed from the last
# resourceVersion; one that expired (410 Gone) is replaced by a fresh list, and namespaces
# created meanwhile are written then. API errors are retried with backoff; an AWS error keeps the
# whole batch for a later try; a namespace whose write failed is tried again on its own backoff.
#
# Files under $work: seen (names done with), pending ("NAME PHASE ATTEMPTS": queued for the next
# batch), retry ("NAME PHASE ATTEMPTS DUE_CS": failed, waiting for their next try), batch (what a
# batch writes), lease (until when the heartbeat is kept, see keep_heartbeat).
# shellcheck shell=sh

# A batch goes out once no new namespace arrived for this long (centiseconds): a burst of
# namespaces created together is one batch, a lone namespace waits 0.2 s, not a whole second.
readonly WATCH_QUIET_CS=20
# The longest the loop waits for an event when nothing is due, so the lease is renewed.
readonly WATCH_IDLE_SECONDS=5
# A failed namespace is tried again after 2, 4, 8 ... s, at most a minute apart.
readonly RETRY_MAX_SECONDS=60

# clock: $now_cs and $now_s, a monotonic clock (the system's uptime, read by the shell itself:
# no process per event), in centiseconds and seconds.
clock() {
  if IFS=' ' read -r c_uptime _ </proc/uptime 2>/dev/null; then
    now_cs=$((${c_uptime%.*} * 100 + 1${c_uptime#*.} - 100))
  else
    now_cs=$(($(date -u +%s) * 100))
  fi
  now_s=$((now_cs / 100))
}

# lease SECONDS: the heartbeat is kept for SECONDS from now (the longest the next step may take).
lease() {
  clock
  printf '%s\n' "$((now_s + $1))" >"$work/lease"
}

# keep_heartbeat: starts the process that rewrites the heartbeat file every second while the
# lease the loop holds is current and the loop's shell lives. The loop itself cannot beat while it
# waits for a token or for curl; a process that beat unconditionally would hide a loop that
# hangs. So before each step the loop takes a lease as long as the step's worst case
# (batch_seconds, list and backoff below); a step that overruns it lets the heartbeat go stale and
# the probes act. The keeper reads files and the clock with shell builtins, and sleeps on a FIFO
# nobody writes to, so a beat starts no process.
keep_heartbeat() {
  main_pid=$$
  mkfifo "$work/tick"
  (
    trap - EXIT
    exec 5<>"$work/tick"
    while kill -0 "$main_pid" 2>/dev/null; do
      kh_until=0
      [ ! -f "$work/lease" ] || IFS= read -r kh_until <"$work/lease" || kh_until=0
      clock
      [ "$now_s" -gt "${kh_until:-0}" ] || printf '%s\n' "$now_s" >"$heartbeat_file"
      # shellcheck disable=SC3045 # busybox ash has read -t
      read -r -t 1 _ <&5 || :
    done
  ) &
}

# batch_seconds NAMES: sets $batch_lease, the longest a batch of NAMES namespaces may take, every
# call taking its full time, hence the lease a batch holds:
#   tokens  per token source: 3 rounds (TOKEN_ATTEMPTS) x 3 calls (web identity, role, ECR) x
#           (AWS_MAX_ATTEMPTS x 40 s: 10 s to connect + 30 s to read, + (AWS_MAX_ATTEMPTS - 1) x
#           20 s, the longest pause) + 15 s between rounds; 3 x 3 x 280 + 15 = 2,535 s at 5 tries
#           with roles, 3 x 1 x 280 + 15 = 855 s with keys (curl signs: 30 s per try)
#   writes  per curl process in turn: 60 s of retries + 30 s for the last try = 90 s; one process
#           for up to ECR_APPLY_BATCH_SIZE x ECR_APPLY_PARALLELISM (500) namespaces
#   accounts with ECR_PATCH_SERVICE_ACCOUNTS: 10 s waiting for `default`, then 3 rounds of a
#           read and a patch, each as long as the writes
#   + 30 s for everything else.
# Keys, one region, up to 500 namespaces: 855 + 90 + 30 = 975 s. Kept tokens need no call, but
# the lease is taken before the batch knows it. With tenants (ECR_TENANTS) every group may need
# its tokens and its writes: both terms count once per group, and each selector tenant's list
# adds 90 s.
batch_seconds() {
  bs_attempt=$((AWS_MAX_ATTEMPTS * 40 + (AWS_MAX_ATTEMPTS - 1) * 20))
  bs_calls=3
  ! curl_signs || bs_calls=1
  bs_tokens=0
  for bs_source in $token_sources; do
    bs_tokens=$((bs_tokens + TOKEN_ATTEMPTS * bs_calls * bs_attempt + 15))
  done
  bs_files=$((($1 + batch_size - 1) / batch_size))
  bs_writes=$(((bs_files + parallelism - 1) / parallelism * (API_RETRY_SECONDS + 30)))
  bs_accounts=0
  [ -z "$patch_service_account_names" ] || bs_accounts=$((10 + 3 * 2 * bs_writes))
  bs_lists=$((tenant_count * (API_RETRY_SECONDS + 30)))
  batch_lease=$(((bs_tokens + bs_writes) * group_count + bs_lists + bs_accounts + 30))
}

# list_for_watch FIRST: lists the selected namespaces into $work/listed ("NAME PHASE RECENT",
# RECENT 1 for a namespace created within the last hour) and sets $watch_rv, from one GET of the
# API server's Table of namespaces. The first list asks for each namespace's metadata too (its
# creationTimestamp); later ones need only the names. Returns non-zero, the reason in
# $work/watch.err, when the API server cannot be asked.
list_for_watch() {
  lfw_include=None
  [ "$1" != true ] || lfw_include=Metadata
  if ! get_namespace_table "$work/list.json" "$lfw_include"; then
    printf 'cannot list namespaces: %s\n' "$table_error" >"$work/watch.err"
    return 1
  fi
  jq -r '.metadata.resourceVersion, (.rows[] | "\(.cells[0]) \(.cells[1]) \(
      if ((.object.metadata.creationTimestamp // "") | try fromdateiso8601 catch 0) > (now - 3600)
      then 1 else 0 end)")' "$work/list.json" >"$work/list" 2>"$work/watch.err" ||
    return 1
  rm -f "$work/list.json"
  IFS= read -r watch_rv <"$work/list" || return 1
  [ -n "$watch_rv" ] || return 1
  # Everything after the first line is a namespace.
  tail -n +2 "$work/list" >"$work/listed"
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

# pend NAME PHASE: queues a namespace not written (nor queued, nor waiting for a retry) before.
pend() {
  grep -qxF "$1" "$work/seen" && return 0
  grep -q "^$1 " "$work/pending" "$work/retry" && return 0
  clock
  [ -s "$work/pending" ] || pending_first_cs=$now_cs
  pending_last_cs=$now_cs
  printf '%s %s 0\n' "$1" "$2" >>"$work/pending"
}

# due_in: sets $due_cs, the centiseconds until the next batch is due (0: now; -1: nothing queued).
due_in() {
  clock
  due_cs=-1
  if [ -s "$work/pending" ]; then
    di_at=$((pending_first_cs + batch_wait * 100))
    [ "$((pending_last_cs + WATCH_QUIET_CS))" -ge "$di_at" ] || di_at=$((pending_last_cs + WATCH_QUIET_CS))
  elif [ -s "$work/retry" ]; then
    di_at=$retry_next_cs
  else
    return 0
  fi
  [ ! -s "$work/retry" ] || [ "$retry_next_cs" -ge "$di_at" ] || di_at=$retry_next_cs
  # After an AWS failure nothing goes out before the backoff ends.
  [ "$di_at" -ge "$next_batch_cs" ] || di_at=$next_batch_cs
  due_cs=$((di_at - now_cs))
  [ "$due_cs" -gt 0 ] || due_cs=0
}

# batch_group_tokens: for each tenant group with namespaces in this batch, its docker config as
# $work/secret.G.json, or, when its token cannot be had, $work/token-failed.G (the reason): its
# namespaces fail and wait for their retry, the other groups' are written.
batch_group_tokens() {
  bgt_group=0
  while [ "$bgt_group" -lt "$group_count" ]; do
    rm -f "$work/token-failed.$bgt_group" "$work/secret.$bgt_group.json"
    if [ -s "$work/targets.$bgt_group" ]; then
      use_group "$bgt_group"
      if kept_tokens "$bgt_group"; then
        print_secret >"$work/secret.$bgt_group.json"
      else
        printf 'no ECR token for region %s as %s: %s\n' "$failed_region" "$(group_label "$bgt_group")" \
          "$(last_line "$work/aws.err")" >"$work/token-failed.$bgt_group"
      fi
    fi
    bgt_group=$((bgt_group + 1))
  done
  use_group 0
}

# write_batch: writes the namespaces of $work/batch. Returns non-zero only when nothing could be
# written (no token, or a tenant's namespaces could not be listed), the reason in $batch_error;
# every other failure is a namespace's, in $work/outcomes.
write_batch() {
  updated=0
  skipped=0
  conflicts=0
  failed=0
  failed_transient=0
  token_calls=0
  : >"$work/outcomes"
  cp "$work/batch" "$work/namespaces"
  # Excluded, unselected and terminating namespaces leave here, before any token is asked for.
  select_namespaces
  if [ "$target_count" -gt 0 ] && [ "$tenant_count" -gt 0 ] && ! assign_tenants; then
    batch_error=$tenant_error
    return 1
  fi
  if [ "$target_count" -eq 0 ]; then
    log info batch "namespaces=$listed_count" "targets=0" "skipped=$skipped"
    return 0
  fi
  # Only the tokens of this batch are redacted from now on; the list would grow forever.
  secret_values=
  if [ "$tenant_count" -gt 0 ]; then
    batch_group_tokens
  elif ! kept_tokens 0; then
    batch_error="no ECR token"
    return 1
  fi
  # In a subshell, so that whatever ends a scheduled run ends only this batch; the namespaces it
  # left without a result are tried again.
  (
    trap - EXIT
    if [ "$tenant_count" -gt 0 ]; then
      write_tenant_groups
    else
      write_secrets
    fi
    # A new namespace's default ServiceAccount appears a moment after the namespace.
    patch_service_accounts 10
    log info batch "namespaces=$listed_count" "targets=$target_count" "token_calls=$token_calls" \
      "updated=$updated" "skipped=$skipped" "conflict=$conflicts" "failed=$failed"
  ) || :
  token=
  docker_config_b64=
}

# settle_batch: after a batch, each namespace with a result (updated, skipped, conflict) or not a
# target joins $work/seen; every target without one (failed, or no result at all) waits in
# $work/retry for its next try, 2 s after the first failure, doubling to RETRY_MAX_SECONDS.
settle_batch() {
  clock
  awk -v now="$now_cs" -v seen="$work/seen" -v retry="$work/retry" -v cap="$RETRY_MAX_SECONDS" '
    part == "outcome" { result[$1] = $2; next }
    part == "target" { target[$1] = 1; next }
    {
      outcome = ($1 in result) ? result[$1] : "none"
      if (!($1 in target) || outcome == "updated" || outcome == "skipped" || outcome == "conflict") {
        print $1 >> seen
        next
      }
      attempt = $3 + 1
      pause = 2
      for (i = 1; i < attempt && pause < cap; i++) pause *= 2
      if (pause > cap) pause = cap
      print $1, $2, attempt, now + pause * 100 >> retry
      printf "level=warn event=retry namespace=%s attempt=%d retry_in_s=%d result=%s\n", $1, attempt, pause, outcome
    }' part=outcome "$work/outcomes" part=target "$work/targets" part=batch "$work/batch"
  next_retry
}

# next_retry: sets $retry_next_cs, when the first waiting namespace is due.
next_retry() {
  retry_next_cs=0
  [ ! -s "$work/retry" ] ||
    retry_next_cs=$(awk 'NR == 1 || $4 < min { min = $4 } END { print min }' "$work/retry")
}

# flush_batch: writes what is due: the queued namespaces and the retries whose time has come.
flush_batch() {
  clock
  rm -f "$work/batch"
  fb_count=$(awk -v now="$now_cs" -v batch="$work/batch" -v keep="$work/retry.keep" '
    FILENAME != ARGV[1] { print > batch; n++; next }
    $4 <= now { print $1, $2, $3 > batch; n++; next }
    { print > keep }
    END { print n + 0 }' "$work/retry" "$work/pending")
  mv "$work/retry.keep" "$work/retry" 2>/dev/null || : >"$work/retry"
  : >"$work/pending"
  [ "$fb_count" -gt 0 ] || {
    next_retry
    return 0
  }
  batch_seconds "$fb_count"
  lease "$batch_lease"
  if write_batch; then
    settle_batch
    batch_backoff=0
    next_batch_cs=0
  else
    # No token: the whole batch waits, and AWS is asked again only after the backoff.
    cat "$work/batch" >>"$work/pending"
    batch_backoff=$((batch_backoff == 0 ? 5 : batch_backoff * 2))
    [ "$batch_backoff" -le 300 ] || batch_backoff=300
    quote "$batch_error; the batch is kept for the next try"
    log warn batch "reason=$quoted" "retry_in_s=$batch_backoff"
    clock
    next_batch_cs=$((now_cs + batch_backoff * 100))
    pending_first_cs=$now_cs
    pending_last_cs=$now_cs
    next_retry
  fi
  rm -f "$work/batch"
}

# watch_session: one watch stream, until it ends. Sets $relist when a fresh list is needed.
watch_session() {
  open_watch
  ws_events=0
  while :; do
    lease $((WATCH_IDLE_SECONDS + 10))
    due_in
    if [ "$due_cs" -eq 0 ]; then
      flush_batch
      continue
    fi
    [ "$due_cs" -gt 0 ] && [ "$due_cs" -le "$((WATCH_IDLE_SECONDS * 100))" ] || due_cs=$((WATCH_IDLE_SECONDS * 100))
    ws_wait=$((due_cs / 100)).$((due_cs % 100 / 10))$((due_cs % 10))
    # busybox read -t returns 1 on a timeout as on EOF; the producer's END line (or its end)
    # tells them apart.
    # shellcheck disable=SC3045 # busybox ash has read -t
    if ! IFS=' ' read -r -t "$ws_wait" ws_type ws_name ws_phase ws_rv ws_code ws_message <&4; then
      kill -0 "$watch_pid" 2>/dev/null || break
      continue
    fi
    case $ws_type in
      END) break ;;
      ADDED)
        ws_events=$((ws_events + 1))
        watch_rv=$ws_rv
        # The phase goes along: select_namespaces skips (and logs) a terminating namespace.
        pend "$ws_name" "$ws_phase"
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

# api_pause: waits before the API server is asked again, 1 s doubling to 30 s.
api_pause() {
  api_backoff=$((api_backoff == 0 ? 1 : api_backoff * 2))
  [ "$api_backoff" -le 30 ] || api_backoff=30
  lease $((api_backoff + 10))
  sleep "$api_backoff"
}

# watch_namespaces: runs until killed. Exits non-zero only when it cannot go on at all.
watch_namespaces() {
  heartbeat_file=${ECR_HEARTBEAT_FILE:-${TMPDIR:-/tmp}/ecr-watch-heartbeat}
  batch_wait=${ECR_WATCH_BATCH_SECONDS:-1}
  watch_timeout=${ECR_WATCH_TIMEOUT_SECONDS:-300}
  case $batch_wait:$watch_timeout in
    *[!0-9:]* | :* | *: | 0:* | *:0) die "$EXIT_CONFIG" "ECR_WATCH_BATCH_SECONDS \"$batch_wait\" and ECR_WATCH_TIMEOUT_SECONDS \"$watch_timeout\" must be positive integers, e.g. 1 and 300" ;;
  esac
  : >"$work/pending"
  : >"$work/retry"
  : >"$work/seen"
  pending_first_cs=0
  pending_last_cs=0
  retry_next_cs=0
  batch_backoff=0
  next_batch_cs=0
  relist=true
  first_list=true
  api_backoff=0
  # A list is one GET with its retries: 60 s, + 60 s for the last try; its rows are read after.
  lease 150
  keep_heartbeat
  batch_seconds 1
  log info watch "selector=\"$namespace_selector\"" "batch_seconds=$batch_wait" "watch_timeout_s=$watch_timeout" \
    "batch_lease_s=$batch_lease"
  while :; do
    lease 150
    # Read for every watch: in a pod the kubelet rotates the ServiceAccount token.
    api_access
    if $relist; then
      if ! list_for_watch "$first_list"; then
        quote "$(last_line "$work/watch.err")"
        log warn watch "reason=$quoted" "retry_in_s=$((api_backoff == 0 ? 1 : api_backoff * 2 > 30 ? 30 : api_backoff * 2))"
        api_pause
        continue
      fi
      if $first_list; then
        # Existing namespaces are the CronJob's, except those created within the last hour:
        # after a restart of the watcher they would otherwise wait for the next scheduled run.
        awk '$3 != 1 { print $1 }' "$work/listed" >"$work/seen"
        while read -r wn_name wn_phase wn_recent; do
          [ "$wn_recent" != 1 ] || pend "$wn_name" "$wn_phase"
        done <"$work/listed"
        first_list=false
        log info watch "listed=$(wc -l <"$work/listed" | tr -d ' ')" "recent=$(wc -l <"$work/pending" | tr -d ' ')" \
          "resource_version=$watch_rv"
      else
        while read -r wn_name wn_phase _; do
          pend "$wn_name" "$wn_phase"
        done <"$work/listed"
      fi
      relist=false
    fi
    if watch_session; then
      api_backoff=0
    else
      api_pause
      relist=true
    fi
  done
}
