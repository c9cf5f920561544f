# ecr-write.sh - writes the Secret into every target namespace with server-side apply and logs
# each namespace's result. Sourced by refresh-ecr-credentials.sh; defines functions only.
# shellcheck shell=sh

# print_secret: the Secret as an apply patch (JSON is YAML). It names no namespace: the API
# server takes it from the URL, so one file serves every namespace. Everything in it is either
# validated above or fixed, so nothing needs escaping.
print_secret() {
  printf '{"apiVersion":"v1","kind":"Secret","metadata":{"name":"%s",' "$secret_name"
  printf '"labels":{"app.kubernetes.io/managed-by":"%s","app.kubernetes.io/part-of":"ecr-k8s-credentials","app.kubernetes.io/component":"pull-secret"},' "$FIELD_MANAGER"
  printf '"annotations":{"%s/refreshed-at":"%s","%s/expires-at":"%s","%s/registries":"%s"}},' \
    "$ANNOTATION_PREFIX" "$refreshed_at" "$ANNOTATION_PREFIX" "$expires_at" "$ANNOTATION_PREFIX" "$registry_list"
  printf '"type":"kubernetes.io/dockerconfigjson","data":{".dockerconfigjson":"%s"}}\n' "$docker_config_b64"
}

# curl_batch N: one curl process sends one server-side apply (a PATCH of the Secret with the
# field manager, and force=true to adopt) per namespace of $work/batch.N; then each namespace's
# result is read from its own status and body. Server-side apply never reads the object first,
# so `patch` (and `create` the first time) on this one Secret name is all the RBAC it needs.
# Without force the API server refuses to take fields another field manager owns: a Secret
# someone else made is reported as a conflict, not replaced.
curl_batch() {
  awk -v secret="$secret_name" -v manager="$FIELD_MANAGER" -v force="$adopt_existing" -v body="$work/secret.json" '
    { printf "%s /api/v1/namespaces/%s/secrets/%s?fieldManager=%s&force=%s %s\n", $1, $1, secret, manager, force, body }' \
    "$work/batch.$1" >"$work/w$worker.requests"
  api_requests "w$worker" PATCH application/apply-patch+yaml
  log_updated
  # What is left: refusals, errors and transfers curl never finished; their reasons in one pass.
  [ -s "$work/unsettled.$worker" ] || return 0
  read_reasons "$work/unsettled.$worker" "$work/reasons.$worker"
  while read -r cb_status cb_exit cb_ns _ cb_reason; do
    settle "$cb_ns" "$cb_status" "$cb_exit" "$cb_reason"
  done <"$work/reasons.$worker"
}

# log_updated: reads the worker's results (one line per namespace: STATUS CURL_EXIT NAMESPACE
# RESPONSE_FILE [ERROR]) in one pass. Each 2xx is logged as updated and recorded in
# $work/outcomes.WORKER here; every other result goes to $work/unsettled.WORKER for settle. Each
# line is flushed on its own, so lines of parallel workers never interleave.
log_updated() {
  awk -v unsettled="$work/unsettled.$worker" -v outcomes="$work/outcomes.$worker" '
    BEGIN { printf "" > unsettled }
    $1 ~ /^2[0-9][0-9]$/ {
      printf "level=info event=namespace namespace=%s result=updated\n", $3
      fflush()
      print $3, "updated" >> outcomes
      next
    }
    { print > unsettled }' "$work/w$worker.results"
}

# outcome NAMESPACE RESULT LEVEL [REASON] [transient]: logs a namespace's result and records it
# in $work/outcomes.WORKER, the record write_secrets counts from; a failure that may pass (no
# answer, 429, 5xx) is noted in $work/transient.WORKER as well.
outcome() {
  if [ -n "${4:-}" ]; then
    quote "$4"
    log "$3" namespace "namespace=$1" "result=$2" "reason=$quoted"
  else
    log "$3" namespace "namespace=$1" "result=$2"
  fi
  printf '%s %s\n' "$1" "$2" >>"$work/outcomes.$worker"
  [ "${5:-}" != transient ] || printf '%s\n' "$1" >>"$work/transient.$worker"
}

# settle NAMESPACE HTTP_STATUS CURL_EXIT REASON: logs and records one namespace's result from its
# status and what its answer said (read_reasons), or curl's error when no answer came.
settle() {
  case $2 in
    2??)
      outcome "$1" updated info
      return 0
      ;;
    000)
      case $3 in
        -) outcome "$1" failed error "$4" transient ;;
        *) outcome "$1" failed error "no answer from the API server (curl exit $3: $4)" transient ;;
      esac
      return 0
      ;;
  esac
  reason=$4
  case $2 in
    403)
      case $reason in
        *"being terminated"*)
          outcome "$1" skipped warn "namespace is terminating"
          return 0
          ;;
      esac
      ;;
    404)
      outcome "$1" skipped warn "namespace no longer exists"
      return 0
      ;;
    409)
      case $reason in
        "Apply failed with"*)
          outcome "$1" conflict error "Secret $secret_name belongs to another field manager (${reason#*: }); left unchanged; to take it over, synthesize with --adopt-existing-secrets (sets ECR_ADOPT_EXISTING=true)"
          return 0
          ;;
      esac
      ;;
  esac
  if is_transient "$2"; then
    outcome "$1" failed error "HTTP $2: $reason" transient
  else
    outcome "$1" failed error "HTTP $2: $reason"
  fi
}

# run_worker N: writes batches N, N+parallelism, N+2*parallelism, ...; every namespace's result
# goes to $work/outcomes.N.
run_worker() {
  worker=$1
  rw_batch=$1
  while [ "$rw_batch" -lt "$batches" ]; do
    curl_batch "$rw_batch"
    rw_batch=$((rw_batch + parallelism))
  done
}

# split_batches: cuts $work/targets into $work/batch.0, batch.1, ... of $batch_size names each;
# sets $batches.
split_batches() {
  batches=$(((target_count + batch_size - 1) / batch_size))
  awk -v size="$batch_size" -v prefix="$work/batch." '
    (NR - 1) % size == 0 { if (file != "") close(file); file = prefix int((NR - 1) / size) }
    { print > file }' "$work/targets"
}

# account_outcomes: the invariant, checked: every namespace of $work/targets gets exactly one
# line "NAMESPACE RESULT" in $work/outcomes (the first one reported). A namespace no worker
# reported (a worker that died: a bug, a killed process) is logged here as failed, with the
# reason. Adds the workers that did not end well ($work/worker-exits) to $lost_workers.
account_outcomes() {
  ao_reason=
  while read -r ao_worker ao_exit; do
    [ "$ao_exit" -ne 0 ] || continue
    lost_workers=$((lost_workers + 1))
    ao_reason="${ao_reason:+$ao_reason, }writer process $ao_worker exit $ao_exit"
  done <"$work/worker-exits"
  : >"$work/outcomes.reported"
  : >"$work/transient"
  while read -r ao_worker ao_exit; do
    cat "$work/outcomes.$ao_worker" >>"$work/outcomes.reported"
    cat "$work/transient.$ao_worker" >>"$work/transient"
  done <"$work/worker-exits"
  awk -v reported="$work/outcomes.reported" -v outcomes="$work/outcomes" '
    BEGIN { printf "" > outcomes }
    FILENAME == reported { if (!($1 in result)) result[$1] = $2; next }
    ($1 in result) { print $1, result[$1] > outcomes; next }
    { print $1; print $1, "failed" > outcomes }' "$work/outcomes.reported" "$work/targets" >"$work/outcomes.missing"
  while read -r ao_ns; do
    quote "no result reported: the process writing it ended early (${ao_reason:-no exit code}); see the log above"
    log error namespace "namespace=$ao_ns" result=failed "reason=$quoted"
  done <"$work/outcomes.missing"
}

# count_outcomes: adds the results of $work/outcomes (and $work/transient) to $updated, $skipped, $conflicts and
# $failed, and the failures that may pass (no answer, 429, 5xx) to $failed_transient.
count_outcomes() {
  awk -v transient_file="$work/transient" '
    FILENAME == transient_file { transient[$1] = 1; next }
    { count[$2]++; if ($2 == "failed" && ($1 in transient)) count["transient"]++ }
    END { print count["updated"] + 0, count["skipped"] + 0, count["conflict"] + 0, count["failed"] + 0, count["transient"] + 0 }' \
    "$work/transient" "$work/outcomes" >"$work/outcome-counts"
  read -r co_updated co_skipped co_conflicts co_failed co_transient <"$work/outcome-counts"
  updated=$((updated + co_updated))
  skipped=$((skipped + co_skipped))
  conflicts=$((conflicts + co_conflicts))
  failed=$((failed + co_failed))
  failed_transient=$((failed_transient + co_transient))
}

# write_secrets [SECRET_FILE]: writes the Secret (the apply patch in SECRET_FILE, else the one
# print_secret makes) into every namespace of $work/targets (through the API access api_access
# set up). Afterwards $work/outcomes holds exactly one line "NAMESPACE RESULT" per target, and the
# results are added to $updated, $skipped, $conflicts, $failed and $failed_transient, the writer
# processes that did not end well to $lost_workers. A batch is one curl process (one
# connection); processes side by side overlap their waits.
write_secrets() {
  if [ -n "${1:-}" ]; then
    cp "$1" "$work/secret.json"
  else
    print_secret >"$work/secret.json"
  fi
  : >"$work/worker-exits"
  split_batches
  workers=$batches
  [ "$workers" -le "$parallelism" ] || workers=$parallelism
  parallelism=$workers
  worker=0
  ws_pids=
  while [ "$worker" -lt "$workers" ]; do
    : >"$work/outcomes.$worker"
    : >"$work/transient.$worker"
    (
      trap - EXIT
      run_worker "$worker"
    ) &
    ws_pids="$ws_pids $!"
    worker=$((worker + 1))
  done
  # Each worker's own exit code: one that dies (a bug, a killed process) is named in the
  # reason of every namespace it left unreported.
  worker=0
  for ws_pid in $ws_pids; do
    ws_exit=0
    wait "$ws_pid" || ws_exit=$?
    printf '%s %s\n' "$worker" "$ws_exit" >>"$work/worker-exits"
    worker=$((worker + 1))
  done
  account_outcomes
  count_outcomes
}

# pause_before_retry: a run that exits 6 (only failures that may pass: no answer, 429, 5xx) waits
# ECR_TRANSIENT_PAUSE_SECONDS [30] first. The Job controller's own backoff before the next Pod
# is 10 s, then 20 s: too short for an API server shedding load or a proxy being replaced, and
# every try that meets the same overload is one of the Job's backoffLimit (2) lost. 30 s plus
# the controller's 10 s and 20 s spread the three tries over about two minutes, well inside the
# 900 s deadline. The sleep runs in the background so that SIGTERM (the deadline, a drain) ends
# the wait at once.
pause_before_retry() {
  [ "$transient_pause" -gt 0 ] || return 0
  log info retry "pause_s=$transient_pause" reason='"only failures that may pass (no answer, 429, 5xx); the Job starts another try after this pause"'
  sleep "$transient_pause" &
  wait "$!" || :
}
