# shellcheck shell=bash
# bootstrap-iam/calls.sh - how bootstrap-iam.sh speaks and acts: progress and error messages,
# every aws and kubectl call (printed instead of run under --dry-run), the hint that names the
# permission a refused call needed, and the undo list that takes back what a failed run made.
# Sourced by bootstrap-iam.sh; defines functions and the state they share.

# The last call's stdout and stderr; the work directory (made on first use, removed on exit).
OUT=""
ERR=""
WORK=""
KUBE=(kubectl)
# Undo steps of this run, executed last-in first-out if the run fails; COMMITTED ends that.
UNDO=()
COMMITTED=false
# What a --dry-run call "returns": the state the plan assumes (see assume).
DRY_OUT=""
DRY_RC=0
DRY_ERR=""

# ---------------------------------------------------------------------------------------------
# Messages

# Progress on stderr. Silent under --dry-run: there stdout is the plan and nothing happens.
say() {
  if ! $DRY_RUN; then
    printf '%s: %s\n' "$PROG" "$*" >&2
  fi
}

# Bad input: exit 2, before anything was changed.
die_usage() {
  printf '%s: %s\n' "$PROG" "$*" >&2
  exit 2
}

# A failure after the checks: exit 1; the EXIT trap undoes what this run created.
die() {
  printf '%s: error: %s\n' "$PROG" "$*" >&2
  exit 1
}

# The line of an aws/kubectl error that says what went wrong (the CLIs add blank lines and,
# for aws v1 against some endpoints, an XML body).
error_line() {
  local text=$1 line last=""
  while IFS= read -r line; do
    [[ -n $line ]] && last=$line
    if [[ $line == *"An error occurred"* || $line == error:* || $line == "Error from server"* ]]; then
      printf '%s' "$line"
      return 0
    fi
  done <<EOF
$text
EOF
  printf '%s' "$last"
}

# The end of a plan under --dry-run, or the closing line of a real run.
finish() {
  if $DRY_RUN; then
    printf '# end of plan\n'
  elif [[ $# -gt 0 ]]; then
    say "$*"
  fi
}

# confirm_delete WHAT: asks on stdin before deleting (skipped with --yes; printed in a plan).
confirm_delete() {
  if $DRY_RUN; then
    $YES || printf '# would ask on stdin to confirm deleting: %s\n' "$1"
  elif ! $YES; then
    printf '%s: about to delete %s.\nType "yes" to continue: ' "$PROG" "$1" >&2
    local answer=""
    if ! IFS= read -r answer || [[ $answer != yes && $answer != y ]]; then
      printf '\n' >&2
      die_usage "not confirmed; nothing was deleted (pass --yes to skip the question)"
    fi
  fi
}

require_aws_cli() {
  if ! $DRY_RUN && ! command -v aws >/dev/null 2>&1; then
    die_usage "aws (the AWS CLI) not found on PATH: install it (v1 >= 1.29 or v2)"
  fi
}

# ---------------------------------------------------------------------------------------------
# Calls. Every aws and kubectl invocation goes through aws_call / kube_call, so --dry-run can
# print the whole plan instead. Results land in OUT (stdout) and ERR (stderr).

# Quotes a word for the printed plan, so its lines can be pasted into a shell.
shell_word() {
  case $1 in
    "" | *[!A-Za-z0-9_./:=,@+%-]*)
      case $1 in
        *"'"*) printf '%q' "$1" ;;
        *) printf "'%s'" "$1" ;;
      esac
      ;;
    *) printf '%s' "$1" ;;
  esac
}

plan_line() {
  local word line=""
  for word in "$@"; do
    line="$line${line:+ }$(shell_word "$word")"
  done
  printf '%s\n' "$line"
}

# Under --dry-run: what the plan assumes about AWS and the cluster, and that nothing is run.
plan_header() {
  $DRY_RUN || return 0
  printf '# Assumes: %s.\n' "$1"
  printf '# %s %s%s --dry-run: %s\n' "$PROG" "$COMMAND" "${2:-}" "${3:-nothing below is run.}"
}

# In --dry-run, the next call returns this (stdout, exit code, stderr) instead of running.
assume() {
  DRY_OUT=$1
  DRY_RC=${2:-0}
  DRY_ERR=${3:-}
}

# In --dry-run, the next call fails as if AWS had no such object (OPERATION names the call).
assume_missing() {
  assume "" 254 "An error occurred (NoSuchEntity) when calling the $1 operation: (assumed)"
}

dry_result() {
  OUT=$DRY_OUT
  ERR=$DRY_ERR
  local rc=$DRY_RC
  assume "" 0 ""
  return "$rc"
}

ensure_workdir() {
  if [[ -z $WORK ]]; then
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/bootstrap-iam.XXXXXX")
  fi
}

aws_call() {
  if $DRY_RUN; then
    plan_line aws "$@" --region "$REGION"
    dry_result
    return
  fi
  ensure_workdir
  local rc=0
  OUT=$(aws "$@" --region "$REGION" 2>"$WORK/stderr") || rc=$?
  ERR=$(cat "$WORK/stderr")
  return "$rc"
}

kube_call() {
  if $DRY_RUN; then
    plan_line "${KUBE[@]}" "$@"
    dry_result
    return
  fi
  ensure_workdir
  local rc=0
  OUT=$("${KUBE[@]}" "$@" 2>"$WORK/stderr" </dev/null) || rc=$?
  ERR=$(cat "$WORK/stderr")
  return "$rc"
}

# kube_call with $1 on stdin (a manifest that may hold the key: it goes through a pipe).
kube_call_stdin() {
  local input=$1
  shift
  if $DRY_RUN; then
    printf '%s <<EOF\n%s\nEOF\n' "$(plan_line "${KUBE[@]}" "$@")" "$input"
    dry_result
    return
  fi
  ensure_workdir
  local rc=0
  OUT=$(printf '%s\n' "$input" | "${KUBE[@]}" "$@" 2>"$WORK/stderr") || rc=$?
  ERR=$(cat "$WORK/stderr")
  return "$rc"
}

# ---------------------------------------------------------------------------------------------
# Hints. ACTION says what was tried and ends with the permission it needs in parentheses, e.g.
# "put the bucket policy of B (s3:PutBucketPolicy)": a refusal names that service's right.

aws_error_hint() {
  local action=$1 line
  line=$(error_line "$ERR")
  case $ERR in
    *"Unable to locate credentials"* | *NoCredentialProviders*)
      printf 'no AWS credentials found while trying to %s: configure them (aws configure, AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)' "$action"
      ;;
    *InvalidClientTokenId* | *SignatureDoesNotMatch* | *ExpiredToken* | *UnrecognizedClient*)
      printf 'AWS rejected your credentials while trying to %s: %s. Refresh them (aws sso login, a new session token) or pick another AWS_PROFILE' "$action" "$line"
      ;;
    *AccessDenied* | *UnauthorizedOperation* | *"not authorized"*)
      printf '%s (caller %s) may not %s: %s. Run with %s' "${CALLER_ARN:-your AWS identity}" "${ACCOUNT_ID:-?}" "$action" "$line" "$(needed_rights "$action")"
      ;;
    *"Could not connect to the endpoint URL"* | *"Name or service not known"* | *"nodename nor servname"*)
      printf 'cannot reach AWS to %s in region %s: %s. Check --region "%s" and your network' "$action" "$REGION" "$line" "$REGION"
      ;;
    *)
      printf 'failed to %s: %s' "$action" "$line"
      ;;
  esac
}

# Which credentials the refused ACTION needs, by the service of the permission it names.
needed_rights() {
  local permission=""
  [[ $1 =~ \(([a-z0-9]+:[A-Za-z]+)\) ]] && permission=${BASH_REMATCH[1]}
  case $permission in
    s3:*)
      printf 'credentials that may manage S3 bucket %s (%s; see README: "Keyless: web identity")' "$BUCKET" "$permission"
      ;;
    sts:*)
      printf 'credentials STS accepts for %s (any IAM identity may call it unless a policy denies it)' "$permission"
      ;;
    iam:*Role* | iam:*OpenIDConnect*)
      printf 'credentials that may manage IAM roles and OIDC providers (%s; see README: "Keyless: web identity")' "$permission"
      ;;
    *)
      printf 'credentials that may manage IAM users (see README: "Who may run bootstrap-iam.sh")'
      ;;
  esac
}

kube_error_hint() {
  local action=$1 line
  line=$(error_line "$ERR")
  case $ERR in
    *Forbidden* | *forbidden*)
      printf 'the cluster (context %s) does not allow you to %s: %s. Use a context with rights on Secrets in namespace %s' "$(context_label)" "$action" "$line" "$NAMESPACE"
      ;;
    *"Unable to connect"* | *"connection refused"* | *"no such host"* | *"i/o timeout"*)
      printf 'cannot reach the cluster of context %s to %s: %s' "$(context_label)" "$action" "$line"
      ;;
    *)
      printf 'failed to %s (context %s): %s' "$action" "$(context_label)" "$line"
      ;;
  esac
}

context_label() {
  if [[ -n $CONTEXT ]]; then
    printf '"%s"' "$CONTEXT"
  else
    printf '"%s" (current)' "${CURRENT_CONTEXT:-?}"
  fi
}

# ---------------------------------------------------------------------------------------------
# Undo. Each step is "FUNCTION" or "FUNCTION ARG" (ARG without spaces: an id, a name, a key);
# the parts define the undo_* functions. Steps run last-in first-out when the run fails, and
# only steps for what this run created or changed are ever pushed.

push_undo() { UNDO+=("$*"); }

run_undo() {
  local i step
  set +e
  say "undoing what this run changed"
  i=${#UNDO[@]}
  while [[ $i -gt 0 ]]; do
    i=$((i - 1))
    step=${UNDO[$i]}
    if [[ $step == *" "* ]]; then
      "${step%% *}" "${step#* }"
    else
      "$step"
    fi
  done
  UNDO=()
}

on_exit() {
  local rc=$?
  if [[ $rc -ne 0 && $COMMITTED == false && ${#UNDO[@]} -gt 0 ]]; then
    run_undo
  fi
  if [[ -n $WORK ]]; then
    rm -rf "$WORK"
  fi
  exit "$rc"
}
