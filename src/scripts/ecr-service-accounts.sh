# ecr-service-accounts.sh - ServiceAccounts that carry the pull secret (ECR_PATCH_SERVICE_ACCOUNTS):
# each named ServiceAccount in every target namespace lists the Secret in imagePullSecrets, so
# Kubernetes adds it to every pod that runs as that account. Sourced by refresh-ecr-credentials.sh;
# defines functions only.
#
# imagePullSecrets is an atomic list: a server-side or strategic-merge write of [ours] would
# replace the entries others put there. So each account is read (one kubectl for all of them),
# and only an account without the entry is patched, with a JSON patch that appends to the end and
# is guarded by a `test` of the resourceVersion that was read: if anybody changed the account in
# between, the patch is refused and the account is read again. An account that already lists
# the Secret is not written at all.
# shellcheck shell=sh

readonly SA_PATCH_ATTEMPTS=3

# read_service_accounts FILE_OF_"NAMESPACE NAME"_LINES: one line per existing account,
# "NAMESPACE NAME RESOURCE_VERSION ENTRIES HAS_OURS" (ENTRIES: length of imagePullSecrets).
read_service_accounts() {
  awk '{ printf "{\"apiVersion\":\"v1\",\"kind\":\"ServiceAccount\",\"metadata\":{\"name\":\"%s\",\"namespace\":\"%s\"}}\n", $2, $1 }' "$1" |
    kubectl get -f - --ignore-not-found -o json 2>"$work/sa.err" |
    jq -r --arg secret "$secret_name" '
      (if .kind == "List" then .items[] else . end)
      | "\(.metadata.namespace) \(.metadata.name) \(.metadata.resourceVersion) \(.imagePullSecrets | length) \([.imagePullSecrets[]?.name] | index($secret) != null)"' \
      2>>"$work/sa.err" || true
}

# patch_service_account NAMESPACE NAME RESOURCE_VERSION ENTRIES: appends the Secret; returns 2 when
# the account changed since it was read (read it again), 1 on any other failure.
patch_service_account() {
  if [ "$4" -eq 0 ]; then
    psa_op="{\"op\":\"add\",\"path\":\"/imagePullSecrets\",\"value\":[{\"name\":\"$secret_name\"}]}"
  else
    psa_op="{\"op\":\"add\",\"path\":\"/imagePullSecrets/-\",\"value\":{\"name\":\"$secret_name\"}}"
  fi
  if kubectl patch serviceaccount "$2" -n "$1" --type=json \
    -p "[{\"op\":\"test\",\"path\":\"/metadata/resourceVersion\",\"value\":\"$3\"},$psa_op]" \
    >/dev/null 2>"$work/sa-patch.err"; then
    return 0
  fi
  case $(last_line "$work/sa-patch.err") in
    *"test operation"* | *"testing value"* | *"Conflict"* | *"the object has been modified"*) return 2 ;;
  esac
  return 1
}

# patch_service_accounts [WAIT_SECONDS]: for every namespace of $work/targets. A missing account
# is logged as skipped (never created); in watch mode the caller waits up to WAIT_SECONDS for
# the `default` ServiceAccount, which appears a moment after its namespace. Adds failures to
# $failed.
patch_service_accounts() {
  [ -n "$patch_service_account_names" ] || return 0
  awk -v names="$patch_service_account_names" 'BEGIN { count = split(names, name, " ") }
    { for (i = 1; i <= count; i++) print $1, name[i] }' "$work/targets" >"$work/sa-wanted"
  pa_deadline=$(($(date -u +%s) + ${1:-0}))
  pa_attempt=1
  while [ -s "$work/sa-wanted" ]; do
    read_service_accounts "$work/sa-wanted" >"$work/sa-found"
    : >"$work/sa-again"
    while read -r pa_ns pa_name pa_rv pa_entries pa_has; do
      if [ "$pa_has" = true ]; then
        log info serviceaccount "namespace=$pa_ns" "name=$pa_name" result=unchanged
      elif patch_service_account "$pa_ns" "$pa_name" "$pa_rv" "$pa_entries"; then
        log info serviceaccount "namespace=$pa_ns" "name=$pa_name" result=patched
      elif [ $? -eq 2 ] && [ "$pa_attempt" -lt "$SA_PATCH_ATTEMPTS" ]; then
        printf '%s %s\n' "$pa_ns" "$pa_name" >>"$work/sa-again"
      else
        quote "$(last_line "$work/sa-patch.err")"
        log error serviceaccount "namespace=$pa_ns" "name=$pa_name" result=failed "reason=$quoted"
        failed=$((failed + 1))
      fi
    done <"$work/sa-found"
    # Wanted but not found: missing (or not readable, see the reason); one awk finds them all.
    awk 'FNR == NR { found[$1 " " $2] = 1; next } !(($1 " " $2) in found)' \
      "$work/sa-found" "$work/sa-wanted" >"$work/sa-missing"
    while read -r pa_ns pa_name; do
      if [ "$(date -u +%s)" -lt "$pa_deadline" ]; then
        printf '%s %s\n' "$pa_ns" "$pa_name" >>"$work/sa-again"
        continue
      fi
      quote "ServiceAccount $pa_name not found$([ ! -s "$work/sa.err" ] || printf ': %s' "$(last_line "$work/sa.err")"); not created"
      log warn serviceaccount "namespace=$pa_ns" "name=$pa_name" result=skipped "reason=$quoted"
    done <"$work/sa-missing"
    mv "$work/sa-again" "$work/sa-wanted"
    pa_attempt=$((pa_attempt + 1))
    [ ! -s "$work/sa-wanted" ] || sleep 1
  done
}
