# ecr-service-accounts.sh - ServiceAccounts that carry the pull secret (ECR_PATCH_SERVICE_ACCOUNTS):
# each named ServiceAccount in every target namespace lists the Secret in imagePullSecrets, so
# Kubernetes adds it to every pod that runs as that account. Sourced by refresh-ecr-credentials.sh;
# defines functions only.
#
# imagePullSecrets is an atomic list: a server-side or strategic-merge write of [ours] would
# replace the entries others put there. So each account is read (a GET by name, which is all
# RBAC allows), and only an account without the entry is patched, with a JSON patch that appends
# to the end and is guarded by a `test` of the resourceVersion that was read: if anybody changed
# the account in between, the patch is refused and the account is read again. An account that
# already lists the Secret is not written at all. Reads and patches go out in batches of
# ECR_APPLY_BATCH_SIZE through one curl process each (api_requests, as the Secret writes).
# shellcheck shell=sh

readonly SA_PATCH_ATTEMPTS=3
# What a read needs of an account: "FILE RESOURCE_VERSION ENTRIES HAS_OURS" (ENTRIES: length of
# imagePullSecrets, HAS_OURS: true when the Secret is among them).
readonly SA_FIELDS='"\(input_filename) \(.metadata.resourceVersion) \(.imagePullSecrets | length) \([.imagePullSecrets[]?.name] | index($secret) != null)"'

# account_result NAMESPACE NAME RESULT LEVEL [REASON] [transient]: logs one account's result and
# records it in $work/sa-outcomes ("NAMESPACE NAME RESULT", plus "transient" for a failure that
# may pass).
account_result() {
  if [ -n "${5:-}" ]; then
    quote "$5"
    log "$4" serviceaccount "namespace=$1" "name=$2" "result=$3" "reason=$quoted"
  else
    log "$4" serviceaccount "namespace=$1" "name=$2" "result=$3"
  fi
  printf '%s %s %s %s\n' "$1" "$2" "$3" "${6:-}" >>"$work/sa-outcomes"
}

# account_failed NAMESPACE NAME WHAT HTTP_STATUS CURL_EXIT REASON: a read or patch that did not
# succeed, logged as failed with what the answer said (read_reasons) or curl's error.
account_failed() {
  case $4 in
    000)
      case $5 in
        -) af_reason="$3: $6" ;;
        *) af_reason="$3: no answer from the API server (curl exit $5: $6)" ;;
      esac
      ;;
    *) af_reason="$3: HTTP $4: $6" ;;
  esac
  if is_transient "$4"; then
    account_result "$1" "$2" failed error "$af_reason" transient
  else
    account_result "$1" "$2" failed error "$af_reason"
  fi
}

# read_accounts: GETs every account of $work/sa-chunk ("NAMESPACE NAME" lines). Accounts that
# already list the Secret are logged unchanged; those to patch go to $work/sa-patch as
# "NAMESPACE NAME RESOURCE_VERSION ENTRIES" (ENTRIES: length of imagePullSecrets); every other
# answer to $work/sa-unread as "STATUS CURL_EXIT NAMESPACE/NAME RESPONSE_FILE [ERROR]".
read_accounts() {
  awk '{ printf "%s/%s /api/v1/namespaces/%s/serviceaccounts/%s\n", $1, $2, $1, $2 }' "$work/sa-chunk" >"$work/sa-read.requests"
  api_requests sa-read GET ''
  : >"$work/sa-read.fields"
  awk '$1 == 200 { print $4 }' "$work/sa-read.results" >"$work/sa-read.ok"
  # One jq for the whole batch. A body it cannot read (truncated, not JSON) stops it: then one
  # jq per body, so that only that account is failed, with its body's reason.
  if [ -s "$work/sa-read.ok" ] && ! tr '\n' '\0' <"$work/sa-read.ok" |
    xargs -0 jq -r --arg secret "$secret_name" "$SA_FIELDS" >"$work/sa-read.fields" 2>/dev/null; then
    : >"$work/sa-read.fields"
    while IFS= read -r ra_file; do
      jq -r --arg secret "$secret_name" "$SA_FIELDS" "$ra_file" >>"$work/sa-read.fields" 2>/dev/null || :
    done <"$work/sa-read.ok"
  fi
  awk -v fields="$work/sa-read.fields" -v patch="$work/sa-patch" -v unread="$work/sa-unread" -v outcomes="$work/sa-outcomes" '
    BEGIN { printf "" > patch; printf "" > unread }
    FILENAME == fields { rv[$1] = $2; entries[$1] = $3; has[$1] = $4; next }
    $1 == 200 && ($4 in rv) && rv[$4] != "null" {
      split($3, account, "/")
      if (has[$4] == "true") {
        printf "level=info event=serviceaccount namespace=%s name=%s result=unchanged\n", account[1], account[2]
        fflush()
        print account[1], account[2], "unchanged" >> outcomes
      } else print account[1], account[2], rv[$4], entries[$4] > patch
      next
    }
    { print > unread }' "$work/sa-read.fields" "$work/sa-read.results"
}

# patch_accounts: appends the Secret to every account of $work/sa-patch with a JSON patch that
# first tests the resourceVersion read. Patched accounts are logged; the rest go to
# $work/sa-unpatched as "STATUS CURL_EXIT NAMESPACE/NAME RESPONSE_FILE [ERROR]".
patch_accounts() {
  : >"$work/sa-unpatched"
  [ -s "$work/sa-patch" ] || return 0
  mkdir -p "$work/sa-bodies"
  awk -v secret="$secret_name" -v dir="$work/sa-bodies" '
    {
      body = dir "/" NR
      if ($4 == 0) add = "{\"op\":\"add\",\"path\":\"/imagePullSecrets\",\"value\":[{\"name\":\"" secret "\"}]}"
      else add = "{\"op\":\"add\",\"path\":\"/imagePullSecrets/-\",\"value\":{\"name\":\"" secret "\"}}"
      printf "[{\"op\":\"test\",\"path\":\"/metadata/resourceVersion\",\"value\":\"%s\"},%s]\n", $3, add > body
      close(body)
      printf "%s/%s /api/v1/namespaces/%s/serviceaccounts/%s %s\n", $1, $2, $1, $2, body
    }' "$work/sa-patch" >"$work/sa-write.requests"
  api_requests sa-write PATCH application/json-patch+json
  awk -v unpatched="$work/sa-unpatched" -v outcomes="$work/sa-outcomes" '
    $1 ~ /^2[0-9][0-9]$/ {
      split($3, account, "/")
      printf "level=info event=serviceaccount namespace=%s name=%s result=patched\n", account[1], account[2]
      fflush()
      print account[1], account[2], "patched" >> outcomes
      next
    }
    { print > unpatched }' "$work/sa-write.results"
}

# settle_accounts [WAIT_DEADLINE]: the reads and patches that did not succeed. A missing account
# is skipped (never created), or read again until WAIT_DEADLINE; a patch refused with 409 or 422
# (the account changed since it was read, so the `test` failed) is read again, SA_PATCH_ATTEMPTS
# times in all; anything else is failed with the answer's reason. Accounts to read again go to $work/sa-again.
settle_accounts() {
  read_reasons "$work/sa-unread" "$work/sa-unread.reasons"
  read_reasons "$work/sa-unpatched" "$work/sa-unpatched.reasons"
  while read -r sa_status sa_exit sa_key _ sa_reason; do
    sa_ns=${sa_key%/*}
    sa_name=${sa_key#*/}
    if [ "$sa_status" = 404 ]; then
      if [ "$(date -u +%s)" -lt "$1" ]; then
        printf '%s %s\n' "$sa_ns" "$sa_name" >>"$work/sa-again"
      else
        account_result "$sa_ns" "$sa_name" skipped warn "ServiceAccount $sa_name not found; not created"
      fi
    elif [ "$sa_status" = 200 ]; then
      # A 200 whose body jq could not read (truncated, not JSON).
      account_result "$sa_ns" "$sa_name" failed error "read: unreadable answer: $sa_reason"
    else
      account_failed "$sa_ns" "$sa_name" read "$sa_status" "$sa_exit" "$sa_reason"
    fi
  done <"$work/sa-unread.reasons"
  while read -r sa_status sa_exit sa_key _ sa_reason; do
    sa_ns=${sa_key%/*}
    sa_name=${sa_key#*/}
    if [ "$sa_status" = 404 ]; then
      account_result "$sa_ns" "$sa_name" skipped warn "ServiceAccount $sa_name deleted before the patch; not created"
    elif [ "$sa_status" = 409 ] || [ "$sa_status" = 422 ] && [ "$pa_attempt" -lt "$SA_PATCH_ATTEMPTS" ]; then
      # A `test` that fails is a 422 whose Status names no cause ("the server rejected our
      # request due to an error in our request"), like any other invalid patch: read again and
      # retry; an account that still refuses after SA_PATCH_ATTEMPTS tries is failed below.
      printf '%s %s\n' "$sa_ns" "$sa_name" >>"$work/sa-again"
    else
      account_failed "$sa_ns" "$sa_name" patch "$sa_status" "$sa_exit" "$sa_reason"
    fi
  done <"$work/sa-unpatched.reasons"
}

# patch_service_accounts [WAIT_SECONDS]: for every namespace of $work/targets; in watch mode the
# caller waits up to WAIT_SECONDS for the `default` ServiceAccount, which appears a moment after
# its namespace. Every account ends with one result line (patched | unchanged | skipped | failed);
# the counts go to $accounts_patched, $accounts_unchanged, $accounts_skipped and
# $accounts_failed (the ones that may pass also to $failed_transient), and $accounts_summary.
patch_service_accounts() {
  accounts_patched=0
  accounts_unchanged=0
  accounts_skipped=0
  accounts_failed=0
  accounts_summary=
  [ -n "$patch_service_account_names" ] || return 0
  awk -v names="$patch_service_account_names" 'BEGIN { count = split(names, name, " ") }
    { for (i = 1; i <= count; i++) print $1, name[i] }' "$work/targets" >"$work/sa-wanted"
  pa_deadline=$(($(date -u +%s) + ${1:-0}))
  pa_attempt=1
  : >"$work/sa-outcomes"
  while [ -s "$work/sa-wanted" ]; do
    : >"$work/sa-again"
    pa_chunks=$(awk -v size="$batch_size" -v prefix="$work/sa-chunk." '
      (NR - 1) % size == 0 { if (file != "") close(file); file = prefix int((NR - 1) / size) }
      { print > file }
      END { print int((NR + size - 1) / size) }' "$work/sa-wanted")
    pa_chunk=0
    while [ "$pa_chunk" -lt "$pa_chunks" ]; do
      mv "$work/sa-chunk.$pa_chunk" "$work/sa-chunk"
      read_accounts
      patch_accounts
      settle_accounts "$pa_deadline"
      pa_chunk=$((pa_chunk + 1))
    done
    mv "$work/sa-again" "$work/sa-wanted"
    pa_attempt=$((pa_attempt + 1))
    [ ! -s "$work/sa-wanted" ] || sleep 1
  done
  awk '{ count[$3]++; if ($4 == "transient") count["transient"]++ }
    END { print count["patched"] + 0, count["unchanged"] + 0, count["skipped"] + 0, count["failed"] + 0, count["transient"] + 0 }' \
    "$work/sa-outcomes" >"$work/sa-counts"
  read -r accounts_patched accounts_unchanged accounts_skipped accounts_failed pa_transient <"$work/sa-counts"
  failed_transient=$((failed_transient + pa_transient))
  accounts_summary="accounts_patched=$accounts_patched accounts_unchanged=$accounts_unchanged accounts_skipped=$accounts_skipped accounts_failed=$accounts_failed"
}
