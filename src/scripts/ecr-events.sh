# ecr-events.sh - a Kubernetes Event on the run's Job when the run ends with failures or
# conflicts, so `kubectl describe job`, `kubectl get events` and event exporters show it without
# anyone reading the log. Sourced by refresh-ecr-credentials.sh; defines functions only.
# shellcheck shell=sh

readonly EVENT_REASON=RefreshIncomplete

# event_message: the counts of a run that left namespaces without a fresh Secret, in $message.
event_message() {
  message="$((conflicts + failed)) of $selected selected namespace(s) not refreshed: $failed failed, $conflicts conflicted (another field manager owns the Secret; see --adopt-existing-secrets); $updated updated, $skipped skipped"
  if [ "$lost_workers" -gt 0 ]; then
    message="$message; $lost_workers writer process(es) ended early, their unreported namespaces counted as failed"
  fi
  message="$message. The pod log has one result=failed or result=conflict line per namespace."
}

# report_run_event: creates a Warning Event about the Job named in ECR_JOB_NAME (the pod's
# batch.kubernetes.io/job-name label, through the downward API). The Job's uid comes the same
# way: `kubectl describe job` lists only events whose involvedObject carries it. A run outside a
# Job (by hand) only logs that it made none. Whatever happens here, the exit code stays the
# run's: the Event points at the problem, the log and the exit code record it.
report_run_event() {
  re_job=${ECR_JOB_NAME:-}
  re_namespace=${ECR_POD_NAMESPACE:-}
  if [ -z "$re_job" ] || [ -z "$re_namespace" ]; then
    log info run_event result=skipped reason='"not running in a Job (ECR_JOB_NAME or ECR_POD_NAMESPACE unset)"'
    return 0
  fi
  event_message
  re_now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  re_body=$work/event.json
  re_out=$work/event.out
  if ! jq -n --arg job "$re_job" --arg uid "${ECR_JOB_UID:-}" --arg namespace "$re_namespace" \
    --arg reason "$EVENT_REASON" --arg message "$message" --arg now "$re_now" \
    --arg component "$FIELD_MANAGER" --arg instance "${HOSTNAME:-}" '{
      apiVersion: "v1",
      kind: "Event",
      metadata: {generateName: ($job + "."), namespace: $namespace},
      involvedObject: ({apiVersion: "batch/v1", kind: "Job", name: $job, namespace: $namespace}
        + (if $uid == "" then {} else {uid: $uid} end)),
      type: "Warning",
      reason: $reason,
      message: $message,
      source: {component: $component},
      reportingComponent: $component,
      reportingInstance: $instance,
      firstTimestamp: $now,
      lastTimestamp: $now,
      count: 1
    }' >"$re_body" 2>"$re_out"; then
    quote "$(last_line "$re_out")"
    log warn run_event result=failed "reason=$quoted"
    return 0
  fi
  if kubectl create -f - -o name <"$re_body" >"$re_out" 2>&1; then
    log info run_event result=created "job=$re_job" "event=$(last_line "$re_out")" "reason=$EVENT_REASON"
  else
    quote "$(last_line "$re_out")"
    log warn run_event result=failed "job=$re_job" "reason=$quoted"
  fi
}
