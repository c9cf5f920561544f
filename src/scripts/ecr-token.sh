# ecr-token.sh - AWS: the own account, the registry list and one ECR token per region, all
# fetched before the first write. Sourced by refresh-ecr-credentials.sh; defines functions only.
# shellcheck shell=sh

# resolve_account: sets $account_id (from AWS_ACCOUNT_ID, else from STS) and $own_registry.
resolve_account() {
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

  own_registry=$(registry_host "$account_id" "$aws_region")
}

# collect_registries: sets $registries ("HOST=ROLE_ARN" entries, ROLE_ARN empty for the base
# credentials; own registry first, each host once), $registry_hosts (the hosts alone) and
# $token_sources ("REGION=ROLE_ARN": one token each, since a token serves every registry of its
# region that its principal may read).
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

# is_retryable FILE: whether the error in FILE's last line is worth another round: throttling,
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

# signed_authorization_token REGION: the GetAuthorizationToken response (JSON) on stdout, from one
# POST that curl signs (SigV4, service ecr) with the key in the environment. The key and secret
# reach curl in its config on stdin, never in argv. Throttling (HTTP 400 ThrottlingException),
# 429, 5xx and no answer are tried again up to AWS_MAX_ATTEMPTS times in all, after 1, 2, 4, ...
# s, as the CLI's standard retry mode does; then, and for any other error, one line on stderr:
# "GetAuthorizationToken: HTTP STATUS TYPE: MESSAGE", and a non-zero return.
signed_authorization_token() {
  sat_url=$(ecr_api_url "$1")/
  sat_attempt=1
  while :; do
    sat_status=$(
      printf '%s\n' "user = \"$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY\"" "aws-sigv4 = \"aws:amz:$1:ecr\"" \
        "url = \"$sat_url\"" 'header = "Content-Type: application/x-amz-json-1.1"' \
        'header = "X-Amz-Target: AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken"' 'data = "{}"' \
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
    if [ "$sat_attempt" -ge "${AWS_MAX_ATTEMPTS:-5}" ] || ! is_retryable "$work/token.err"; then
      cat "$work/token.err" >&2
      return 1
    fi
    sleep "$((1 << (sat_attempt - 1)))"
    sat_attempt=$((sat_attempt + 1))
  done
}

# get_authorization_token REGION [ROLE_ARN]: the GetAuthorizationToken response (JSON) on stdout,
# with the base credentials or, given a role, as that role (its profile in write_role_config).
get_authorization_token() {
  if [ -n "${2:-}" ]; then
    AWS_CONFIG_FILE="$work/aws-config" aws ecr get-authorization-token --region "$1" --profile "$2" --output json
  elif curl_signs; then
    signed_authorization_token "$1"
  else
    aws ecr get-authorization-token --region "$1" --output json
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
    if [ "$ft_attempt" -ge "$TOKEN_ATTEMPTS" ] || ! is_retryable "$work/aws.err"; then
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

# fetch_tokens: one token per region; sets $docker_config_b64 (the whole .dockerconfigjson,
# base64) and the annotation values $refreshed_at, $registry_list and $expires_at.
fetch_tokens() {
  auths=
  expires_epoch=
  write_role_config
  for ft_source in $token_sources; do
    ft_region=${ft_source%%=*}
    ft_role=${ft_source#*=}
    fetch_token "$ft_region" "$ft_role" ||
      die "$EXIT_AWS" "no ECR token for region $ft_region${ft_role:+ as $ft_role}; nothing was written"
    region_registries=
    for ft_entry in $registries; do
      [ "${ft_entry#*=}" = "$ft_role" ] || continue
      ft_host=${ft_entry%%=*}
      [ "$(registry_region "$ft_host")" = "$ft_region" ] || continue
      # Within a region one token serves every account's registry the principal may read.
      auths="${auths:+$auths,}\"$ft_host\":{\"auth\":\"$token\"}"
      region_registries=${region_registries:+$region_registries,}$ft_host
    done
    if [ -n "$token_expiry" ] && { [ -z "$expires_epoch" ] || [ "$token_expiry" -lt "$expires_epoch" ]; }; then
      expires_epoch=$token_expiry
    fi
    if [ -n "$token_expiry" ]; then
      expiry_text=$(date -u -d "@$token_expiry" +%Y-%m-%dT%H:%M:%SZ 2>/dev/null || printf unknown)
    else
      expiry_text=unknown
    fi
    if [ -n "$ft_role" ]; then
      log info token "region=$ft_region" "role=$ft_role" "registries=$region_registries" "expires_at=$expiry_text"
    else
      log info token "region=$ft_region" "registries=$region_registries" "expires_at=$expiry_text"
    fi
  done
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
