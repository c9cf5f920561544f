# ecr-settings.sh - the script's settings: read from the environment, checked before any call.
# Sourced by refresh-ecr-credentials.sh; defines functions only.
# shellcheck shell=sh

require_tool() {
  command -v "$1" >/dev/null 2>&1 ||
    die "$EXIT_UNEXPECTED" "$1 is not on PATH ($PATH); this script expects the alpine/k8s image"
}

# is_region NAME: xx-word[-word...]-N, e.g. eu-west-1, us-gov-west-1 (REGION in aws.ts).
is_region() {
  case ${1##*-} in
    '' | *[!0-9]*) return 1 ;;
  esac
  case ${1%-*} in
    [a-z][a-z]-*[!a-z-]* | *--* | *-) return 1 ;;
    [a-z][a-z]-?*) return 0 ;;
  esac
  return 1
}

# fips_region NAME: ECR has FIPS endpoints in the US regions only (us-east-1/2, us-west-1/2,
# us-gov-east-1/west-1 today; FIPS_REGION in aws.ts).
fips_region() {
  case $1 in
    us-*) return 0 ;;
  esac
  return 1
}

# region_partition REGION: the AWS partition of REGION: aws-cn, aws-us-gov or aws
# (regionPartition in src/validation/aws.ts).
region_partition() {
  case $1 in
    cn-*) echo aws-cn ;;
    us-gov-*) echo aws-us-gov ;;
    *) echo aws ;;
  esac
}

# registry_region HOST: prints the region of an ECR registry host, fails for anything else:
# ACCOUNT.dkr.ecr.REGION.amazonaws.com (aws, aws-us-gov), ACCOUNT.dkr.ecr.cn-*.amazonaws.com.cn
# (aws-cn, and only there), ACCOUNT.dkr.ecr-fips.us-*.amazonaws.com (FIPS), and the dual-stack
# ACCOUNT.dkr-ecr[-fips].REGION.on.aws. The generator applies the same rule (ECR_REGISTRY_HOST in
# src/validation/aws.ts); one table (test/fixtures/registry-hosts.json) is run through both.
registry_region() {
  rr_account=${1%%.*}
  case $rr_account in
    [0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]) ;;
    *) return 1 ;;
  esac
  rr_rest=$1
  for rr_endpoint in dkr.ecr dkr.ecr-fips dkr-ecr dkr-ecr-fips; do
    rr_rest=${1#"$rr_account.$rr_endpoint."}
    [ "$rr_rest" = "$1" ] || break
  done
  [ "$rr_rest" != "$1" ] || return 1
  rr_region=${rr_rest%%.*}
  is_region "$rr_region" || return 1
  case $rr_endpoint:$rr_region:${rr_rest#"$rr_region"} in
    dkr.ecr:cn-*:.amazonaws.com.cn) ;;
    *:cn-*:*) return 1 ;;
    dkr.ecr:*:.amazonaws.com | dkr-ecr:*:.on.aws) ;;
    dkr.ecr-fips:*:.amazonaws.com | dkr-ecr-fips:*:.on.aws) fips_region "$rr_region" || return 1 ;;
    *) return 1 ;;
  esac
  printf '%s\n' "$rr_region"
}

# registry_host ACCOUNT REGION: the account's own registry host in REGION, the one its images
# are pulled by: .amazonaws.com.cn in China, dkr.ecr-fips with AWS_USE_FIPS_ENDPOINT=true.
registry_host() {
  case $2:${AWS_USE_FIPS_ENDPOINT:-false} in
    cn-*) printf '%s.dkr.ecr.%s.amazonaws.com.cn\n' "$1" "$2" ;;
    *:true) printf '%s.dkr.ecr-fips.%s.amazonaws.com\n' "$1" "$2" ;;
    *) printf '%s.dkr.ecr.%s.amazonaws.com\n' "$1" "$2" ;;
  esac
}

# ecr_api_url REGION: the ECR API endpoint a token request for REGION goes to, chosen as the aws
# CLI chooses it: AWS_ENDPOINT_URL_ECR, else AWS_ENDPOINT_URL, else the region's endpoint in its
# partition (ecr-fips with AWS_USE_FIPS_ENDPOINT=true). The table test/fixtures/registry-hosts.json
# holds it, and the e2e suite runs that table through this function and through botocore's own
# endpoint resolver.
ecr_api_url() {
  if [ -n "${AWS_ENDPOINT_URL_ECR:-}" ]; then
    printf '%s\n' "${AWS_ENDPOINT_URL_ECR%/}"
  elif [ -n "${AWS_ENDPOINT_URL:-}" ]; then
    printf '%s\n' "${AWS_ENDPOINT_URL%/}"
  else
    case $1:${AWS_USE_FIPS_ENDPOINT:-false} in
      cn-*) printf 'https://api.ecr.%s.amazonaws.com.cn\n' "$1" ;;
      *:true) printf 'https://ecr-fips.%s.amazonaws.com\n' "$1" ;;
      *) printf 'https://api.ecr.%s.amazonaws.com\n' "$1" ;;
    esac
  fi
}

# is_role_arn ARN: an IAM role ARN of any partition, arn:aws|aws-cn|aws-us-gov:iam::ACCOUNT:role/
# [PATH/]NAME. The generator applies the same rule (IAM_ROLE_ARN in src/validation/aws.ts).
is_role_arn() {
  case $1 in
    arn:aws:iam::* | arn:aws-cn:iam::* | arn:aws-us-gov:iam::*) ;;
    *) return 1 ;;
  esac
  ira_rest=${1#arn:*:iam::}
  ira_account=${ira_rest%%:*}
  case $ira_account in
    [0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]) ;;
    *) return 1 ;;
  esac
  ira_path=${ira_rest#"$ira_account":role/}
  [ "$ira_path" != "$ira_rest" ] || return 1
  case $ira_path in
    '' | /* | */ | *//* | *[!A-Za-z0-9_+=,.@/-]*) return 1 ;;
  esac
  ira_name=${ira_path##*/}
  [ "${#ira_name}" -le 64 ]
}

# urlencode TEXT: TEXT with every byte but [A-Za-z0-9._~-] percent-encoded (a label selector in a
# query string).
urlencode() {
  ue_in=$1
  ue_out=
  while [ -n "$ue_in" ]; do
    ue_rest=${ue_in#?}
    ue_char=${ue_in%"$ue_rest"}
    case $ue_char in
      [A-Za-z0-9._~-]) ue_out=$ue_out$ue_char ;;
      *) ue_out=$ue_out$(printf '%%%02X' "'$ue_char") ;;
    esac
    ue_in=$ue_rest
  done
  printf '%s' "$ue_out"
}

# read_settings: sets the settings variables from the environment and exits with EXIT_CONFIG,
# naming the variable, the value and the fix, at the first one that is wrong.
read_settings() {
  for rs_tool in curl aws kubectl jq awk base64 date tr mktemp; do
    require_tool "$rs_tool"
  done

  aws_region=${AWS_REGION:-}
  secret_name=${ECR_SECRET_NAME:-ecr-registry-credentials}
  extra_registries=${ECR_REGISTRIES:-}
  target_namespaces=${ECR_TARGET_NAMESPACES:-}
  exclude_namespaces=${ECR_EXCLUDE_NAMESPACES:-}
  namespace_selector=${ECR_NAMESPACE_SELECTOR:-}
  # The selector as the query parameter of the namespace list and watch.
  selector_query=
  [ -z "$namespace_selector" ] || selector_query="labelSelector=$(urlencode "$namespace_selector")"
  adopt_existing=${ECR_ADOPT_EXISTING:-false}
  batch_size=${ECR_APPLY_BATCH_SIZE:-250}
  parallelism=${ECR_APPLY_PARALLELISM:-2}
  account_id=${AWS_ACCOUNT_ID:-}
  session_name=${AWS_ROLE_SESSION_NAME:-ecr-k8s-credentials}
  patch_service_account_names=${ECR_PATCH_SERVICE_ACCOUNTS:-}
  argocd_namespace=${ECR_ARGOCD_NAMESPACE:-}
  transient_pause=${ECR_TRANSIENT_PAUSE_SECONDS:-30}
  ecr_public=${ECR_PUBLIC:-false}

  is_region "$aws_region" ||
    die "$EXIT_CONFIG" "AWS_REGION \"$aws_region\" is not an AWS region; set it to the region of your own registry, e.g. eu-west-1"
  case ${AWS_USE_FIPS_ENDPOINT:-false} in
    false) ;;
    true) fips_region "$aws_region" ||
      die "$EXIT_CONFIG" "AWS_USE_FIPS_ENDPOINT=true, but ECR has no FIPS endpoints in AWS_REGION \"$aws_region\", only in the US regions; set AWS_REGION to e.g. us-gov-west-1, or AWS_USE_FIPS_ENDPOINT to false" ;;
    *) die "$EXIT_CONFIG" "AWS_USE_FIPS_ENDPOINT \"$AWS_USE_FIPS_ENDPOINT\" must be true or false" ;;
  esac
  case $ecr_public in
    false) ;;
    true)
      ecr_public_available "$aws_region" ||
        die "$EXIT_CONFIG" "ECR_PUBLIC=true, but ECR Public exists only in the aws partition and AWS_REGION \"$aws_region\" is in $(region_partition "$aws_region"), whose credentials it does not accept; set ECR_PUBLIC to false (anonymous pulls from public.ecr.aws still work)"
      [ "${AWS_USE_FIPS_ENDPOINT:-false}" = false ] ||
        die "$EXIT_CONFIG" "ECR_PUBLIC=true with AWS_USE_FIPS_ENDPOINT=true, but ECR Public has no FIPS endpoint; set ECR_PUBLIC to false, or AWS_USE_FIPS_ENDPOINT to false"
      ;;
    *) die "$EXIT_CONFIG" "ECR_PUBLIC \"$ecr_public\" must be true or false" ;;
  esac
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
  case $transient_pause in
    '' | *[!0-9]* | 0?*) die "$EXIT_CONFIG" "ECR_TRANSIENT_PAUSE_SECONDS \"$transient_pause\" must be a whole number of seconds, e.g. 30" ;;
  esac
  [ "$transient_pause" -le 300 ] ||
    die "$EXIT_CONFIG" "ECR_TRANSIENT_PAUSE_SECONDS \"$transient_pause\" is more than 300; the Job's 900 s deadline counts the pauses of all its tries; use e.g. 30"
  for rs_account in $patch_service_account_names; do
    case $rs_account in
      *[!a-z0-9.-]* | [.-]* | *[.-]) die "$EXIT_CONFIG" "ECR_PATCH_SERVICE_ACCOUNTS entry \"$rs_account\" is not a ServiceAccount name; use lowercase letters, digits, '-' and '.', e.g. default" ;;
    esac
  done
  case $argocd_namespace in
    *[!a-z0-9-]* | -* | *-) die "$EXIT_CONFIG" "ECR_ARGOCD_NAMESPACE \"$argocd_namespace\" is not a namespace name; use lowercase letters, digits and '-', e.g. argocd" ;;
  esac
  case $account_id in
    '' | [0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]) ;;
    *) die "$EXIT_CONFIG" "AWS_ACCOUNT_ID \"$account_id\" must be 12 digits, or empty to ask AWS STS" ;;
  esac
  # Entries are HOST or HOST=ROLE_ARN (that registry's token comes from assuming the role).
  for rs_entry in $extra_registries; do
    rs_host=${rs_entry%%=*}
    registry_region "$rs_host" >/dev/null ||
      die "$EXIT_CONFIG" "ECR_REGISTRIES entry \"$rs_entry\" is not an ECR registry host; use ACCOUNT.dkr.ecr.REGION.amazonaws.com (.amazonaws.com.cn in China, dkr.ecr-fips in US regions for FIPS), e.g. 123456789012.dkr.ecr.$aws_region.amazonaws.com"
    [ "$rs_host" = "$rs_entry" ] || is_role_arn "${rs_entry#*=}" ||
      die "$EXIT_CONFIG" "ECR_REGISTRIES entry \"$rs_entry\": \"${rs_entry#*=}\" is not an IAM role ARN; use HOST=arn:aws:iam::ACCOUNT:role/NAME"
  done

  read_tenant_settings

  # In a pod, kubectl reaches the API server at KUBERNETES_SERVICE_HOST; it must never go
  # through the proxy, whatever --no-proxy says.
  if [ -n "${KUBERNETES_SERVICE_HOST:-}" ] && [ -n "${HTTPS_PROXY:-}${https_proxy:-}" ]; then
    NO_PROXY=${NO_PROXY:+$NO_PROXY,}$KUBERNETES_SERVICE_HOST
    no_proxy=$NO_PROXY
    export NO_PROXY no_proxy
  fi

  # The CronJob sets these; a hand-run gets the same throttling/5xx retries.
  AWS_RETRY_MODE=${AWS_RETRY_MODE:-standard}
  AWS_MAX_ATTEMPTS=${AWS_MAX_ATTEMPTS:-5}
  # Checked here: curl's retry loop counts up to it, and a word or 0 would retry until the deadline.
  case $AWS_MAX_ATTEMPTS in
    *[!0-9]* | 0*) die "$EXIT_CONFIG" "AWS_MAX_ATTEMPTS \"$AWS_MAX_ATTEMPTS\" must be a positive integer (tries of each AWS call, the first included), e.g. 5" ;;
  esac
  export AWS_RETRY_MODE AWS_MAX_ATTEMPTS
}
