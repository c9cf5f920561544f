# ecr-write.sh - writes the Secret into every target namespace with server-side apply and logs
# each namespace's result. Sourced by refresh-ecr-credentials.sh; defines functions only.
# shellcheck shell=sh

# Requests one curl process has in flight at once, multiplexed over one HTTP/2 connection.
readonly API_STREAMS=50

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

# curl_settings: curl's config lines shared by every request of a run. `silent` alone leaves the
# progress meter of --parallel on.
curl_settings() {
  printf '%s\n' "$api_config" silent no-progress-meter http2 parallel "parallel-max = $API_STREAMS" 'request = PATCH' \
    'header = "Content-Type: application/apply-patch+yaml"' 'header = "Accept: application/json"' \
    'header = "Expect:"' 'connect-timeout = 10' 'max-time = 30' "retry = $API_RETRIES" \
    retry-all-errors "retry-max-time = $API_RETRY_SECONDS" \
    'write-out = "%{http_code} %{exitcode} %{filename_effective} %{errormsg}\n"'
}

# curl_batch N: one curl process sends one server-side apply (a PATCH of the Secret with the
# field manager, and force=true to adopt) per namespace of $work/batch.N and writes each
# response to its own file; then each namespace's result is read from its own status and body.
# Server-side apply never reads the object first, so `patch` (and `create` the first time) on
# this one Secret name is all the RBAC it needs. Without force the API server refuses to take
# fields another field manager owns: a Secret someone else made is reported as a conflict, not
# replaced. The worker's files are reused from batch to batch: the responses go to one file per
# position in the batch, emptied first, so memory stays at one batch's responses per worker.
curl_batch() {
  cb_dir=$work/responses.$worker
  {
    curl_settings
    awk -v server="$api_server" -v secret="$secret_name" -v manager="$FIELD_MANAGER" -v force="$adopt_existing" \
      -v dir="$cb_dir" -v body="$work/secret.json" '
      {
        response = dir "/" NR
        printf "" > response
        close(response)
        printf "url = \"%s/api/v1/namespaces/%s/secrets/%s?fieldManager=%s&force=%s\"\noutput = \"%s\"\nupload-file = \"%s\"\n",
          server, $1, secret, manager, force, response, body
      }' "$work/batch.$1"
  } | curl -q --config - >"$work/results.$worker" 2>"$work/curl.err.$worker" || true
  log_updated "$1"
  # What is left is rare: refusals, errors and transfers curl never finished.
  while read -r cb_status cb_exit cb_ns cb_response cb_error; do
    [ "$cb_response" != - ] || cb_error="no result from curl: $(last_line "$work/curl.err.$worker")"
    settle "$cb_ns" "$cb_status" "$cb_exit" "$cb_error" "$cb_response"
  done <"$work/unsettled.$worker"
}

# log_updated N: reads curl's results for batch N (one line per finished request: STATUS
# CURL_EXIT RESPONSE_FILE [ERROR]) in one pass. Each 2xx is logged as updated and counted here;
# every other result, and every namespace of the batch without a result (as 000 with response
# "-"), goes to $work/unsettled.WORKER as "STATUS CURL_EXIT NAMESPACE RESPONSE_FILE [ERROR]" for
# settle. Each line is flushed on its own, so lines of parallel workers never interleave.
log_updated() {
  awk -v unsettled="$work/unsettled.$worker" -v count="$work/updated.$worker" -v outcomes="$work/outcomes" '
    FNR == NR { names[FNR] = $1; next }
    {
      position = $3
      sub(/.*\//, "", position)
      ns = names[position]
      answered[position] = 1
      if ($1 ~ /^2[0-9][0-9]$/) {
        printf "level=info event=namespace namespace=%s result=updated\n", ns
        fflush()
        print ns, "updated" >> outcomes
        updated++
        next
      }
      line = $0
      sub(/^[^ ]* [^ ]* [^ ]*/, "", line)
      print $1, $2, ns, $3 line > unsettled
    }
    END {
      printf "" > unsettled
      for (position in names) if (!(position in answered)) print "000 1", names[position], "-" > unsettled
      print updated + 0 > count
    }' "$work/batch.$1" "$work/results.$worker"
  read -r lu_count <"$work/updated.$worker"
  updated=$((updated + lu_count))
}

# settle NAMESPACE HTTP_STATUS CURL_EXIT ERROR RESPONSE_FILE: logs and counts one namespace's
# result, and records it in $work/outcomes ("NAMESPACE RESULT") for the watcher.
settle() {
  settle_result "$@"
  printf '%s %s\n' "$1" "$settle_outcome" >>"$work/outcomes"
}

settle_result() {
  case $2 in
    2??)
      settle_outcome=updated
      log info namespace "namespace=$1" result=updated
      updated=$((updated + 1))
      return 0
      ;;
    000)
      quote "no answer from the API server (curl exit $3: $4)"
      settle_outcome=failed
      log error namespace "namespace=$1" result=failed "reason=$quoted"
      failed=$((failed + 1))
      return 0
      ;;
  esac
  st_message=
  [ ! -f "$5" ] || st_message=$(status_message "$5")
  case $2 in
    403)
      case $st_message in
        *"being terminated"*)
          settle_outcome=skipped
          skip "$1" "namespace is terminating"
          return 0
          ;;
      esac
      ;;
    404)
      settle_outcome=skipped
      skip "$1" "namespace no longer exists"
      return 0
      ;;
    409)
      case $st_message in
        "Apply failed with"*)
          quote "Secret $secret_name belongs to another field manager (${st_message#*: }); left unchanged; to take it over, synthesize with --adopt-existing-secrets (sets ECR_ADOPT_EXISTING=true)"
          settle_outcome=conflict
          log error namespace "namespace=$1" result=conflict "reason=$quoted"
          conflicts=$((conflicts + 1))
          return 0
          ;;
      esac
      ;;
  esac
  quote "HTTP $2: ${st_message:-no Status message}"
  settle_outcome=failed
  log error namespace "namespace=$1" result=failed "reason=$quoted"
  failed=$((failed + 1))
}

# run_worker N: writes batches N, N+parallelism, N+2*parallelism, ... then leaves its counts in
# $work/counts.N for the parent.
run_worker() {
  updated=0
  skipped=0
  conflicts=0
  failed=0
  worker=$1
  rw_batch=$1
  mkdir -p "$work/responses.$worker"
  while [ "$rw_batch" -lt "$batches" ]; do
    curl_batch "$rw_batch"
    rw_batch=$((rw_batch + parallelism))
  done
  printf '%s %s %s %s\n' "$updated" "$skipped" "$conflicts" "$failed" >"$work/counts.$1"
}

# split_batches: cuts $work/targets into $work/batch.0, batch.1, ... of $batch_size names each;
# sets $batches.
split_batches() {
  batches=$(((target_count + batch_size - 1) / batch_size))
  awk -v size="$batch_size" -v prefix="$work/batch." '
    (NR - 1) % size == 0 { if (file != "") close(file); file = prefix int((NR - 1) / size) }
    { print > file }' "$work/targets"
}

# write_secrets: writes the Secret into every namespace of $work/targets (through the API access
# api_access set up) and adds the results to $updated, $skipped, $conflicts and $failed;
# $lost_workers counts workers that left no counts. A batch is one curl process (one
# connection); processes side by side overlap their waits.
write_secrets() {
  print_secret >"$work/secret.json"
  split_batches
  workers=$batches
  [ "$workers" -le "$parallelism" ] || workers=$parallelism
  parallelism=$workers
  worker=0
  while [ "$worker" -lt "$workers" ]; do
    (
      trap - EXIT
      run_worker "$worker"
    ) &
    worker=$((worker + 1))
  done
  wait

  lost_workers=0
  worker=0
  while [ "$worker" -lt "$workers" ]; do
    if [ -f "$work/counts.$worker" ] && read -r ws_updated ws_skipped ws_conflicts ws_failed <"$work/counts.$worker"; then
      updated=$((updated + ws_updated))
      skipped=$((skipped + ws_skipped))
      conflicts=$((conflicts + ws_conflicts))
      failed=$((failed + ws_failed))
    else
      lost_workers=$((lost_workers + 1))
    fi
    rm -f "$work/counts.$worker"
    worker=$((worker + 1))
  done
}
