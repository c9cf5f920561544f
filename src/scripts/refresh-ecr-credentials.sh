#!/bin/sh
# refresh-ecr-credentials.sh - writes one fresh AWS ECR pull secret
# (type kubernetes.io/dockerconfigjson) into every selected namespace.
#
# Runs in alpine/k8s under busybox ash as a non-root user on a read-only root filesystem:
# POSIX sh plus kubectl, the aws CLI (v1), jq and busybox applets. Writes only under TMPDIR
# (and kubectl's discovery cache under HOME). Settings arrive as environment variables only.
#
# Environment (defaults in brackets):
#   AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY  credentials for GetAuthorizationToken (the aws
#                           CLI reads them itself; any other source the CLI supports works too)
#   AWS_REGION              region of the own registry (required)
#   AWS_ACCOUNT_ID          own account id [asked from `aws sts get-caller-identity`]
#   AWS_RETRY_MODE, AWS_MAX_ATTEMPTS  aws CLI retries [standard, 5]
#   ECR_SECRET_NAME         name of the managed Secret [ecr-registry-credentials]
#   ECR_REGISTRIES          extra registry hosts, space-separated, e.g.
#                           "210987654321.dkr.ecr.eu-west-1.amazonaws.com" [none]; the own
#                           account's registry in AWS_REGION is always included
#   ECR_TARGET_NAMESPACES   namespace names or globs (* ? [..]), space-separated [all]
#   ECR_EXCLUDE_NAMESPACES  namespace globs to leave alone, space-separated [none]
#   ECR_NAMESPACE_SELECTOR  label selector in kubectl -l syntax [none]
#   ECR_ADOPT_EXISTING      true: take over a same-named Secret another field manager owns
#                           (server-side apply --force-conflicts) [false]
#   ECR_APPLY_BATCH_SIZE    Secrets per kubectl process [250]
#   ECR_APPLY_PARALLELISM   kubectl processes running at once [2]
#
# Exit codes:
#   0  every selected namespace was updated, or skipped because it is terminating or gone
#   1  unexpected error (a bug, a missing tool, a killed process); see the last log lines
#   2  configuration error; nothing was written
#   3  AWS error: the account id or an ECR token could not be obtained; nothing was written
#   4  Kubernetes error: the namespaces could not be listed; nothing was written
#   5  at least one namespace failed or conflicted; every other namespace was written
#
# Log: one logfmt line per event on stdout, never containing a token:
#   level=info event=token region=eu-west-1 registries=... expires_at=2025-01-01T12:00:00Z
#   level=info event=namespace namespace=default result=updated
#   level=warn event=namespace namespace=old result=skipped reason="namespace is terminating"
#   level=error event=namespace namespace=app result=conflict reason="..."
#   level=error event=namespace namespace=app2 result=failed reason="..."
#   level=info event=summary selected=4 updated=1 skipped=1 conflict=1 failed=1 ... exit_code=5
# result is one of updated | skipped | conflict | failed; grep 'result=failed' finds failures.
set -eu
# Namespace globs are split from variables unquoted; without -f the shell would also expand
# them against files in the working directory.
set -f
umask 077

readonly FIELD_MANAGER=ecr-k8s-credentials
readonly ANNOTATION_PREFIX=ecr-k8s-credentials
readonly TOKEN_ATTEMPTS=3
readonly NL='
'

EXIT_UNEXPECTED=1
EXIT_CONFIG=2
EXIT_AWS=3
EXIT_KUBERNETES=4
EXIT_PARTIAL=5

started_at=$(date -u +%s)

# --- logging -------------------------------------------------------------------------------

# quote VALUE: VALUE as a logfmt string (double quotes, inner quotes and backslashes escaped,
# newlines flattened) in $quoted. Known secrets are cut out first, so that an error message that
# happens to echo the Secret back (an admission webhook quoting the object, say) cannot leak it.
quote() {
  q_in=$(redact "$1")
  quoted=
  while :; do
    case $q_in in
      *[\"\\]*)
        q_head=${q_in%%[\"\\]*}
        q_char=${q_in#"$q_head"}
        q_rest=${q_char#?}
        q_char=${q_char%"$q_rest"}
        quoted=$quoted$q_head\\$q_char
        q_in=$q_rest
        ;;
      *)
        quoted=\"$quoted$q_in\"
        break
        ;;
    esac
  done
}

# redact TEXT: prints TEXT with every known secret value replaced by [REDACTED] and newlines
# turned into spaces.
redact() {
  r_text=$1
  for r_secret in $secret_values; do
    while :; do
      case $r_text in
        *"$r_secret"*) r_text="${r_text%%"$r_secret"*}[REDACTED]${r_text#*"$r_secret"}" ;;
        *) break ;;
      esac
    done
  done
  printf '%s' "$r_text" | tr '\n\r\t' '   '
}

# log LEVEL EVENT [key=value ...] - values must already be quoted where they may hold spaces.
# The line goes out in one write, so lines of parallel workers never interleave.
log() {
  l_line="level=$1 event=$2"
  shift 2
  for l_pair; do
    l_line="$l_line $l_pair"
  done
  printf '%s\n' "$l_line"
}

# die EXIT_CODE REASON
die() {
  quote "$2"
  log error fatal "reason=$quoted" "exit_code=$1"
  exit "$1"
}

# --- configuration -------------------------------------------------------------------------

# Secrets (tokens, the encoded docker config) collected as they appear, for redact(). ECR tokens
# and base64 text never contain spaces, so one space-separated list is enough.
secret_values=

require_tool() {
  command -v "$1" >/dev/null 2>&1 ||
    die "$EXIT_UNEXPECTED" "$1 is not on PATH ($PATH); this script expects the alpine/k8s image"
}
for tool in aws kubectl jq base64 date tr mktemp; do
  require_tool "$tool"
done

is_region() {
  case $1 in
    '' | *[!a-z0-9-]* | -* | *-) return 1 ;;
    *-*) return 0 ;;
    *) return 1 ;;
  esac
}

# registry_region HOST: prints the region of an ECR registry host, fails for anything else.
registry_region() {
  rr_account=${1%%.*}
  case $rr_account in
    [0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]) ;;
    *) return 1 ;;
  esac
  rr_rest=${1#"$rr_account".dkr.ecr.}
  [ "$rr_rest" != "$1" ] || return 1
  rr_region=${rr_rest%%.*}
  is_region "$rr_region" || return 1
  # China regions live under their own domain; a mismatch would never authenticate.
  case $rr_region:${rr_rest#"$rr_region"} in
    cn-*:.amazonaws.com.cn) ;;
    cn-*:*) return 1 ;;
    *:.amazonaws.com) ;;
    *) return 1 ;;
  esac
  printf '%s\n' "$rr_region"
}

aws_region=${AWS_REGION:-}
secret_name=${ECR_SECRET_NAME:-ecr-registry-credentials}
extra_registries=${ECR_REGISTRIES:-}
target_namespaces=${ECR_TARGET_NAMESPACES:-}
exclude_namespaces=${ECR_EXCLUDE_NAMESPACES:-}
namespace_selector=${ECR_NAMESPACE_SELECTOR:-}
adopt_existing=${ECR_ADOPT_EXISTING:-false}
batch_size=${ECR_APPLY_BATCH_SIZE:-250}
parallelism=${ECR_APPLY_PARALLELISM:-2}
account_id=${AWS_ACCOUNT_ID:-}

is_region "$aws_region" ||
  die "$EXIT_CONFIG" "AWS_REGION \"$aws_region\" is not an AWS region; set it to the region of your own registry, e.g. eu-west-1"
case $secret_name in
  '' | *[!a-z0-9.-]* | [.-]* | *[.-]) die "$EXIT_CONFIG" "ECR_SECRET_NAME \"$secret_name\" is not a valid Secret name; use lowercase letters, digits, '-' and '.', e.g. ecr-registry-credentials" ;;
esac
[ "${#secret_name}" -le 253 ] || die "$EXIT_CONFIG" "ECR_SECRET_NAME is longer than 253 characters"
case $adopt_existing in
  true | false) ;;
  *) die "$EXIT_CONFIG" "ECR_ADOPT_EXISTING \"$adopt_existing\" must be true or false" ;;
esac
case $batch_size in
  '' | *[!0-9]* | 0*) die "$EXIT_CONFIG" "ECR_APPLY_BATCH_SIZE \"$batch_size\" must be a positive integer, e.g. 10" ;;
esac
case $parallelism in
  '' | *[!0-9]* | 0*) die "$EXIT_CONFIG" "ECR_APPLY_PARALLELISM \"$parallelism\" must be a positive integer, e.g. 2" ;;
esac
case $account_id in
  '' | [0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]) ;;
  *) die "$EXIT_CONFIG" "AWS_ACCOUNT_ID \"$account_id\" must be 12 digits, or empty to ask AWS STS" ;;
esac
for host in $extra_registries; do
  registry_region "$host" >/dev/null ||
    die "$EXIT_CONFIG" "ECR_REGISTRIES entry \"$host\" is not an ECR registry host; use ACCOUNT.dkr.ecr.REGION.amazonaws.com (.amazonaws.com.cn in China), e.g. 123456789012.dkr.ecr.$aws_region.amazonaws.com"
done

log info start "secret=$secret_name" "adopt_existing=$adopt_existing" \
  "batch_size=$batch_size" "parallelism=$parallelism"

# The CronJob sets these; a hand-run gets the same throttling/5xx retries.
AWS_RETRY_MODE=${AWS_RETRY_MODE:-standard}
AWS_MAX_ATTEMPTS=${AWS_MAX_ATTEMPTS:-5}
export AWS_RETRY_MODE AWS_MAX_ATTEMPTS

work=$(mktemp -d "${TMPDIR:-/tmp}/ecr-refresh.XXXXXX") ||
  die "$EXIT_UNEXPECTED" "cannot create a temporary directory under ${TMPDIR:-/tmp}"
trap 'rm -rf "$work"' EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

# last_line FILE: prints the last non-empty line of FILE (an error message), or "no output".
last_line() {
  ll_line="no output"
  while IFS= read -r ll_read || [ -n "$ll_read" ]; do
    [ -z "$ll_read" ] || ll_line=$ll_read
  done <"$1"
  printf '%s' "$ll_line"
}

# --- AWS: account and tokens, all before the first write -----------------------------------

if [ -z "$account_id" ]; then
  # aws CLI v1 reads only AWS_DEFAULT_REGION, hence --region everywhere.
  if ! account_id=$(aws sts get-caller-identity --region "$aws_region" --query Account --output text 2>"$work/aws.err"); then
    die "$EXIT_AWS" "cannot determine the AWS account id (set AWS_ACCOUNT_ID to skip this call): $(last_line "$work/aws.err"); nothing was written"
  fi
  case $account_id in
    [0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]) ;;
    *) die "$EXIT_AWS" "aws sts get-caller-identity returned \"$account_id\", not an account id; nothing was written" ;;
  esac
fi

case $aws_region in
  cn-*) own_registry=$account_id.dkr.ecr.$aws_region.amazonaws.com.cn ;;
  *) own_registry=$account_id.dkr.ecr.$aws_region.amazonaws.com ;;
esac

registries=
regions=
for host in $own_registry $extra_registries; do
  case " $registries " in
    *" $host "*) continue ;;
  esac
  registries=${registries:+$registries }$host
  region=$(registry_region "$host")
  case " $regions " in
    *" $region "*) ;;
    *) regions=${regions:+$regions }$region ;;
  esac
done

is_retryable() {
  case $(last_line "$1") in
    *Throttl* | *"Rate exceeded"* | *TooManyRequests* | *RequestLimitExceeded* | *ServiceUnavailable* | \
      *InternalServerError* | *InternalFailure* | *ServerException* | *"Could not connect"* | \
      *"Connection was closed"* | *timeout* | *"timed out"* | *"(50"[0-9]")"*) return 0 ;;
  esac
  return 1
}

# fetch_token REGION: sets $token and $token_expiry (epoch seconds, empty if unknown).
#
# The token must never reach a process's argv: /proc/PID/cmdline is world-readable on the node,
# unlike this shell's memory. So it lives only in shell variables (never exported) and moves
# between processes through pipes fed by printf, a shell builtin that is never exec'd.
# get-login-password would hide the expiry, so this asks get-authorization-token and lets jq
# pick the fields from stdin.
fetch_token() {
  ft_attempt=1
  while :; do
    if ft_response=$(aws ecr get-authorization-token --region "$1" --output json 2>"$work/aws.err"); then
      break
    fi
    if [ "$ft_attempt" -ge "$TOKEN_ATTEMPTS" ] || ! is_retryable "$work/aws.err"; then
      quote "$(last_line "$work/aws.err")"
      log error token "region=$1" "attempt=$ft_attempt" "reason=$quoted"
      return 1
    fi
    # The CLI already retried AWS_MAX_ATTEMPTS times with backoff; wait longer before another
    # round, so a throttled account gets room to recover.
    quote "$(last_line "$work/aws.err")"
    log warn token "region=$1" "attempt=$ft_attempt" "retry_in_s=$((ft_attempt * 5))" "reason=$quoted"
    sleep "$((ft_attempt * 5))"
    ft_attempt=$((ft_attempt + 1))
  done
  # Two lines out: the expiry (epoch seconds; aws CLI v1 prints a number, v2 an ISO string),
  # then the token.
  ft_parsed=$(printf '%s\n' "$ft_response" | jq -r '
    .authorizationData[0]
    | (.expiresAt
        | if type == "number" then floor | tostring
          elif type == "string" then
            (try (sub("\\.[0-9]+"; "") | sub("[+]00:?00$"; "Z") | fromdateiso8601 | tostring)
             catch "")
          else "" end),
      (.authorizationToken // "")') || ft_parsed=
  case $ft_parsed in
    *"$NL"*)
      token_expiry=${ft_parsed%%"$NL"*}
      token=${ft_parsed#*"$NL"}
      ;;
    *) token= ;;
  esac
  # The token goes into JSON unescaped, so insist on the base64 alphabet it is made of.
  case $token in
    '' | *[!A-Za-z0-9+/=]*)
      log error token "region=$1" "reason=\"GetAuthorizationToken returned no usable authorizationToken\""
      return 1
      ;;
  esac
  case $token_expiry in
    *[!0-9]*) token_expiry= ;;
  esac
  secret_values="$secret_values $token"
}

auths=
expires_epoch=
for region in $regions; do
  fetch_token "$region" || die "$EXIT_AWS" "no ECR token for region $region; nothing was written"
  region_registries=
  for host in $registries; do
    [ "$(registry_region "$host")" = "$region" ] || continue
    # Within a region one token serves every account's registry the principal may read.
    auths="${auths:+$auths,}\"$host\":{\"auth\":\"$token\"}"
    region_registries=${region_registries:+$region_registries,}$host
  done
  if [ -n "$token_expiry" ] && { [ -z "$expires_epoch" ] || [ "$token_expiry" -lt "$expires_epoch" ]; }; then
    expires_epoch=$token_expiry
  fi
  if [ -n "$token_expiry" ]; then
    expiry_text=$(date -u -d "@$token_expiry" +%Y-%m-%dT%H:%M:%SZ 2>/dev/null || printf unknown)
  else
    expiry_text=unknown
  fi
  log info token "region=$region" "registries=$region_registries" "expires_at=$expiry_text"
done
token=

# kubelet reads `auth` (base64 "AWS:password", which is exactly ECR's authorizationToken);
# username/password are left out so the Secret carries the credential once per registry.
docker_config_b64=$(printf '{"auths":{%s}}' "$auths" | base64 | tr -d '\n')
auths=
secret_values="$secret_values $docker_config_b64"

refreshed_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)
registry_list=$(printf '%s' "$registries" | tr ' ' ',')
if [ -n "$expires_epoch" ]; then
  expires_at=$(date -u -d "@$expires_epoch" +%Y-%m-%dT%H:%M:%SZ 2>/dev/null || printf '')
else
  expires_at=
fi

# --- namespaces ----------------------------------------------------------------------------

# matches_any NAME "GLOB ..." - the patterns are globs on purpose (set -f keeps them from
# matching files while the list is split).
matches_any() {
  for ma_pattern in $2; do
    # shellcheck disable=SC2254
    case $1 in
      $ma_pattern) return 0 ;;
    esac
  done
  return 1
}

# The server-side table (NAME STATUS AGE) rather than -o jsonpath: kubectl then never decodes the
# full objects, which at 5,000 namespaces saves ~25 MiB. One LIST (no chunks) keeps the request
# count at N + a handful. Should the STATUS column ever change, a terminating namespace is still
# caught when its write is refused.
set -- get namespaces --chunk-size=0 --request-timeout=60s --no-headers
[ -z "$namespace_selector" ] || set -- "$@" --selector "$namespace_selector"
if ! kubectl "$@" >"$work/namespaces" 2>"$work/kubectl.err"; then
  list_error=$(last_line "$work/kubectl.err")
  case $list_error in
    *selector* | *"parse requirement"* | *"found '"*)
      die "$EXIT_CONFIG" "ECR_NAMESPACE_SELECTOR \"$namespace_selector\" was rejected: $list_error; use kubectl -l syntax, e.g. env=prod,team!=infra" ;;
  esac
  die "$EXIT_KUBERNETES" "cannot list namespaces: $list_error; nothing was written"
fi

updated=0
skipped=0
conflicts=0
failed=0
selected=0
target_count=0
listed_count=0

# skip NAMESPACE REASON
skip() {
  quote "$2"
  log warn namespace "namespace=$1" result=skipped "reason=$quoted"
  skipped=$((skipped + 1))
}

: >"$work/targets"
listed=
while read -r ns phase _; do
  [ -n "$ns" ] || continue
  listed_count=$((listed_count + 1))
  [ -z "$target_namespaces" ] || listed="$listed $ns "
  if [ -n "$target_namespaces" ] && ! matches_any "$ns" "$target_namespaces"; then
    continue
  fi
  selected=$((selected + 1))
  if [ -n "$exclude_namespaces" ] && matches_any "$ns" "$exclude_namespaces"; then
    skip "$ns" "excluded by ECR_EXCLUDE_NAMESPACES"
  elif [ "$phase" = Terminating ]; then
    # Writes into a terminating namespace are refused; they would fail every run until it is gone.
    skip "$ns" "namespace is terminating"
  else
    printf '%s\n' "$ns" >>"$work/targets"
    target_count=$((target_count + 1))
  fi
done <"$work/namespaces"

# A name (not a glob) asked for explicitly but not listed deserves a line of its own.
for pattern in $target_namespaces; do
  case $pattern in
    *[*?[]*) continue ;;
  esac
  case $listed in
    *" $pattern "*) continue ;;
  esac
  selected=$((selected + 1))
  if [ -n "$namespace_selector" ]; then
    skip "$pattern" "namespace not found or not matched by ECR_NAMESPACE_SELECTOR"
  else
    skip "$pattern" "namespace not found"
  fi
done
listed=

# --- writes --------------------------------------------------------------------------------

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
      quote "Secret $secret_name belongs to another field manager (${st_error#*: }); left unchanged, set ECR_ADOPT_EXISTING=true to take it over"
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

# Batches bound kubectl's memory (it holds every object it was given: ~30 KiB each with a
# three-registry config, so ~20 MiB for 250) while keeping process starts (~0.1 s of CPU each) few.
# Two processes side by side overlap their waits on the API server. kubectl's client-side rate
# limit (5 requests/s) does not slow a batch: apply builds a fresh client for every object.
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
  if [ -f "$work/counts.$worker" ] && read -r w_updated w_skipped w_conflicts w_failed <"$work/counts.$worker"; then
    updated=$((updated + w_updated))
    skipped=$((skipped + w_skipped))
    conflicts=$((conflicts + w_conflicts))
    failed=$((failed + w_failed))
  else
    lost_workers=$((lost_workers + 1))
  fi
  worker=$((worker + 1))
done

if [ "$lost_workers" -gt 0 ]; then
  exit_code=$EXIT_UNEXPECTED
  level=error
elif [ "$((conflicts + failed))" -gt 0 ]; then
  # A conflict is not success: a Secret nobody refreshes expires within 12 hours.
  exit_code=$EXIT_PARTIAL
  level=error
else
  exit_code=0
  level=info
fi
log "$level" summary "namespaces=$listed_count" "selected=$selected" "updated=$updated" \
  "skipped=$skipped" "conflict=$conflicts" "failed=$failed" "lost_workers=$lost_workers" \
  "seconds=$(($(date -u +%s) - started_at))" "exit_code=$exit_code"
exit "$exit_code"
