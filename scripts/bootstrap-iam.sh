#!/usr/bin/env bash
# Creates, rotates and deletes the AWS IAM user whose access key the ECR credential refresh
# uses, and puts that key into the cluster as the Secret the generated bundle reads.
#
# Runs on users' machines (macOS ships bash 3.2, BSD tools): no associative arrays, no
# ${var,,}, no mapfile, no GNU-only options; "${arr[@]}" of an empty array is guarded because
# bash < 4.4 calls it unbound under `set -u`.
#
# The secret access key is handled so that it never reaches an argv (/proc/PID/cmdline is
# readable by every user on the machine) nor the terminal:
#   - `aws iam create-access-key` prints it on its stdout, which a command substitution
#     captures into a shell variable; it is split with parameter expansion, not `read <<<`
#     (bash 3.2 writes here-strings to a temporary file);
#   - the Secret manifest is built with the printf builtin and piped to `kubectl apply -f -`;
#     base64 gets the value on stdin;
#   - the key is proven by running the aws CLI with it in that one command's environment
#     (a prefix assignment, not `env VAR=...`, which would put it in env's argv).
# Never run this script under `set -x` or `bash -x`: xtrace prints variable values.
#
# The keyless mode (--web-identity: OIDC provider + role, no key) lives in
# bootstrap-iam/web-identity.sh next to this file.
set -euo pipefail

readonly PROG=${0##*/}
readonly PART_OF=ecr-k8s-credentials
readonly MANAGED_BY=bootstrap-iam.sh
readonly TAG_KEY=ecr-k8s-credentials:managed-by
readonly FIELD_MANAGER=ecr-k8s-bootstrap-iam
readonly USER_PATH=/system/
readonly REGION_RE='^[a-z]{2}(-[a-z]+)+-[0-9]+$'
readonly DNS_LABEL_RE='^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'
readonly DNS_SUBDOMAIN_RE='^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$'
readonly IAM_NAME_RE='^[A-Za-z0-9+=,.@_-]+$'
# ECR repository names (lowercase, path segments) with the IAM wildcards * and ?.
readonly REPOSITORY_RE='^[a-z0-9*?]+([._/-]+[a-z0-9*?]+)*$'
readonly REPOSITORY_ARN_RE='^arn:aws[a-z-]*:ecr:[a-z0-9*?-]+:([0-9]{12}|[*?]+):repository/[a-z0-9._/*?-]+$'

# shellcheck source=SCRIPTDIR/bootstrap-iam/web-identity.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/bootstrap-iam/web-identity.sh"

# The aws CLI v2 pipes output through a pager and may prompt; neither may happen here.
export AWS_PAGER=""
export AWS_CLI_AUTO_PROMPT=off

COMMAND=""
NAME=ecr-k8s
REGION=""
REGION_GIVEN=false
NAMESPACE=ecr-updater
SECRET_NAME=aws-ecr-credentials
CONTEXT=""
REPOSITORIES=()
PULL_THROUGH_CACHE=false
DRY_RUN=false
OUTPUT=""
YES=false
# Seconds to keep retrying GetAuthorizationToken with a new key: IAM is eventually consistent
# and a new key usually needs a few seconds, sometimes longer, before AWS accepts it.
PROOF_TIMEOUT=${BOOTSTRAP_IAM_PROOF_TIMEOUT:-120}
PROOF_INTERVAL=${BOOTSTRAP_IAM_PROOF_INTERVAL:-3}

USER_NAME=""
POLICY_NAME=""
ACCOUNT_ID=""
CALLER_ARN=""
PARTITION=aws
USER_ARN=""
WORK=""
OUT=""
ERR=""
KUBE=(kubectl)

# Undo steps of this run, executed last-in first-out if the run fails; cleared on success.
UNDO=()
COMMITTED=false

# What a --dry-run call "returns": the state the plan assumes (see plan notes per command).
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

usage() {
  cat <<EOF
Usage: $PROG COMMAND [options]

Creates the least-privilege IAM user whose access key the ECR credential refresh uses, puts
the key into the cluster as Secret <namespace>/<secret-name>, rotates it, and removes it all.

Commands:
  create   IAM user, inline pull-only ECR policy, one access key, and the Secret
  rotate   new key -> proven with GetAuthorizationToken -> Secret updated -> old key deleted
  delete   the Secret, the user's access keys, its policy and the user

Run '$PROG COMMAND --help' for the options of a command.

Exit status: 0 done (or nothing to do), 1 failed (what this run created was undone),
2 bad input (nothing was changed).
EOF
}

common_options_help() {
  cat <<EOF
  --name PREFIX          names the IAM user PREFIX-ecr-puller (path $USER_PATH) and its inline
                         policy PREFIX-ecr-pull. Use one prefix per cluster.  [default: ecr-k8s]
  --region REGION        region of the registry the refresh logs in to; written to the Secret
                         as AWS_REGION  [default: \$AWS_REGION, \$AWS_DEFAULT_REGION, then
                         'aws configure get region']
  --namespace NS         namespace the refresh runs in  [default: ecr-updater]
  --secret-name NAME     Secret holding the key  [default: aws-ecr-credentials]
  --context CONTEXT      kube context to write the Secret with  [default: current context]
  --output FILE          write the Secret manifest to FILE (mode 0600; '-' = stdout) instead of
                         writing it to a cluster; no kubectl call is made
  --dry-run              print every aws and kubectl call this would make, and make none
  -h, --help             this help
EOF
}

web_identity_options_help() {
  cat <<EOF
  --web-identity         no key: create (or reuse) the IAM OIDC provider of the cluster's
                         ServiceAccount issuer (audience $AUDIENCE) and role PREFIX-ecr-puller
                         (path $ROLE_PATH) that only system:serviceaccount:NS:SA may assume,
                         with the same policy; prints the role ARN and the synth flags
  --issuer-url URL       the issuer to trust  [default: the cluster's own, read from
                         /.well-known/openid-configuration through the API server]
  --publish-discovery s3://BUCKET[/PREFIX]
                         for an issuer AWS cannot reach: copy the cluster's discovery document
                         and JWKS into the bucket (public read of those two objects only) and
                         trust https://BUCKET.s3.REGION.amazonaws.com[/PREFIX]
  --service-account SA   the updater's ServiceAccount  [default: ecr-credential-updater]
EOF
}

command_help() {
  case $1 in
    create)
      cat <<EOF
Usage: $PROG create [options]

Creates IAM user PREFIX-ecr-puller (path $USER_PATH, tag $TAG_KEY=$MANAGED_BY),
its inline policy PREFIX-ecr-pull and one access key; proves the key with
GetAuthorizationToken; then server-side applies Secret NS/NAME (type Opaque, keys
AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ACCOUNT_ID).

Running it again changes nothing: an existing user keeps its key, and the policy is only
rewritten if the options ask for a different one. Use 'rotate' to replace the key.

The policy allows ecr:GetAuthorizationToken (Resource "*"; it cannot be scoped) and
ecr:BatchGetImage + ecr:GetDownloadUrlForLayer (Resource "*" or the --repository ARNs).

Options:
  --repository NAME      scope the pull actions to arn:aws:ecr:REGION:ACCOUNT:repository/NAME;
                         repeatable; IAM wildcards * and ? allowed (e.g. 'team-a/*'); a full
                         repository ARN is taken as is (other accounts or regions)
                         [default: every repository the account may pull from]
  --pull-through-cache   also allow ecr:BatchImportUpstreamImage and ecr:CreateRepository, which
                         a pull through a pull-through cache rule needs the first time
$(web_identity_options_help)
$(common_options_help)

--dry-run assumes the user does not exist yet and the Secret is absent.
EOF
      ;;
    rotate)
      cat <<EOF
Usage: $PROG rotate [options]

Creates a second access key, proves it with GetAuthorizationToken (retrying while IAM makes
it consistent, up to \$BOOTSTRAP_IAM_PROOF_TIMEOUT seconds, default 120), writes it to the
Secret, reads the Secret back and proves what it holds, then deletes the old key. If any
step fails, the Secret gets the old key back and the new key is deleted.

With --output the new key goes to FILE and the old key is NOT deleted (this script cannot
know when you applied FILE); the command to delete it is printed.

An IAM user can hold 2 keys; rotate needs the user to hold 1. Without --region, the Secret
keeps the AWS_REGION it holds.

Options:
$(common_options_help)

--dry-run assumes the user has one key, <OLD_ACCESS_KEY_ID>, and the Secret holds it.
EOF
      ;;
    delete)
      cat <<EOF
Usage: $PROG delete [options]

Deletes Secret NS/NAME (if this script wrote it or it holds a key of the user), then the
user's access keys, its inline policy PREFIX-ecr-pull and the user. Asks for confirmation
on stdin unless --yes is given. With --output, the Secret is left alone (delete it where you
applied it). Users this script did not create (no $TAG_KEY tag) are never deleted.

Options:
  --yes                  do not ask for confirmation
  --web-identity         delete the role PREFIX-ecr-puller and its policy instead; the OIDC
                         provider too if this script created it and no other role trusts it
$(common_options_help)

--dry-run assumes the user exists with one key and its policy, and the Secret holds the key.
EOF
      ;;
  esac
}

# ---------------------------------------------------------------------------------------------
# Arguments

parse_args() {
  if [[ $# -eq 0 ]]; then
    usage >&2
    exit 2
  fi
  case $1 in
    -h | --help | help)
      usage
      exit 0
      ;;
    create | rotate | delete) COMMAND=$1 ;;
    *) die_usage "unknown command \"$1\": use create, rotate or delete (see $PROG --help)" ;;
  esac
  shift

  local opt value has_value
  while [[ $# -gt 0 ]]; do
    opt=$1
    value=""
    has_value=false
    if [[ $opt == --*=* ]]; then
      value=${opt#*=}
      opt=${opt%%=*}
      has_value=true
    fi
    case $opt in
      -h | --help)
        command_help "$COMMAND"
        exit 0
        ;;
      --dry-run | --pull-through-cache | --yes | --web-identity)
        if $has_value; then
          die_usage "$opt takes no value (got \"$opt=$value\"); drop \"=$value\""
        fi
        case $opt in
          --dry-run) DRY_RUN=true ;;
          --pull-through-cache) PULL_THROUGH_CACHE=true ;;
          --yes) YES=true ;;
          --web-identity) WEB_IDENTITY=true ;;
        esac
        ;;
      --name | --region | --namespace | --secret-name | --context | --repository | --output | \
        --issuer-url | --publish-discovery | --service-account)
        if ! $has_value; then
          if [[ $# -lt 2 ]]; then
            die_usage "$opt needs a value, e.g. $(option_example "$opt")"
          fi
          value=$2
          shift
        fi
        case $opt in
          --name) NAME=$value ;;
          --region)
            REGION=$value
            REGION_GIVEN=true
            ;;
          --namespace) NAMESPACE=$value ;;
          --secret-name) SECRET_NAME=$value ;;
          --context) CONTEXT=$value ;;
          --repository) REPOSITORIES+=("$value") ;;
          --output) OUTPUT=$value ;;
          --issuer-url) ISSUER_URL=$value ;;
          --publish-discovery) PUBLISH_DISCOVERY=$value ;;
          --service-account) SERVICE_ACCOUNT=$value ;;
        esac
        ;;
      *)
        die_usage "unknown option \"$opt\" for $COMMAND; see $PROG $COMMAND --help for the options"
        ;;
    esac
    shift
  done
}

option_example() {
  case $1 in
    --name) printf '%s' '--name prod-cluster' ;;
    --region) printf '%s' '--region eu-west-1' ;;
    --namespace) printf '%s' '--namespace ecr-updater' ;;
    --secret-name) printf '%s' '--secret-name aws-ecr-credentials' ;;
    --context) printf '%s' '--context my-cluster' ;;
    --repository) printf '%s' "--repository 'team-a/*'" ;;
    --output) printf '%s' '--output secret.yaml' ;;
    --issuer-url) printf '%s' '--issuer-url https://oidc.example.com/cluster-a' ;;
    --publish-discovery) printf '%s' '--publish-discovery s3://my-cluster-oidc/cluster-a' ;;
    --service-account) printf '%s' '--service-account ecr-credential-updater' ;;
  esac
}

validate_args() {
  local repo
  if [[ $COMMAND != delete ]] && $YES; then
    die_usage "--yes only applies to delete; drop it from $COMMAND"
  fi
  if [[ $COMMAND != create ]]; then
    if [[ ${#REPOSITORIES[@]} -gt 0 ]]; then
      die_usage "--repository only applies to create (it shapes the policy); drop it from $COMMAND"
    fi
    if $PULL_THROUGH_CACHE; then
      die_usage "--pull-through-cache only applies to create (it shapes the policy); drop it from $COMMAND"
    fi
  fi

  if [[ -z $NAME || ! $NAME =~ $IAM_NAME_RE ]]; then
    die_usage "--name \"$NAME\" is not usable in an IAM user name: use letters, digits and + = , . @ _ -, e.g. --name prod-cluster"
  fi
  USER_NAME=$NAME-ecr-puller
  POLICY_NAME=$NAME-ecr-pull
  if [[ ${#USER_NAME} -gt 64 ]]; then
    die_usage "--name \"$NAME\" is too long: the user name $USER_NAME would have ${#USER_NAME} characters, IAM allows 64. Use at most $((64 - ${#USER_NAME} + ${#NAME})) characters."
  fi

  if [[ -z $REGION ]]; then
    REGION=${AWS_REGION:-${AWS_DEFAULT_REGION:-}}
  fi
  if [[ -z $REGION ]] && ! $DRY_RUN && command -v aws >/dev/null 2>&1; then
    # A local read of ~/.aws/config, not an AWS call; skipped under --dry-run all the same.
    REGION=$(aws configure get region 2>/dev/null || true)
  fi
  if [[ -z $REGION ]]; then
    die_usage "no region: pass --region, e.g. --region eu-west-1 (or set AWS_REGION)"
  fi
  if [[ ! $REGION =~ $REGION_RE ]]; then
    die_usage "--region \"$REGION\" is not an AWS region name; use one like eu-west-1 or us-east-1 ('aws ec2 describe-regions' lists them)"
  fi
  case $REGION in
    cn-*) PARTITION=aws-cn ;;
    us-gov-*) PARTITION=aws-us-gov ;;
    *) PARTITION=aws ;;
  esac

  if [[ ${#NAMESPACE} -gt 63 || ! $NAMESPACE =~ $DNS_LABEL_RE ]]; then
    die_usage "--namespace \"$NAMESPACE\" is not a Kubernetes namespace name: lowercase letters, digits and -, at most 63, e.g. --namespace ecr-updater"
  fi
  if [[ ${#SECRET_NAME} -gt 253 || ! $SECRET_NAME =~ $DNS_SUBDOMAIN_RE ]]; then
    die_usage "--secret-name \"$SECRET_NAME\" is not a Kubernetes object name: lowercase letters, digits, - and ., e.g. --secret-name aws-ecr-credentials"
  fi
  if [[ -n $OUTPUT && -n $CONTEXT ]]; then
    die_usage "--context \"$CONTEXT\" has no effect with --output (no cluster is written); drop one of them"
  fi

  for repo in ${REPOSITORIES[@]+"${REPOSITORIES[@]}"}; do
    if [[ $repo == arn:* ]]; then
      if [[ ! $repo =~ $REPOSITORY_ARN_RE ]]; then
        die_usage "--repository \"$repo\" is not an ECR repository ARN; use arn:aws:ecr:REGION:ACCOUNT:repository/NAME or just NAME"
      fi
    elif [[ ${#repo} -gt 256 || ! $repo =~ $REPOSITORY_RE ]]; then
      local hint=""
      if [[ $repo =~ [A-Z] ]]; then
        hint=" (ECR repository names are lowercase)"
      fi
      die_usage "--repository \"$repo\" is not an ECR repository name or pattern$hint: use lowercase letters, digits, . _ - /, and * or ?, e.g. --repository 'team-a/*'"
    fi
  done

  if [[ -n $OUTPUT && $OUTPUT != - ]]; then
    local dir
    dir=$(dirname -- "$OUTPUT")
    if [[ -d $OUTPUT ]]; then
      die_usage "--output \"$OUTPUT\" is a directory; name a file, e.g. --output $OUTPUT/aws-ecr-credentials.yaml"
    fi
    if [[ ! -d $dir || ! -w $dir ]]; then
      die_usage "--output \"$OUTPUT\": directory \"$dir\" does not exist or is not writable; create it or pick another path"
    fi
  fi

  if [[ ! $PROOF_TIMEOUT =~ ^[0-9]+$ || ! $PROOF_INTERVAL =~ ^[0-9]+$ || $PROOF_INTERVAL -eq 0 ]]; then
    die_usage "BOOTSTRAP_IAM_PROOF_TIMEOUT and BOOTSTRAP_IAM_PROOF_INTERVAL must be whole seconds (interval > 0)"
  fi

  validate_web_identity_args

  if [[ -n $CONTEXT ]]; then
    KUBE=(kubectl --context "$CONTEXT")
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

# In --dry-run, the next call returns this (stdout, exit code, stderr) instead of running.
assume() {
  DRY_OUT=$1
  DRY_RC=${2:-0}
  DRY_ERR=${3:-}
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
      printf '%s (caller %s) may not %s: %s. Run with credentials that may manage IAM users (see README: "Who may run bootstrap-iam.sh")' "${CALLER_ARN:-your AWS identity}" "${ACCOUNT_ID:-?}" "$action" "$line"
      ;;
    *"Could not connect to the endpoint URL"* | *"Name or service not known"* | *"nodename nor servname"*)
      printf 'cannot reach AWS to %s in region %s: %s. Check --region "%s" and your network' "$action" "$REGION" "$line" "$REGION"
      ;;
    *)
      printf 'failed to %s: %s' "$action" "$line"
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
# Undo

push_undo() { UNDO+=("$*"); }

run_undo() {
  local i step
  set +e
  say "undoing what this run changed"
  i=${#UNDO[@]}
  while [[ $i -gt 0 ]]; do
    i=$((i - 1))
    step=${UNDO[$i]}
    case $step in
      "delete-key "*)
        say "  deleting access key ${step#delete-key } of $USER_NAME"
        aws_call iam delete-access-key --user-name "$USER_NAME" --access-key-id "${step#delete-key }" ||
          say "  FAILED: $(aws_error_hint "delete the key"); delete it yourself: aws iam delete-access-key --user-name $USER_NAME --access-key-id ${step#delete-key }"
        ;;
      delete-policy)
        say "  deleting policy $POLICY_NAME"
        aws_call iam delete-user-policy --user-name "$USER_NAME" --policy-name "$POLICY_NAME" ||
          say "  FAILED: $(aws_error_hint "delete the policy"); delete it yourself: aws iam delete-user-policy --user-name $USER_NAME --policy-name $POLICY_NAME"
        ;;
      restore-policy)
        say "  restoring the previous policy $POLICY_NAME"
        aws_call iam put-user-policy --user-name "$USER_NAME" --policy-name "$POLICY_NAME" --policy-document "$OLD_POLICY" ||
          say "  FAILED: $(aws_error_hint "restore the policy")"
        ;;
      delete-user)
        say "  deleting user $USER_NAME"
        aws_call iam delete-user --user-name "$USER_NAME" ||
          say "  FAILED: $(aws_error_hint "delete the user"); delete it yourself: aws iam delete-user --user-name $USER_NAME"
        ;;
      restore-secret)
        restore_secret
        ;;
      *) undo_web_identity_step "$step" ;;
    esac
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

# ---------------------------------------------------------------------------------------------
# AWS state

# Who is calling: account, partition and a first test that the credentials work at all.
aws_identity() {
  assume "<ACCOUNT_ID>	arn:$PARTITION:iam::<ACCOUNT_ID>:user/<YOU>"
  if ! aws_call sts get-caller-identity --query '[Account,Arn]' --output text; then
    die "$(aws_error_hint "read your AWS identity (sts get-caller-identity)")"
  fi
  ACCOUNT_ID=${OUT%%[[:space:]]*}
  CALLER_ARN=${OUT##*[[:space:]]}
  PARTITION=$(printf '%s' "$CALLER_ARN" | cut -d: -f2)
  USER_ARN="arn:$PARTITION:iam::$ACCOUNT_ID:user${USER_PATH}$USER_NAME"
  say "AWS account $ACCOUNT_ID, caller $CALLER_ARN, region $REGION"
}

USER_EXISTS=false
USER_OURS=false

# Sets USER_EXISTS and USER_OURS (tagged by this script).
read_user() {
  if ! aws_call iam get-user --user-name "$USER_NAME" \
    --query "[User.Arn, User.Tags[?Key==\`\"$TAG_KEY\"\`].Value | [0]]" --output text; then
    if [[ $ERR == *NoSuchEntity* ]]; then
      USER_EXISTS=false
      return 0
    fi
    die "$(aws_error_hint "read IAM user $USER_NAME (iam:GetUser)")"
  fi
  USER_EXISTS=true
  USER_ARN=${OUT%%[[:space:]]*}
  [[ ${OUT##*[[:space:]]} == "$MANAGED_BY" ]] && USER_OURS=true || USER_OURS=false
}

require_our_user() {
  if ! $USER_OURS; then
    die "IAM user $USER_NAME exists but was not created by $PROG (it has no tag $TAG_KEY=$MANAGED_BY), so it is left alone. Pick another --name, or if it is yours: aws iam tag-user --user-name $USER_NAME --tags Key=$TAG_KEY,Value=$MANAGED_BY"
  fi
}

KEYS=()

read_keys() {
  if ! aws_call iam list-access-keys --user-name "$USER_NAME" \
    --query 'AccessKeyMetadata[].AccessKeyId' --output text; then
    die "$(aws_error_hint "list the access keys of $USER_NAME (iam:ListAccessKeys)")"
  fi
  KEYS=()
  local id
  for id in $OUT; do
    [[ $id == None ]] || KEYS+=("$id")
  done
}

has_key() {
  local id
  for id in ${KEYS[@]+"${KEYS[@]}"}; do
    [[ $id == "$1" ]] && return 0
  done
  return 1
}

keys_text() {
  if [[ ${#KEYS[@]} -eq 0 ]]; then
    printf 'none'
  else
    printf '%s' "${KEYS[*]}"
  fi
}

json_string_list() {
  local item out=""
  for item in "$@"; do
    out="$out${out:+,}\"$item\""
  done
  printf '%s' "$out"
}

# The inline policy. Compact JSON without spaces: that is also how it is compared with the
# stored one (whitespace stripped), so re-running create with the same options writes nothing.
policy_document() {
  local resources repo
  local -a arns=() pull=("ecr:BatchGetImage" "ecr:GetDownloadUrlForLayer")
  if [[ ${#REPOSITORIES[@]} -eq 0 ]]; then
    resources='"*"'
  else
    for repo in "${REPOSITORIES[@]}"; do
      if [[ $repo == arn:* ]]; then
        arns+=("$repo")
      else
        arns+=("arn:$PARTITION:ecr:$REGION:$ACCOUNT_ID:repository/$repo")
      fi
    done
    resources="[$(json_string_list "${arns[@]}")]"
  fi
  if $PULL_THROUGH_CACHE; then
    pull+=("ecr:BatchImportUpstreamImage" "ecr:CreateRepository")
  fi
  printf '{"Version":"2012-10-17","Statement":[{"Sid":"EcrLogin","Effect":"Allow","Action":"ecr:GetAuthorizationToken","Resource":"*"},{"Sid":"EcrPull","Effect":"Allow","Action":[%s],"Resource":%s}]}' \
    "$(json_string_list "${pull[@]}")" "$resources"
}

compact() { printf '%s' "$1" | tr -d ' \t\r\n'; }

OLD_POLICY=""

# Makes the inline policy the requested one; writes only if it differs.
ensure_policy() {
  local wanted
  wanted=$(policy_document)
  OLD_POLICY=""
  if $USER_EXISTS; then
    if aws_call iam get-user-policy --user-name "$USER_NAME" --policy-name "$POLICY_NAME" \
      --query PolicyDocument --output json; then
      OLD_POLICY=$OUT
    elif [[ $ERR != *NoSuchEntity* ]]; then
      die "$(aws_error_hint "read policy $POLICY_NAME of $USER_NAME (iam:GetUserPolicy)")"
    fi
  fi
  if [[ -n $OLD_POLICY && "$(compact "$OLD_POLICY")" == "$(compact "$wanted")" ]]; then
    say "policy $POLICY_NAME is up to date"
    return 0
  fi
  if ! aws_call iam put-user-policy --user-name "$USER_NAME" --policy-name "$POLICY_NAME" \
    --policy-document "$wanted"; then
    die "$(aws_error_hint "put policy $POLICY_NAME on $USER_NAME (iam:PutUserPolicy)")"
  fi
  if [[ -n $OLD_POLICY ]]; then
    push_undo restore-policy
    say "updated policy $POLICY_NAME to the requested one"
  else
    push_undo delete-policy
    say "put inline policy $POLICY_NAME"
  fi
}

NEW_KEY_ID=""
NEW_KEY_SECRET=""

create_key() {
  assume "<NEW_ACCESS_KEY_ID>	<NEW_SECRET_ACCESS_KEY>"
  if ! aws_call iam create-access-key --user-name "$USER_NAME" \
    --query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text; then
    die "$(aws_error_hint "create an access key for $USER_NAME (iam:CreateAccessKey)")"
  fi
  NEW_KEY_ID=${OUT%%[[:space:]]*}
  NEW_KEY_SECRET=${OUT##*[[:space:]]}
  OUT=""
  if [[ -z $NEW_KEY_ID || -z $NEW_KEY_SECRET || $NEW_KEY_ID == "$NEW_KEY_SECRET" ]]; then
    die "aws iam create-access-key returned no usable key for $USER_NAME"
  fi
  push_undo "delete-key $NEW_KEY_ID"
  say "created access key $NEW_KEY_ID for $USER_NAME"
}

# Proves that the key ($1 id, $2 secret) can log in to ECR, retrying while IAM propagates it.
# Only this one aws process sees the key, through its environment; any profile, session
# token or role setting of the caller is dropped so the test uses nothing but the key.
prove_key() {
  local id=$1 secret=$2 started now rc
  if $DRY_RUN; then
    printf 'AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=<hidden> %s\n' "$id" \
      "$(plan_line aws ecr get-authorization-token --region "$REGION" --query 'authorizationData[0].proxyEndpoint' --output text)"
    printf '# (retried for up to %ss until IAM accepts the new key)\n' "$PROOF_TIMEOUT"
    return 0
  fi
  ensure_workdir
  started=$(date +%s)
  while :; do
    rc=0
    (
      unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN AWS_SECURITY_TOKEN \
        AWS_ROLE_ARN AWS_WEB_IDENTITY_TOKEN_FILE AWS_CONTAINER_CREDENTIALS_RELATIVE_URI \
        AWS_CONTAINER_CREDENTIALS_FULL_URI
      AWS_ACCESS_KEY_ID=$id AWS_SECRET_ACCESS_KEY=$secret \
        aws ecr get-authorization-token --region "$REGION" \
        --query 'authorizationData[0].proxyEndpoint' --output text >/dev/null 2>"$WORK/stderr"
    ) || rc=$?
    if [[ $rc -eq 0 ]]; then
      say "key $id works: ecr:GetAuthorizationToken succeeded"
      return 0
    fi
    ERR=$(cat "$WORK/stderr")
    now=$(date +%s)
    if [[ $((now - started)) -ge $PROOF_TIMEOUT ]]; then
      say "key $id still fails after ${PROOF_TIMEOUT}s: $(error_line "$ERR")"
      return 1
    fi
    say "key $id not accepted yet ($(error_line "$ERR")); IAM may still be propagating it, retrying in ${PROOF_INTERVAL}s"
    sleep "$PROOF_INTERVAL"
  done
}

# ---------------------------------------------------------------------------------------------
# Kubernetes state

CURRENT_CONTEXT=""

kube_preflight() {
  if ! $DRY_RUN && ! command -v kubectl >/dev/null 2>&1; then
    die_usage "kubectl not found on PATH: install it, or pass --output FILE to write the Secret manifest instead"
  fi
  if [[ -n $CONTEXT ]]; then
    assume "$CONTEXT"
    if ! kube_call config get-contexts -o name; then
      die "$(kube_error_hint "list kube contexts")"
    fi
    local found=false ctx
    for ctx in $OUT; do
      [[ $ctx == "$CONTEXT" ]] && found=true
    done
    if ! $found; then
      die_usage "--context \"$CONTEXT\" is not in your kubeconfig (${KUBECONFIG:-~/.kube/config}); 'kubectl config get-contexts' lists the contexts"
    fi
  else
    assume "<CURRENT_CONTEXT>"
    if ! kube_call config current-context; then
      die_usage "no current kube context (${KUBECONFIG:-~/.kube/config}): pass --context, or --output FILE to write the Secret manifest instead"
    fi
    CURRENT_CONTEXT=$OUT
  fi

  assume "Active"
  if ! kube_call get namespace "$NAMESPACE" -o 'jsonpath={.status.phase}'; then
    if [[ $ERR == *NotFound* || $ERR == *"not found"* ]]; then
      die_usage "--namespace \"$NAMESPACE\" does not exist in context $(context_label). Apply the bundle's namespace first (kubectl apply -f dist/00-namespace.yaml), pass the right --namespace, or use --output FILE"
    fi
    die "$(kube_error_hint "read namespace $NAMESPACE")"
  fi
  if [[ $OUT == Terminating ]]; then
    die_usage "--namespace \"$NAMESPACE\" is being deleted (Terminating) in context $(context_label); wait until it is gone and apply the bundle again"
  fi

  # A server-side dry run of the write, with placeholder values: checks create/patch rights
  # and admission before anything is created in AWS.
  if ! kube_call_stdin "$(secret_manifest "<placeholder>" "<placeholder>" "<placeholder>" "<placeholder>")" \
    apply --server-side --force-conflicts --field-manager="$FIELD_MANAGER" --dry-run=server -o name -f -; then
    die "$(kube_error_hint "write Secret $NAMESPACE/$SECRET_NAME (server-side dry run)")"
  fi
}

SECRET_EXISTS=false
SECRET_KEY_ID=""
SECRET_REGION=""
SECRET_MANAGED=""

# Reads which key the Secret holds (the id only; the secret is not read here).
read_secret() {
  local tpl='found {{with .data}}{{with .AWS_ACCESS_KEY_ID}}{{base64decode .}}{{else}}-{{end}} {{with .AWS_REGION}}{{base64decode .}}{{else}}-{{end}}{{end}} {{with .metadata.labels}}{{with index . "app.kubernetes.io/managed-by"}}{{.}}{{else}}-{{end}}{{else}}-{{end}}'
  if ! kube_call -n "$NAMESPACE" get secret "$SECRET_NAME" --ignore-not-found -o "go-template=$tpl"; then
    die "$(kube_error_hint "read Secret $NAMESPACE/$SECRET_NAME")"
  fi
  SECRET_EXISTS=false
  SECRET_KEY_ID=""
  SECRET_REGION=""
  SECRET_MANAGED=""
  if [[ $OUT == found* ]]; then
    local f
    # shellcheck disable=SC2086 # split the four space-separated fields on purpose
    set -- $OUT
    SECRET_EXISTS=true
    f=${2:--}
    [[ $f == - ]] || SECRET_KEY_ID=$f
    f=${3:--}
    [[ $f == - ]] || SECRET_REGION=$f
    f=${4:--}
    [[ $f == - ]] || SECRET_MANAGED=$f
  fi
}

b64() {
  if $DRY_RUN && [[ $1 == "<"* ]]; then
    printf '%s' "$1"
    return
  fi
  printf '%s' "$1" | base64 | tr -d '\r\n'
}

# The Secret the bundle reads (env from secretKeyRef). Values are already base64.
secret_manifest_b64() {
  printf '%s\n' \
    'apiVersion: v1' \
    'kind: Secret' \
    'metadata:' \
    "  name: $SECRET_NAME" \
    "  namespace: $NAMESPACE" \
    '  labels:' \
    "    app.kubernetes.io/part-of: $PART_OF" \
    "    app.kubernetes.io/managed-by: $MANAGED_BY" \
    '  annotations:' \
    "    ecr-k8s-credentials/iam-user: \"$USER_ARN\"" \
    'type: Opaque' \
    'data:' \
    "  AWS_ACCESS_KEY_ID: \"$1\"" \
    "  AWS_SECRET_ACCESS_KEY: \"$2\"" \
    "  AWS_REGION: \"$3\"" \
    "  AWS_ACCOUNT_ID: \"$4\""
}

secret_manifest() {
  secret_manifest_b64 "$(b64 "$1")" "$(b64 "$2")" "$(b64 "$3")" "$(b64 "$4")"
}

OLD_DATA_ID=""
OLD_DATA_SECRET=""
OLD_DATA_REGION=""
OLD_DATA_ACCOUNT=""
SECRET_SAVED=false

# Keeps the Secret's current values (base64, as stored) so a failed run can put them back.
save_secret() {
  SECRET_SAVED=false
  if ! $SECRET_EXISTS; then
    return 0
  fi
  local tpl='{{with .data}}{{.AWS_ACCESS_KEY_ID}} {{.AWS_SECRET_ACCESS_KEY}} {{.AWS_REGION}} {{.AWS_ACCOUNT_ID}}{{end}}'
  assume "<OLD_ACCESS_KEY_ID> <OLD_SECRET_ACCESS_KEY> <REGION> <ACCOUNT_ID>"
  if ! kube_call -n "$NAMESPACE" get secret "$SECRET_NAME" -o "go-template=$tpl"; then
    die "$(kube_error_hint "read Secret $NAMESPACE/$SECRET_NAME")"
  fi
  # Split with parameter expansion: the text holds the old secret key (base64).
  local rest=$OUT
  OLD_DATA_ID=${rest%% *}
  rest=${rest#* }
  OLD_DATA_SECRET=${rest%% *}
  rest=${rest#* }
  OLD_DATA_REGION=${rest%% *}
  OLD_DATA_ACCOUNT=${rest#* }
  OUT=""
  SECRET_SAVED=true
}

restore_secret() {
  if $SECRET_SAVED; then
    say "  putting the previous key back into Secret $NAMESPACE/$SECRET_NAME"
    kube_call_stdin "$(secret_manifest_b64 "$OLD_DATA_ID" "$OLD_DATA_SECRET" "$OLD_DATA_REGION" "$OLD_DATA_ACCOUNT")" \
      apply --server-side --force-conflicts --field-manager="$FIELD_MANAGER" -o name -f - ||
      say "  FAILED: $(kube_error_hint "restore Secret $NAMESPACE/$SECRET_NAME")"
  else
    say "  deleting Secret $NAMESPACE/$SECRET_NAME (it did not exist before)"
    kube_call -n "$NAMESPACE" delete secret "$SECRET_NAME" --ignore-not-found ||
      say "  FAILED: $(kube_error_hint "delete Secret $NAMESPACE/$SECRET_NAME")"
  fi
}

# Writes the new key to the Secret, reads it back and proves what the cluster now holds.
write_secret_and_verify() {
  save_secret
  push_undo restore-secret
  if ! kube_call_stdin "$(secret_manifest "$NEW_KEY_ID" "$NEW_KEY_SECRET" "$REGION" "$ACCOUNT_ID")" \
    apply --server-side --force-conflicts --field-manager="$FIELD_MANAGER" -o name -f -; then
    die "$(kube_error_hint "write Secret $NAMESPACE/$SECRET_NAME")"
  fi
  say "wrote key $NEW_KEY_ID to Secret $NAMESPACE/$SECRET_NAME (context $(context_label))"

  local tpl='{{base64decode .data.AWS_ACCESS_KEY_ID}} {{base64decode .data.AWS_SECRET_ACCESS_KEY}}'
  assume "$NEW_KEY_ID <NEW_SECRET_ACCESS_KEY>"
  if ! kube_call -n "$NAMESPACE" get secret "$SECRET_NAME" -o "go-template=$tpl"; then
    die "$(kube_error_hint "read back Secret $NAMESPACE/$SECRET_NAME")"
  fi
  local held_id=${OUT%% *} held_secret=${OUT#* }
  OUT=""
  if [[ $held_id != "$NEW_KEY_ID" ]]; then
    die "Secret $NAMESPACE/$SECRET_NAME holds key $held_id after the write, not $NEW_KEY_ID (is something else writing it?)"
  fi
  if ! prove_key "$held_id" "$held_secret"; then
    die "the key read back from Secret $NAMESPACE/$SECRET_NAME does not work"
  fi
}

# Writes the manifest to --output: a private temporary file renamed over FILE, so FILE never
# exists with looser permissions and a failed write leaves no half file.
write_output() {
  local manifest
  manifest=$(secret_manifest "$NEW_KEY_ID" "$NEW_KEY_SECRET" "$REGION" "$ACCOUNT_ID")
  if [[ $OUTPUT == - ]]; then
    if $DRY_RUN; then
      printf '# would print the Secret manifest on stdout:\n%s\n' "$manifest"
    else
      printf '%s\n' "$manifest"
    fi
    return 0
  fi
  if $DRY_RUN; then
    printf '# would write %s (mode 0600):\n%s\n' "$OUTPUT" "$manifest"
    return 0
  fi
  local dir tmp
  dir=$(dirname -- "$OUTPUT")
  tmp=$(umask 077 && mktemp "$dir/.bootstrap-iam.XXXXXX") || die "cannot create a file in $dir for --output"
  if ! (umask 077 && printf '%s\n' "$manifest" >"$tmp") || ! chmod 600 "$tmp" || ! mv -f "$tmp" "$OUTPUT"; then
    rm -f "$tmp"
    die "cannot write --output \"$OUTPUT\""
  fi
  say "wrote the Secret manifest to $OUTPUT (mode 0600); apply it with: kubectl apply --server-side -f $OUTPUT"
}

# ---------------------------------------------------------------------------------------------
# Commands

preflight() {
  if ! $DRY_RUN && ! command -v aws >/dev/null 2>&1; then
    die_usage "aws (the AWS CLI) not found on PATH: install it (v1 >= 1.29 or v2)"
  fi
  if $DRY_RUN; then
    printf '# %s %s --dry-run: nothing below is run; every aws and kubectl call a real run would make is listed.\n' "$PROG" "$COMMAND"
  fi
  aws_identity
  if [[ -z $OUTPUT ]]; then
    kube_preflight
  fi
}

cmd_create() {
  if $DRY_RUN; then
    printf '# Assumes: IAM user %s does not exist%s.\n' "$USER_NAME" \
      "$([[ -n $OUTPUT ]] || printf ', Secret %s/%s does not exist' "$NAMESPACE" "$SECRET_NAME")"
  fi
  preflight
  assume "" 254 "An error occurred (NoSuchEntity) when calling the GetUser operation: (assumed)"
  read_user
  if [[ -z $OUTPUT ]]; then
    read_secret
  fi

  if $USER_EXISTS; then
    require_our_user
    say "IAM user $USER_NAME exists"
    read_keys
    if [[ ${#KEYS[@]} -gt 0 ]]; then
      # The key in use stays; only the policy is brought in line with the options.
      if [[ -n $OUTPUT ]]; then
        ensure_policy
        say "nothing more to do: $USER_NAME already has access key(s) $(keys_text), and AWS shows a secret key only when it is created, so no manifest was written. To get a new key into a manifest, run: $PROG rotate --output $OUTPUT (same --name)"
        COMMITTED=true
        return 0
      fi
      if $SECRET_EXISTS && has_key "$SECRET_KEY_ID"; then
        ensure_policy
        if [[ -n $SECRET_REGION && $SECRET_REGION != "$REGION" ]]; then
          say "warning: Secret $NAMESPACE/$SECRET_NAME has AWS_REGION=$SECRET_REGION, not $REGION; run '$PROG rotate --region $REGION' to rewrite it"
        fi
        say "nothing more to do: Secret $NAMESPACE/$SECRET_NAME already holds key $SECRET_KEY_ID of $USER_NAME. To replace the key, run: $PROG rotate"
        COMMITTED=true
        return 0
      fi
      local where="does not exist"
      if $SECRET_EXISTS && [[ -n $SECRET_KEY_ID ]]; then
        where="holds $SECRET_KEY_ID, which is not a key of this user"
      elif $SECRET_EXISTS; then
        where="holds no AWS_ACCESS_KEY_ID"
      fi
      die "$USER_NAME already has access key(s) $(keys_text), but Secret $NAMESPACE/$SECRET_NAME $where. AWS shows a secret key only when it is created; run '$PROG rotate' (same options) to issue a new key into the Secret and delete the old one"
    fi
    ensure_policy
  else
    if ! aws_call iam create-user --user-name "$USER_NAME" --path "$USER_PATH" --tags \
      "Key=$TAG_KEY,Value=$MANAGED_BY" \
      "Key=Purpose,Value=ECR image pulls for Kubernetes secret refresh"; then
      die "$(aws_error_hint "create IAM user $USER_NAME (iam:CreateUser, iam:TagUser)")"
    fi
    push_undo delete-user
    say "created IAM user $USER_NAME (path $USER_PATH)"
    ensure_policy
  fi

  if $SECRET_EXISTS; then
    say "Secret $NAMESPACE/$SECRET_NAME exists with key ${SECRET_KEY_ID:-(none)}; it will be replaced"
  fi
  create_key
  if ! prove_key "$NEW_KEY_ID" "$NEW_KEY_SECRET"; then
    die "the new key $NEW_KEY_ID was not accepted by ECR within ${PROOF_TIMEOUT}s"
  fi
  if [[ -n $OUTPUT ]]; then
    write_output
  else
    write_secret_and_verify
  fi
  COMMITTED=true
  NEW_KEY_SECRET=""
  if $DRY_RUN; then
    printf '# end of plan\n'
  else
    say "done: $USER_NAME can pull from ECR with key $NEW_KEY_ID"
  fi
}

cmd_rotate() {
  if $DRY_RUN; then
    printf '# Assumes: IAM user %s exists with one key, <OLD_ACCESS_KEY_ID>%s.\n' "$USER_NAME" \
      "$([[ -n $OUTPUT ]] || printf ', which Secret %s/%s holds' "$NAMESPACE" "$SECRET_NAME")"
  fi
  preflight
  assume "arn:$PARTITION:iam::<ACCOUNT_ID>:user$USER_PATH$USER_NAME	$MANAGED_BY"
  read_user
  if ! $USER_EXISTS; then
    die_usage "IAM user $USER_NAME does not exist (--name \"$NAME\"); run '$PROG create' first"
  fi
  require_our_user
  assume "<OLD_ACCESS_KEY_ID>"
  read_keys
  if [[ -z $OUTPUT ]]; then
    assume "found <OLD_ACCESS_KEY_ID> $REGION $MANAGED_BY"
    read_secret
    if $SECRET_EXISTS && [[ -n $SECRET_KEY_ID ]] && ! has_key "$SECRET_KEY_ID"; then
      die "Secret $NAMESPACE/$SECRET_NAME holds key $SECRET_KEY_ID, which is not a key of $USER_NAME (keys: $(keys_text)); check --name, --namespace and --secret-name"
    fi
    # Without --region, a rotation keeps the region the Secret already names.
    if ! $REGION_GIVEN && [[ -n $SECRET_REGION && $SECRET_REGION != "$REGION" && $SECRET_REGION =~ $REGION_RE ]]; then
      say "keeping AWS_REGION=$SECRET_REGION from the Secret (pass --region to change it)"
      REGION=$SECRET_REGION
    fi
  fi
  if [[ ${#KEYS[@]} -ge 2 ]]; then
    local spare="" id
    for id in "${KEYS[@]}"; do
      [[ $id == "$SECRET_KEY_ID" ]] || spare="$spare${spare:+ }$id"
    done
    die "$USER_NAME already has 2 access keys ($(keys_text)), the IAM maximum, so no new key can be made.${SECRET_KEY_ID:+ Secret $NAMESPACE/$SECRET_NAME holds $SECRET_KEY_ID.} Delete the key nobody uses, e.g.: aws iam delete-access-key --user-name $USER_NAME --access-key-id ${spare%% *}"
  fi
  local old=""
  [[ ${#KEYS[@]} -eq 1 ]] && old=${KEYS[0]}

  create_key
  if ! prove_key "$NEW_KEY_ID" "$NEW_KEY_SECRET"; then
    die "the new key $NEW_KEY_ID was not accepted by ECR within ${PROOF_TIMEOUT}s; the old key stays in use"
  fi
  if [[ -n $OUTPUT ]]; then
    write_output
    COMMITTED=true
    NEW_KEY_SECRET=""
    if [[ -n $old ]]; then
      say "kept the old key $old: the cluster may still use it. Once the new manifest is applied, delete it with: aws iam delete-access-key --user-name $USER_NAME --access-key-id $old"
    fi
    [[ $DRY_RUN == false ]] || printf '# end of plan\n'
    return 0
  fi

  write_secret_and_verify
  if [[ -n $old ]]; then
    if ! aws_call iam delete-access-key --user-name "$USER_NAME" --access-key-id "$old"; then
      die "$(aws_error_hint "delete the old key $old (iam:DeleteAccessKey)")"
    fi
    say "deleted the old key $old"
  fi
  COMMITTED=true
  NEW_KEY_SECRET=""
  if $DRY_RUN; then
    printf '# end of plan\n'
  else
    say "done: Secret $NAMESPACE/$SECRET_NAME holds key $NEW_KEY_ID, the only key of $USER_NAME"
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

cmd_delete() {
  if $DRY_RUN; then
    printf '# Assumes: IAM user %s exists with one key <ACCESS_KEY_ID> and policy %s%s.\n' \
      "$USER_NAME" "$POLICY_NAME" \
      "$([[ -n $OUTPUT ]] || printf ', Secret %s/%s holds that key' "$NAMESPACE" "$SECRET_NAME")"
  fi
  if ! $DRY_RUN && ! command -v aws >/dev/null 2>&1; then
    die_usage "aws (the AWS CLI) not found on PATH: install it (v1 >= 1.29 or v2)"
  fi
  if $DRY_RUN; then
    printf '# %s delete --dry-run: nothing below is run.\n' "$PROG"
  fi
  aws_identity
  assume "arn:$PARTITION:iam::<ACCOUNT_ID>:user$USER_PATH$USER_NAME	$MANAGED_BY"
  read_user

  local delete_secret=false namespace_missing=false has_policy=false
  if [[ -z $OUTPUT ]]; then
    if ! $DRY_RUN && ! command -v kubectl >/dev/null 2>&1; then
      die_usage "kubectl not found on PATH: install it, or pass --output - to delete only the AWS side"
    fi
    # The namespace may be gone already (bundle deleted first): then so is the Secret.
    if [[ -n $CONTEXT ]]; then
      assume "$CONTEXT"
      kube_call config get-contexts -o name || die "$(kube_error_hint "list kube contexts")"
      local found=false ctx
      for ctx in $OUT; do [[ $ctx == "$CONTEXT" ]] && found=true; done
      $found || die_usage "--context \"$CONTEXT\" is not in your kubeconfig (${KUBECONFIG:-~/.kube/config}); 'kubectl config get-contexts' lists the contexts"
    else
      assume "<CURRENT_CONTEXT>"
      kube_call config current-context ||
        die_usage "no current kube context: pass --context, or --output - to delete only the AWS side"
      CURRENT_CONTEXT=$OUT
    fi
    assume "Active"
    if ! kube_call get namespace "$NAMESPACE" -o 'jsonpath={.status.phase}'; then
      if [[ $ERR == *NotFound* || $ERR == *"not found"* ]]; then
        namespace_missing=true
      else
        die "$(kube_error_hint "read namespace $NAMESPACE")"
      fi
    fi
    if ! $namespace_missing; then
      assume "found <ACCESS_KEY_ID> $REGION $MANAGED_BY"
      read_secret
    fi
  fi

  if $USER_EXISTS; then
    require_our_user
    assume "<ACCESS_KEY_ID>"
    read_keys
  else
    KEYS=()
  fi
  if $SECRET_EXISTS; then
    if [[ $SECRET_MANAGED == "$MANAGED_BY" ]] || { [[ -n $SECRET_KEY_ID ]] && has_key "$SECRET_KEY_ID"; }; then
      delete_secret=true
    else
      say "leaving Secret $NAMESPACE/$SECRET_NAME alone: $PROG did not write it and it holds no key of $USER_NAME"
    fi
  fi

  if ! $USER_EXISTS && ! $delete_secret; then
    say "nothing to delete: IAM user $USER_NAME does not exist$([[ -n $OUTPUT ]] || printf ' and Secret %s/%s is not there' "$NAMESPACE" "$SECRET_NAME")"
    return 0
  fi

  local other_policies=""
  if $USER_EXISTS; then
    assume "$POLICY_NAME"
    aws_call iam list-user-policies --user-name "$USER_NAME" --query 'PolicyNames[]' --output text ||
      die "$(aws_error_hint "list the policies of $USER_NAME (iam:ListUserPolicies)")"
    local p
    for p in $OUT; do
      if [[ $p == "$POLICY_NAME" ]]; then
        has_policy=true
      elif [[ $p != None ]]; then
        other_policies="$other_policies${other_policies:+ }$p"
      fi
    done
    assume ""
    aws_call iam list-attached-user-policies --user-name "$USER_NAME" --query 'AttachedPolicies[].PolicyArn' --output text ||
      die "$(aws_error_hint "list the attached policies of $USER_NAME (iam:ListAttachedUserPolicies)")"
    for p in $OUT; do
      [[ $p == None ]] || other_policies="$other_policies${other_policies:+ }$p"
    done
    if [[ -n $other_policies ]]; then
      die "$USER_NAME has policies $PROG did not put there ($other_policies); nothing was deleted. Remove them first if the user should go."
    fi
  fi

  local summary=""
  $delete_secret && summary="Secret $NAMESPACE/$SECRET_NAME (context $(context_label)); "
  if $USER_EXISTS; then
    summary="${summary}IAM user $USER_NAME with access key(s) $(keys_text)"
    $has_policy && summary="$summary and policy $POLICY_NAME"
  fi
  confirm_delete "$summary"

  if $delete_secret; then
    kube_call -n "$NAMESPACE" delete secret "$SECRET_NAME" --ignore-not-found ||
      die "$(kube_error_hint "delete Secret $NAMESPACE/$SECRET_NAME")"
    say "deleted Secret $NAMESPACE/$SECRET_NAME"
  fi
  if $USER_EXISTS; then
    local id
    for id in ${KEYS[@]+"${KEYS[@]}"}; do
      aws_call iam delete-access-key --user-name "$USER_NAME" --access-key-id "$id" ||
        die "$(aws_error_hint "delete access key $id (iam:DeleteAccessKey)"); run delete again to finish"
      say "deleted access key $id"
    done
    if $has_policy; then
      aws_call iam delete-user-policy --user-name "$USER_NAME" --policy-name "$POLICY_NAME" ||
        die "$(aws_error_hint "delete policy $POLICY_NAME (iam:DeleteUserPolicy)"); run delete again to finish"
      say "deleted policy $POLICY_NAME"
    fi
    aws_call iam delete-user --user-name "$USER_NAME" ||
      die "$(aws_error_hint "delete IAM user $USER_NAME (iam:DeleteUser)"); run delete again to finish"
    say "deleted IAM user $USER_NAME"
  fi
  if [[ -n $OUTPUT ]] && ! $DRY_RUN; then
    say "the Secret was not touched (--output): delete it where you applied it, e.g. kubectl -n $NAMESPACE delete secret $SECRET_NAME"
  fi
  [[ $DRY_RUN == false ]] || printf '# end of plan\n'
}

main() {
  parse_args "$@"
  validate_args
  trap on_exit EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  case $COMMAND:$WEB_IDENTITY in
    create:false) cmd_create ;;
    create:true) cmd_create_web_identity ;;
    rotate:*) cmd_rotate ;;
    delete:false) cmd_delete ;;
    delete:true) cmd_delete_web_identity ;;
  esac
}

main "$@"
