# ecr-token.sh - AWS: the own account, the registry list and one ECR token per region, all
# fetched before the first write. Sourced by refresh-ecr-credentials.sh; defines functions only.
# shellcheck shell=sh

# aws_cli ARGS...: the aws CLI with its HOME in the run's work directory. aws CLI v1 caches the
# credentials of every AssumeRole and AssumeRoleWithWebIdentity it makes in ~/.aws/cli/cache, in
# plain JSON; under HOME (a disk-backed emptyDir in the pod, a user's home by hand) they would
# outlive the run on disk. In $work (TMPDIR: memory in the pod) they go with the run. The user's
# own config, credentials and SSO login are still read from the real HOME. Each attempt is bounded
# (10 s to connect, 30 s per read) like curl's, so the worst case stays a sum of known terms.
aws_cli() {
  if [ ! -d "$work/aws-home" ]; then
    mkdir -p "$work/aws-home/.aws"
    [ ! -d "${HOME:-/nonexistent}/.aws/sso" ] || ln -s "$HOME/.aws/sso" "$work/aws-home/.aws/sso"
  fi
  # Expanded before the assignments below: within one command they apply left to right.
  ac_config=${ac_config_file:-${AWS_CONFIG_FILE:-${HOME:-}/.aws/config}}
  ac_credentials=${AWS_SHARED_CREDENTIALS_FILE:-${HOME:-}/.aws/credentials}
  AWS_CONFIG_FILE=$ac_config AWS_SHARED_CREDENTIALS_FILE=$ac_credentials HOME=$work/aws-home \
    aws --cli-connect-timeout 10 --cli-read-timeout 30 "$@"
}

# resolve_account: sets $account_id (from AWS_ACCOUNT_ID, else from STS) and $own_registry.
resolve_account() {
  if [ -z "$account_id" ]; then
    # aws CLI v1 reads only AWS_DEFAULT_REGION, hence --region everywhere.
    if ! account_id=$(aws_cli sts get-caller-identity --region "$aws_region" --query Account --output text 2>"$work/aws.err"); then
      die "$EXIT_AWS" "cannot determine the AWS account id (set AWS_ACCOUNT_ID to skip this call): $(last_line "$work/aws.err"); nothing was written"
    fi
    case $account_id in
      [0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]) ;;
      *) die "$EXIT_AWS" "aws sts get-caller-identity returned \"$account_id\", not an account id; nothing was written" ;;
    esac
  fi

  own_registry=$(registry_host "$account_id" "$aws_region")
}

# collect_registries: sets $registries ("HOST=ROLE_ARN" entries, ROLE_ARN empty for the base
# credentials; own registry first, each host once), $registry_hosts (the hosts alone) and
# $token_sources ("REGION=ROLE_ARN": one token each, since a token serves every registry of its
# region that its principal may read). With ECR_PUBLIC=true, public.ecr.aws ends both host lists,
# its token source being "public=" (always the base credentials: ecr-public.sh).
collect_registries() {
  registries=
  registry_hosts=
  token_sources=
  for cr_entry in $own_registry $extra_registries; do
    cr_host=${cr_entry%%=*}
    cr_role=
    [ "$cr_host" = "$cr_entry" ] || cr_role=${cr_entry#*=}
    case " $registry_hosts " in
      *" $cr_host "*) continue ;;
    esac
    registries=${registries:+$registries }$cr_host=$cr_role
    registry_hosts=${registry_hosts:+$registry_hosts }$cr_host
    cr_source=$(registry_region "$cr_host")=$cr_role
    case " $token_sources " in
      *" $cr_source "*) ;;
      *) token_sources=${token_sources:+$token_sources }$cr_source ;;
    esac
  done
  if [ "$ecr_public" = true ]; then
    registry_hosts="$registry_hosts $ECR_PUBLIC_HOST"
    token_sources="$token_sources public="
  fi
}

# write_role_config: when a registry names a role, writes an aws CLI config file with one profile
# per role, so that the CLI assumes each role itself from the base credentials (the key in the
# environment, or the web-identity token). The temporary credentials then live only inside the
# aws process: never in this shell, an argv or an environment.
write_role_config() {
  case $token_sources in
    *=arn:*) ;;
    *) return 0 ;;
  esac
  if [ -n "${AWS_WEB_IDENTITY_TOKEN_FILE:-}" ] && [ -n "${AWS_ROLE_ARN:-}" ]; then
    printf '[profile ecr-base]\nrole_arn = %s\nweb_identity_token_file = %s\nrole_session_name = %s\n' \
      "$AWS_ROLE_ARN" "$AWS_WEB_IDENTITY_TOKEN_FILE" "$session_name" >"$work/aws-config"
    wr_source='source_profile = ecr-base'
  else
    : >"$work/aws-config"
    wr_source='credential_source = Environment'
  fi
  for wr_token_source in $token_sources; do
    wr_role=${wr_token_source#*=}
    [ -n "$wr_role" ] || continue
    # A role shared by two regions gets its profile once; its STS calls stay in the partition.
    grep -qxF "[profile $wr_role]" "$work/aws-config" && continue
    printf '[profile %s]\nrole_arn = %s\n%s\nrole_session_name = %s\nregion = %s\nsts_regional_endpoints = regional\n' \
      "$wr_role" "$wr_role" "$wr_source" "$session_name" "$aws_region" >>"$work/aws-config"
  done
}

# is_retryable FILE: whether the error in FILE's last line is worth another try: throttling,
# a server error or no answer, as the aws CLI or signed_authorization_token words it.
is_retryable() {
  case $(last_line "$1") in
    *Throttl* | *"Rate exceeded"* | *TooManyRequests* | *RequestLimitExceeded* | *ServiceUnavailable* | \
      *InternalServerError* | *InternalFailure* | *ServerException* | *"Could not connect"* | \
      *"Connection was closed"* | *timeout* | *"timed out"* | *"(50"[0-9]")"* | *"HTTP 429"* | \
      *"HTTP 5"[0-9][0-9]* | *"no answer from"*) return 0 ;;
  esac
  return 1
}

# is_overloaded FILE: whether the error in FILE's last line says AWS is throttling or failing
# (worth another round after a pause, so a throttled account gets room to recover). No answer at
# all is not: AWS_MAX_ATTEMPTS tries have each waited their full time already, and more rounds
# would only carry the run past its deadline.
is_overloaded() {
  case $(last_line "$1") in
    *"no answer from"* | *"Could not connect"* | *"Connection was closed"* | *timeout* | *"timed out"*) return 1 ;;
  esac
  is_retryable "$1"
}

# curl_signs: whether curl can send GetAuthorizationToken itself, signing it with SigV4 from the
# access key in the environment, instead of starting the aws CLI (about half a CPU second and
# 50 MiB each run). Only for the plain case: a key and secret (no session token), no profile, no
# dual-stack endpoints; anything else, and every role, goes through the CLI.
curl_signs() {
  [ -n "${AWS_ACCESS_KEY_ID:-}" ] && [ -n "${AWS_SECRET_ACCESS_KEY:-}" ] && [ -z "${AWS_SESSION_TOKEN:-}" ] &&
    [ -z "${AWS_PROFILE:-}" ] && [ "${AWS_USE_DUALSTACK_ENDPOINT:-false}" = false ] || return 1
  # Both go into curl's config between double quotes, "ID:SECRET": an id is letters and digits,
  # and a secret must hold no quote, backslash or newline.
  case $AWS_ACCESS_KEY_ID in
    *[!A-Za-z0-9]*) return 1 ;;
  esac
  case $AWS_SECRET_ACCESS_KEY in
    *[\"\\]* | *"$NL"*) return 1 ;;
  esac
}

# aws_error FILE: "TYPE: MESSAGE" of an AWS error response: JSON, {"__type": "[namespace#]TYPE",
# "message": ...}, as ECR answers, or XML, <Code>TYPE</Code>...<Message>..., as some front ends do.
aws_error() {
  jq -r '"\(.__type // "" | sub(".*#"; "")): \(.message // .Message // "")"' "$1" 2>/dev/null ||
    sed -n 's:.*<Code>\(.*\)</Code>.*<Message>\(.*\)</Message>.*:\1\: \2:p' "$1"
}

# signed_authorization_token URL REGION SERVICE TARGET: the GetAuthorizationToken response (JSON)
# on stdout, from one POST to URL (X-Amz-Target TARGET) that curl signs (SigV4, for SERVICE in
# REGION) with the key in the environment: ECR's (ecr_api_url, ecr) and ECR Public's
# (ecr_public_api_url, ecr-public in us-east-1) alike. The key and secret
# reach curl in its config on stdin, never in argv. Throttling (HTTP 400 ThrottlingException),
# 429, 5xx and no answer are tried again up to AWS_MAX_ATTEMPTS times in all, after 1, 2, 4, ...
# s, at most 20 s (the cap of the CLI's standard retry mode, so AWS_MAX_ATTEMPTS=10 sleeps 1+2+4+8+
# 16+20+20+20+20 = 111 s, not 511 s); then, and for any other error, one line on stderr:
# "GetAuthorizationToken: HTTP STATUS TYPE: MESSAGE", and a non-zero return.
signed_authorization_token() {
  sat_url=$1
  sat_attempt=1
  while :; do
    sat_status=$(
      printf '%s\n' "user = \"$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY\"" "aws-sigv4 = \"aws:amz:$2:$3\"" \
        "url = \"$sat_url\"" 'header = "Content-Type: application/x-amz-json-1.1"' \
        "header = \"X-Amz-Target: $4\"" 'data = "{}"' \
        "output = \"$work/token.json\"" silent show-error 'connect-timeout = 10' 'max-time = 30' \
        ${AWS_CA_BUNDLE:+"cacert = \"$AWS_CA_BUNDLE\""} 'write-out = "%{http_code}"' |
        curl -q --config - 2>"$work/curl.err"
    ) || :
    case $sat_status in
      200)
        cat "$work/token.json"
        rm -f "$work/token.json"
        return 0
        ;;
      000) sat_error="no answer from $sat_url ($(last_line "$work/curl.err"))" ;;
      *)
        sat_error="HTTP $sat_status $(aws_error "$work/token.json")"
        ;;
    esac
    rm -f "$work/token.json"
    printf 'GetAuthorizationToken: %s\n' "$sat_error" >"$work/token.err"
    if [ "$sat_attempt" -ge "$AWS_MAX_ATTEMPTS" ] || ! is_retryable "$work/token.err"; then
      cat "$work/token.err" >&2
      return 1
    fi
    sat_pause=$((sat_attempt > 5 ? 20 : 1 << (sat_attempt - 1)))
    [ "$sat_pause" -le 20 ] || sat_pause=20
    sleep "$sat_pause"
    sat_attempt=$((sat_attempt + 1))
  done
}

# get_authorization_token REGION [ROLE_ARN]: the GetAuthorizationToken response (JSON) on stdout,
# with the base credentials or, given a role, as that role (its profile in write_role_config).
# REGION "public" is ECR Public's token (ecr-public.sh).
get_authorization_token() {
  if [ "$1" = public ]; then
    public_authorization_token
  elif [ -n "${2:-}" ]; then
    ac_config_file=$work/aws-config
    gat_status=0
    aws_cli ecr get-authorization-token --region "$1" --profile "$2" --output json || gat_status=$?
    ac_config_file=
    return "$gat_status"
  elif curl_signs; then
    signed_authorization_token "$(ecr_api_url "$1")/" "$1" ecr AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken
  else
    aws_cli ecr get-authorization-token --region "$1" --output json
  fi
}

# fetch_token REGION [ROLE_ARN]: sets $token and $token_expiry (epoch seconds, empty if unknown).
#
# The token must never reach a process's argv: /proc/PID/cmdline is world-readable on the node,
# unlike this shell's memory. So it lives only in shell variables (never exported) and moves
# between processes through pipes fed by printf, a shell builtin that is never exec'd.
# get-login-password would hide the expiry, so this asks get-authorization-token and lets jq
# pick the fields from stdin.
fetch_token() {
  ft_attempt=1
  while :; do
    if ft_response=$(get_authorization_token "$1" "${2:-}" 2>"$work/aws.err"); then
      break
    fi
    if [ "$ft_attempt" -ge "$TOKEN_ATTEMPTS" ] || ! is_overloaded "$work/aws.err"; then
      quote "$(last_line "$work/aws.err")"
      log error token "region=$1" "role=${2:-}" "attempt=$ft_attempt" "reason=$quoted"
      return 1
    fi
    # The CLI already retried AWS_MAX_ATTEMPTS times with backoff; wait longer before another
    # round, so a throttled account gets room to recover.
    quote "$(last_line "$work/aws.err")"
    log warn token "region=$1" "role=${2:-}" "attempt=$ft_attempt" "retry_in_s=$((ft_attempt * 5))" "reason=$quoted"
    sleep "$((ft_attempt * 5))"
    ft_attempt=$((ft_attempt + 1))
  done
  # Two lines out: the expiry (epoch seconds; aws CLI v1 prints a number, v2 an ISO string),
  # then the token. ECR answers a list of authorizationData, ECR Public one object.
  case $1 in
    public) ft_data=.authorizationData ;;
    *) ft_data='.authorizationData[0]' ;;
  esac
  ft_parsed=$(printf '%s\n' "$ft_response" | jq -r "$ft_data"'
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

# add_token SOURCE: adds $token (of SOURCE, "REGION=ROLE_ARN", expiring at $token_expiry) to the
# docker config being built in $auths, for every registry it serves, and lowers $expires_epoch to
# its expiry. Sets $region_registries (the hosts, comma-separated).
add_token() {
  at_region=${1%%=*}
  at_role=${1#*=}
  region_registries=
  case $at_region in
    public)
      auths="${auths:+$auths,}\"$ECR_PUBLIC_HOST\":{\"auth\":\"$token\"}"
      region_registries=$ECR_PUBLIC_HOST
      ;;
  esac
  # No private registry is in region "public": for ECR Public's token the loop adds nothing.
  for at_entry in $registries; do
    [ "${at_entry#*=}" = "$at_role" ] || continue
    at_host=${at_entry%%=*}
    [ "$(registry_region "$at_host")" = "$at_region" ] || continue
    # Within a region one token serves every account's registry the principal may read.
    auths="${auths:+$auths,}\"$at_host\":{\"auth\":\"$token\"}"
    region_registries=${region_registries:+$region_registries,}$at_host
  done
  if [ -n "$token_expiry" ] && { [ -z "$expires_epoch" ] || [ "$token_expiry" -lt "$expires_epoch" ]; }; then
    expires_epoch=$token_expiry
  fi
}

# log_token SOURCE [key=value ...]: the token line of a token just fetched.
log_token() {
  lt_region=${1%%=*}
  lt_role=${1#*=}
  shift
  if [ -n "$token_expiry" ]; then
    lt_expiry=$(date -u -d "@$token_expiry" +%Y-%m-%dT%H:%M:%SZ 2>/dev/null || printf unknown)
  else
    lt_expiry=unknown
  fi
  if [ -n "$lt_role" ]; then
    log info token "region=$lt_region" "role=$lt_role" "registries=$region_registries" "expires_at=$lt_expiry" "$@"
  else
    log info token "region=$lt_region" "registries=$region_registries" "expires_at=$lt_expiry" "$@"
  fi
}

# finish_docker_config: $docker_config_b64 (the whole .dockerconfigjson, base64) from $auths, and
# the annotation values $refreshed_at, $registry_list and $expires_at.
finish_docker_config() {
  token=
  # kubelet reads `auth` (base64 "AWS:password", which is exactly ECR's authorizationToken);
  # username/password are left out so the Secret carries the credential once per registry.
  docker_config_b64=$(printf '{"auths":{%s}}' "$auths" | base64 | tr -d '\n')
  auths=
  secret_values="$secret_values $docker_config_b64"

  refreshed_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  registry_list=$(printf '%s' "$registry_hosts" | tr ' ' ',')
  if [ -n "$expires_epoch" ]; then
    expires_at=$(date -u -d "@$expires_epoch" +%Y-%m-%dT%H:%M:%SZ 2>/dev/null || printf '')
  else
    expires_at=
  fi
}

# group_tokens: one fresh token per source of $token_sources, as the docker config (finish_docker_
# config). Returns non-zero (logged) when one cannot be had, its region in $failed_region. ECR
# Public's token ("public=") is every group's and the base credentials' alone: asked once a run.
group_tokens() {
  auths=
  expires_epoch=
  write_role_config
  for gt_source in $token_sources; do
    if [ "$gt_source" = public= ] && [ -n "${public_token:-}" ]; then
      # Asked (and logged) for an earlier group of this run.
      token=$public_token
      token_expiry=$public_token_expiry
      add_token "$gt_source"
      continue
    elif ! fetch_token "${gt_source%%=*}" "${gt_source#*=}"; then
      failed_region=${gt_source%%=*}
      failed_role=${gt_source#*=}
      return 1
    elif [ "$gt_source" = public= ]; then
      public_token=$token
      public_token_expiry=$token_expiry
    fi
    add_token "$gt_source"
    log_token "$gt_source"
  done
  finish_docker_config
}

# fetch_tokens: one fresh token per region for a scheduled run; exits 3 when one cannot be had.
fetch_tokens() {
  group_tokens ||
    die "$EXIT_AWS" "no ECR token for region $failed_region${failed_role:+ as $failed_role}; nothing was written"
}

# The watcher keeps each region's token between batches, so a new namespace waits for the API
# server only, not for AWS. $token_cache holds one line per token source,
# "SOURCE KEEP_UNTIL EXPIRY TOKEN" (epoch seconds), in this shell's memory only. A token is kept
# for at most an hour (at most one GetAuthorizationToken per region per hour, and a Secret written
# with it still has 11 of its 12 hours: past the next scheduled run) and at most half of the life
# it had left when it arrived, so a kept token is never used within half its life of its expiry.
# A token whose expiresAt is already past when it arrives (a wrong clock, here or at AWS) is
# never kept: it is written once, for the batch it was asked for, exactly as a scheduled run would
# write it, and the next batch asks again.
readonly TOKEN_KEEP_SECONDS=3600
token_cache=
# Each group's docker config (and its annotations) built from the kept tokens alone, in
# $kept_docker_config_G and $kept_expires_at_G, reused as long as every token is kept: a batch then
# starts no process for its credentials but `date`.

# kept_tokens GROUP: the docker config of group GROUP (0: the base credentials; see
# ecr-tenants.sh) for a watcher batch, from kept tokens where they are still good and fresh ones
# elsewhere. Returns non-zero (logged) when a token cannot be had; the cache keeps what it had.
# Adds the tokens asked for to $token_calls.
kept_tokens() {
  auths=
  expires_epoch=
  kt_now=$(date -u +%s)
  kt_cache=
  kt_all_kept=true
  kt_calls=0
  eval "kept_docker_config=\${kept_docker_config_$1:-} kept_expires_at=\${kept_expires_at_$1:-}"
  write_role_config
  for kt_source in $token_sources; do
    kt_found=
    kt_lines=$token_cache
    while [ -n "$kt_lines" ]; do
      kt_line=${kt_lines%%"$NL"*}
      kt_lines=${kt_lines#"$kt_line"}
      kt_lines=${kt_lines#"$NL"}
      [ "${kt_line%% *}" = "$kt_source" ] || continue
      kt_rest=${kt_line#* }
      kt_keep=${kt_rest%% *}
      kt_rest=${kt_rest#* }
      [ "$kt_now" -lt "$kt_keep" ] || break
      token_expiry=${kt_rest%% *}
      token=${kt_rest#* }
      kt_found=$kt_line
      break
    done
    if [ -n "$kt_found" ]; then
      secret_values="$secret_values $token"
      kt_cache="$kt_cache$kt_found$NL"
      add_token "$kt_source"
      continue
    fi
    kt_calls=$((kt_calls + 1))
    token_calls=$((token_calls + 1))
    if ! fetch_token "${kt_source%%=*}" "${kt_source#*=}"; then
      token=
      auths=
      return 1
    fi
    add_token "$kt_source"
    kt_keep=0
    if [ -n "$token_expiry" ]; then
      kt_keep=$(((token_expiry - kt_now) / 2))
      [ "$kt_keep" -le "$TOKEN_KEEP_SECONDS" ] || kt_keep=$TOKEN_KEEP_SECONDS
    fi
    if [ "$kt_keep" -gt 0 ]; then
      kt_cache="$kt_cache$kt_source $((kt_now + kt_keep)) $token_expiry $token$NL"
      log_token "$kt_source" "kept_s=$kt_keep"
    else
      kt_all_kept=false
      log_token "$kt_source" kept_s=0 reason='"expiresAt is not in the future; used for this batch only (check the clock)"'
    fi
  done
  # Sources of other groups stay in the cache as they were.
  kt_lines=$token_cache
  while [ -n "$kt_lines" ]; do
    kt_line=${kt_lines%%"$NL"*}
    kt_lines=${kt_lines#"$kt_line"}
    kt_lines=${kt_lines#"$NL"}
    case " $token_sources " in
      *" ${kt_line%% *} "*) ;;
      *) kt_cache="$kt_cache$kt_line$NL" ;;
    esac
  done
  token_cache=$kt_cache
  kt_cache=
  if [ "$kt_calls" -eq 0 ] && [ -n "$kept_docker_config" ]; then
    token=
    auths=
    docker_config_b64=$kept_docker_config
    secret_values="$secret_values $docker_config_b64"
    refreshed_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    expires_at=$kept_expires_at
    return 0
  fi
  finish_docker_config
  # Only when every token of it is kept: one used for this batch alone must not be reused.
  if $kt_all_kept; then
    eval "kept_docker_config_$1=\$docker_config_b64 kept_expires_at_$1=\$expires_at"
  else
    eval "kept_docker_config_$1= kept_expires_at_$1="
  fi
}
