# ecr-write.sh - writes the Secret into every target namespace with server-side apply and logs
# each namespace's result. Sourced by refresh-ecr-credentials.sh; defines functions only.
# shellcheck shell=sh

# print_secret NAMESPACE: one Secret as a YAML document (JSON is YAML). Everything in it is
# either validated above or a namespace name from the API server, so nothing needs escaping.
print_secret() {
  printf -- '---\n{"apiVersion":"v1","kind":"Secret","metadata":{"name":"%s","namespace":"%s",' "$secret_name" "$1"
  printf '"labels":{"app.kubernetes.io/managed-by":"%s","app.kubernetes.io/part-of":"ecr-k8s-credentials","app.kubernetes.io/component":"pull-secret"},' "$FIELD_MANAGER"
  printf '"annotations":{"%s/refreshed-at":"%s","%s/expires-at":"%s","%s/registries":"%s"}},' \
    "$ANNOTATION_PREFIX" "$refreshed_at" "$ANNOTATION_PREFIX" "$expires_at" "$ANNOTATION_PREFIX" "$registry_list"
  printf '"type":"kubernetes.io/dockerconfigjson","data":{".dockerconfigjson":"%s"}}\n' "$docker_config_b64"
}

# kubectl_apply: applies the Secrets on stdin. Server-side apply never reads the object first, so
# `patch` (and `create` the first time) on this one Secret name is all the RBAC it needs. Without
# --force-conflicts the API server refuses to take fields another field manager owns: a Secret
# someone else made is reported as a conflict, not replaced.
# --validate=false: the documents are generated and fixed; kubectl's client-side schema check
# costs ~40 ms of CPU per object, ten times the write itself.
# -v=6 logs one line per request (method, URL, status; never a body), which is how a batch's
# results are matched to namespaces: kubectl's own output names no namespace.
kubectl_apply() {
  if [ "$adopt_existing" = true ]; then
    kubectl apply --server-side "--field-manager=$FIELD_MANAGER" --force-conflicts \
      --validate=false --request-timeout=30s -v=6 -o name -f -
  else
    kubectl apply --server-side "--field-manager=$FIELD_MANAGER" \
      --validate=false --request-timeout=30s -v=6 -o name -f -
  fi
}

# attribute KUBECTL_STDERR: prints "NAMESPACE STATUS [ERROR]" for each Secret kubectl sent, in
# the order sent. STATUS is the HTTP status ("none" if no answer came). kubectl prints its errors
# after the run, in the order of the objects, so the Nth error belongs to the Nth failed request;
# when the counts disagree the ERROR is left out and the caller asks again one by one. Both
# request-log formats are understood: kubectl <= 1.31 `PATCH URL 409 Conflict in 3 milliseconds`,
# kubectl >= 1.32 `"Response" verb="PATCH" url="URL" status="409 Conflict"`.
attribute() {
  awk '
    /round_trippers/ && /\/namespaces\/[^\/]*\/secrets\// {
      match($0, /\/namespaces\/[^\/]*\/secrets\//)
      ns = substr($0, RSTART + 12, RLENGTH - 21)
      rest = substr($0, RSTART + RLENGTH)
      code = ""
      if (match(rest, /status="[0-9][0-9][0-9]/)) code = substr(rest, RSTART + 8, 3)
      else if (match(rest, / [1-5][0-9][0-9] [A-Z]/)) code = substr(rest, RSTART + 1, 3)
      if (!(ns in status)) order[++sent] = ns
      status[ns] = code
      next
    }
    /^(error: )?(Error from server|Apply failed with)/ || /^error: / { errors[++reported] = $0 }
    END {
      failures = 0
      for (i = 1; i <= sent; i++) if (status[order[i]] !~ /^2/) failures++
      nth = 0
      for (i = 1; i <= sent; i++) {
        ns = order[i]
        message = ""
        if (status[ns] !~ /^2/) {
          nth++
          if (failures == reported) message = errors[nth]
        }
        printf "%s %s %s\n", ns, (status[ns] == "" ? "none" : status[ns]), message
      }
    }' "$1"
}

# settle NAMESPACE STATUS ERROR: logs and counts one namespace's result; STATUS 000 means "failed,
# see ERROR". Returns 1 when the result is unknown (no status, or a failure without its message).
settle() {
  case $2 in
    2??)
      log info namespace "namespace=$1" result=updated
      updated=$((updated + 1))
      return 0
      ;;
    none) return 1 ;;
  esac
  case $3 in
    *"being terminated"*) skip "$1" "namespace is terminating" ;;
    *"namespaces \"$1\" not found"*) skip "$1" "namespace no longer exists" ;;
    *"Apply failed with"*)
      st_error=${3#*Apply failed with }
      quote "Secret $secret_name belongs to another field manager (${st_error#*: }); left unchanged; to take it over, synthesize with --adopt-existing-secrets (sets ECR_ADOPT_EXISTING=true)"
      log error namespace "namespace=$1" result=conflict "reason=$quoted"
      conflicts=$((conflicts + 1))
      ;;
    '')
      return 1
      ;;
    *)
      st_error=${3#error: }
      quote "${st_error#Error from server }"
      log error namespace "namespace=$1" result=failed "reason=$quoted"
      failed=$((failed + 1))
      ;;
  esac
}

# apply_one NAMESPACE: applies a single Secret, so kubectl's one error is this namespace's.
apply_one() {
  if print_secret "$1" | kubectl_apply >"$work/out.$worker" 2>"$work/err.$worker"; then
    settle "$1" 200 ''
    return 0
  fi
  # The error's first line: not a request-log line, not a response dump, not a warning.
  ao_error=
  while IFS= read -r ao_read || [ -n "$ao_read" ]; do
    case $ao_read in
      '' | I[0-9][0-9][0-9][0-9]\ * | ' '* | '}'* | ']'* | '{'* | Warning:*) ;;
      *)
        ao_error=$ao_read
        break
        ;;
    esac
  done <"$work/err.$worker"
  settle "$1" 000 "${ao_error:-kubectl apply failed without a message}"
}

# apply_batch NAMESPACE...: one kubectl process for many Secrets; a failed request does not stop
# the ones after it. Namespaces whose result the request log leaves unclear are applied again one
# by one (applying an unchanged Secret again changes nothing).
apply_batch() {
  ab_status=0
  { for ab_ns; do print_secret "$ab_ns"; done; } | kubectl_apply >"$work/out.$worker" 2>"$work/err.$worker" || ab_status=$?
  if [ "$ab_status" -eq 0 ]; then
    ab_written=0
    while IFS= read -r ab_line; do
      case $ab_line in
        secret/*) ab_written=$((ab_written + 1)) ;;
      esac
    done <"$work/out.$worker"
    if [ "$ab_written" -eq "$#" ]; then
      for ab_ns; do
        log info namespace "namespace=$ab_ns" result=updated
      done
      updated=$((updated + $#))
      return 0
    fi
  fi
  attribute "$work/err.$worker" >"$work/attr.$worker"
  ab_unclear=
  ab_line=
  for ab_ns; do
    [ -n "$ab_line" ] || IFS= read -r ab_line <&4 || ab_line=
    case $ab_line in
      "$ab_ns "*)
        ab_rest=${ab_line#"$ab_ns" }
        ab_line=
        settle "$ab_ns" "${ab_rest%% *}" "${ab_rest#* }" || ab_unclear="$ab_unclear $ab_ns"
        ;;
      *) ab_unclear="$ab_unclear $ab_ns" ;;
    esac
  done 4<"$work/attr.$worker"
  for ab_ns in $ab_unclear; do
    apply_one "$ab_ns"
  done
}

# run_worker N: applies batches N, N+parallelism, N+2*parallelism, ... of the target list, then
# leaves its counts in $work/counts.N for the parent.
run_worker() {
  worker=$1
  updated=0
  skipped=0
  conflicts=0
  failed=0
  rw_index=0
  rw_batch=
  rw_count=0
  while IFS= read -r rw_ns <&3; do
    if [ "$((rw_index / batch_size % parallelism))" -eq "$worker" ]; then
      rw_batch="$rw_batch $rw_ns"
      rw_count=$((rw_count + 1))
      if [ "$rw_count" -ge "$batch_size" ]; then
        # shellcheck disable=SC2086 # namespace names never contain spaces
        apply_batch $rw_batch
        rw_batch=
        rw_count=0
      fi
    fi
    rw_index=$((rw_index + 1))
  done 3<"$work/targets"
  if [ -n "$rw_batch" ]; then
    # shellcheck disable=SC2086 # namespace names never contain spaces
    apply_batch $rw_batch
  fi
  printf '%s %s %s %s\n' "$updated" "$skipped" "$conflicts" "$failed" >"$work/counts.$worker"
}

# write_secrets: writes the Secret into every namespace of $work/targets and adds the results to
# $updated, $skipped, $conflicts and $failed; $lost_workers counts workers that left no counts.
# Batches bound kubectl's memory (it holds every object it was given: ~30 KiB each with a
# three-registry config, so ~20 MiB for 250) while keeping process starts (~0.1 s of CPU each) few.
# Two processes side by side overlap their waits on the API server. kubectl's client-side rate
# limit (5 requests/s) does not slow a batch: apply builds a fresh client for every object.
write_secrets() {
  workers=$(((target_count + batch_size - 1) / batch_size))
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
    worker=$((worker + 1))
  done
}
