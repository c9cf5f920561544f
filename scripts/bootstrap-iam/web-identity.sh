# shellcheck shell=bash
# bootstrap-iam/web-identity.sh - the keyless mode of bootstrap-iam.sh (create/delete
# --web-identity): an IAM OIDC identity provider for the cluster's ServiceAccount token issuer,
# a role that only the updater's ServiceAccount may assume, and, for a cluster whose issuer is
# not public, its discovery documents in S3 (--publish-discovery). No access key is made, no
# Secret written. Sourced by bootstrap-iam.sh; uses its aws_call/kube_call/say/die helpers.

WEB_IDENTITY=false
ISSUER_URL=""
PUBLISH_DISCOVERY=""
SERVICE_ACCOUNT=ecr-credential-updater
readonly AUDIENCE=sts.amazonaws.com
readonly ROLE_PATH=/system/

ROLE_NAME=""
ROLE_ARN=""
ISSUER=""
PROVIDER_ARN=""
BUCKET=""
BUCKET_PREFIX=""
DISCOVERY=""
JWKS=""

# Checks the web-identity options against each other and the command; exit 2 on a bad one.
validate_web_identity_args() {
  if ! $WEB_IDENTITY; then
    [[ -z $ISSUER_URL ]] || die_usage "--issuer-url only applies with --web-identity; add --web-identity"
    [[ -z $PUBLISH_DISCOVERY ]] || die_usage "--publish-discovery only applies with --web-identity; add --web-identity"
    return 0
  fi
  [[ $COMMAND != rotate ]] || die_usage "--web-identity has no key to rotate: AWS issues short-lived credentials per run. Use create or delete"
  [[ -z $OUTPUT ]] || die_usage "--output has no use with --web-identity: there is no key and no Secret to write"
  [[ $SECRET_NAME == aws-ecr-credentials ]] ||
    die_usage "--secret-name has no use with --web-identity: there is no key Secret; drop it"
  if [[ -n $ISSUER_URL && ! $ISSUER_URL =~ ^https://[a-z0-9.-]+(:[0-9]+)?(/[A-Za-z0-9._~/-]*)?$ ]]; then
    die_usage "--issuer-url \"$ISSUER_URL\" is not an https URL; use the cluster's --service-account-issuer, e.g. --issuer-url https://oidc.example.com/cluster-a"
  fi
  if [[ -n $PUBLISH_DISCOVERY ]]; then
    if [[ ! $PUBLISH_DISCOVERY =~ ^s3://([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(/([A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*))?/?$ ]]; then
      die_usage "--publish-discovery \"$PUBLISH_DISCOVERY\" is not s3://BUCKET[/PREFIX] with a valid bucket name (lowercase letters, digits, '.', '-'), e.g. --publish-discovery s3://my-cluster-oidc/cluster-a"
    fi
    BUCKET=${BASH_REMATCH[1]}
    BUCKET_PREFIX=${BASH_REMATCH[3]:-}
    [[ -z $ISSUER_URL ]] ||
      die_usage "--issuer-url and --publish-discovery exclude each other: with --publish-discovery the issuer is the bucket's URL ($(published_issuer))"
  fi
  if [[ ${#SERVICE_ACCOUNT} -gt 253 || ! $SERVICE_ACCOUNT =~ $DNS_SUBDOMAIN_RE ]]; then
    die_usage "--service-account \"$SERVICE_ACCOUNT\" is not a Kubernetes object name; use the bundle's, e.g. --service-account ecr-credential-updater"
  fi
  ROLE_NAME=$NAME-ecr-puller
}

# The issuer URL a bucket publishes: its virtual-hosted https address (and prefix).
published_issuer() {
  local domain=amazonaws.com
  [[ $REGION != cn-* ]] || domain=amazonaws.com.cn
  printf 'https://%s.s3.%s.%s%s' "$BUCKET" "$REGION" "$domain" "${BUCKET_PREFIX:+/$BUCKET_PREFIX}"
}

# A field of the (compact) discovery JSON the API server serves.
json_field() {
  local pattern="\"$2\":\"([^\"]*)\""
  [[ $1 =~ $pattern ]] && printf '%s' "${BASH_REMATCH[1]}"
}

# Sets ISSUER: --issuer-url, the bucket's URL, or the cluster's own issuer read through the API
# server. The token's `iss` must equal the provider URL, so a mismatch is stopped here.
resolve_issuer() {
  if [[ -n $ISSUER_URL ]]; then
    ISSUER=${ISSUER_URL%/}
    return 0
  fi
  assume "{\"issuer\":\"${PUBLISH_DISCOVERY:+$(published_issuer)}\",\"jwks_uri\":\"${PUBLISH_DISCOVERY:+$(published_issuer)}/openid/v1/jwks\"}"
  kube_call get --raw /.well-known/openid-configuration ||
    die "$(kube_error_hint "read the cluster's ServiceAccount issuer (/.well-known/openid-configuration)")"
  DISCOVERY=$OUT
  local cluster_issuer
  cluster_issuer=$(json_field "$DISCOVERY" issuer) ||
    die "the cluster's /.well-known/openid-configuration has no issuer: $(error_line "$DISCOVERY")"
  if [[ -n $PUBLISH_DISCOVERY ]]; then
    ISSUER=$(published_issuer)
    if [[ $cluster_issuer != "$ISSUER" ]]; then
      die_usage "the cluster's ServiceAccount issuer is $cluster_issuer, but tokens must name the bucket's URL for AWS to find their keys. Start kube-apiserver with --service-account-issuer=$ISSUER --service-account-jwks-uri=$ISSUER/openid/v1/jwks (README: \"Keyless: web identity\"), then run this again"
    fi
  else
    ISSUER=$cluster_issuer
    [[ $ISSUER == https://* ]] ||
      die_usage "the cluster's ServiceAccount issuer \"$ISSUER\" is not an https URL AWS could fetch; publish its keys with --publish-discovery s3://BUCKET[/PREFIX]"
  fi
}

# Copies the cluster's discovery document and JWKS into the bucket as public-read objects; the
# bucket allows anonymous reads of exactly those two objects and nothing else.
publish_discovery() {
  local jwks_uri jwks_key discovery_key prefix=${BUCKET_PREFIX:+$BUCKET_PREFIX/}
  jwks_uri=$(json_field "$DISCOVERY" jwks_uri) || die "the cluster's discovery document has no jwks_uri"
  [[ $jwks_uri == "$ISSUER"/* ]] ||
    die_usage "the cluster's jwks_uri $jwks_uri is not under $ISSUER; start kube-apiserver with --service-account-jwks-uri=$ISSUER/openid/v1/jwks"
  jwks_key=$prefix${jwks_uri#"$ISSUER"/}
  discovery_key=${prefix}.well-known/openid-configuration
  assume '{"keys":[]}'
  kube_call get --raw /openid/v1/jwks || die "$(kube_error_hint "read the cluster's JWKS (/openid/v1/jwks)")"
  JWKS=$OUT

  assume "" 254 "An error occurred (404) when calling the HeadBucket operation: Not Found (assumed)"
  if ! aws_call s3api head-bucket --bucket "$BUCKET"; then
    [[ $ERR == *404* || $ERR == *NotFound* || $ERR == *NoSuchBucket* ]] ||
      die "$(aws_error_hint "check bucket $BUCKET (s3:ListBucket)")"
    local location=()
    [[ $REGION == us-east-1 ]] || location=(--create-bucket-configuration "LocationConstraint=$REGION")
    aws_call s3api create-bucket --bucket "$BUCKET" ${location[@]+"${location[@]}"} ||
      die "$(aws_error_hint "create bucket $BUCKET (s3:CreateBucket)")"
    push_undo "delete-bucket $BUCKET"
    say "created bucket $BUCKET"
  fi
  # ACLs stay blocked; only the bucket policy below may grant public reads.
  aws_call s3api put-public-access-block --bucket "$BUCKET" --public-access-block-configuration \
    BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=false,RestrictPublicBuckets=false ||
    die "$(aws_error_hint "set the public access block of $BUCKET (s3:PutBucketPublicAccessBlock)")"
  ensure_workdir
  printf '%s' "$DISCOVERY" >"$WORK/discovery.json"
  printf '%s' "$JWKS" >"$WORK/jwks.json"
  aws_call s3api put-object --bucket "$BUCKET" --key "$discovery_key" --body "$WORK/discovery.json" \
    --content-type application/json || die "$(aws_error_hint "upload $discovery_key (s3:PutObject)")"
  push_undo "delete-object $BUCKET $discovery_key"
  aws_call s3api put-object --bucket "$BUCKET" --key "$jwks_key" --body "$WORK/jwks.json" \
    --content-type application/json || die "$(aws_error_hint "upload $jwks_key (s3:PutObject)")"
  push_undo "delete-object $BUCKET $jwks_key"
  aws_call s3api put-bucket-policy --bucket "$BUCKET" --policy "$(discovery_bucket_policy "$discovery_key" "$jwks_key")" ||
    die "$(aws_error_hint "put the bucket policy of $BUCKET (s3:PutBucketPolicy)")"
  say "published s3://$BUCKET/$discovery_key and s3://$BUCKET/$jwks_key (public read, nothing else)"
}

discovery_bucket_policy() {
  printf '{"Version":"2012-10-17","Statement":[{"Sid":"PublicReadOfOidcDiscovery","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":["arn:%s:s3:::%s/%s","arn:%s:s3:::%s/%s"]}]}' \
    "$PARTITION" "$BUCKET" "$1" "$PARTITION" "$BUCKET" "$2"
}

# Sets PROVIDER_ARN; creates the provider (tagged) unless one for the issuer exists, and makes
# sure it lists the audience.
ensure_provider() {
  local issuer_id=${ISSUER#https://}
  PROVIDER_ARN="arn:$PARTITION:iam::$ACCOUNT_ID:oidc-provider/$issuer_id"
  assume "" 254 "An error occurred (NoSuchEntity) when calling the GetOpenIDConnectProvider operation: (assumed)"
  if aws_call iam get-open-id-connect-provider --open-id-connect-provider-arn "$PROVIDER_ARN" \
    --query 'ClientIDList' --output text; then
    if [[ " $OUT " != *[[:space:]]"$AUDIENCE"[[:space:]]* ]]; then
      aws_call iam add-client-id-to-open-id-connect-provider --open-id-connect-provider-arn "$PROVIDER_ARN" \
        --client-id "$AUDIENCE" || die "$(aws_error_hint "add audience $AUDIENCE to $PROVIDER_ARN")"
      say "added audience $AUDIENCE to the existing OIDC provider $PROVIDER_ARN"
    else
      say "reusing OIDC provider $PROVIDER_ARN"
    fi
    return 0
  fi
  [[ $ERR == *NoSuchEntity* ]] || die "$(aws_error_hint "read OIDC provider $PROVIDER_ARN (iam:GetOpenIDConnectProvider)")"
  assume "$PROVIDER_ARN"
  aws_call iam create-open-id-connect-provider --url "$ISSUER" --client-id-list "$AUDIENCE" \
    --tags "Key=$TAG_KEY,Value=$MANAGED_BY" --query OpenIDConnectProviderArn --output text ||
    die "$(aws_error_hint "create the OIDC provider for $ISSUER (iam:CreateOpenIDConnectProvider)")"
  push_undo "delete-provider $PROVIDER_ARN"
  say "created OIDC provider $PROVIDER_ARN"
}

# Only tokens of the updater's ServiceAccount, for the STS audience, may assume the role.
trust_policy() {
  local id=${ISSUER#https://}
  printf '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"%s"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"%s:sub":"system:serviceaccount:%s:%s","%s:aud":"%s"}}}]}' \
    "$PROVIDER_ARN" "$id" "$NAMESPACE" "$SERVICE_ACCOUNT" "$id" "$AUDIENCE"
}

# Creates the role (tagged) or, if this script made it before, brings its trust policy and its
# inline pull policy to the requested ones.
ensure_role() {
  local trust
  trust=$(trust_policy)
  assume "" 254 "An error occurred (NoSuchEntity) when calling the GetRole operation: (assumed)"
  if aws_call iam get-role --role-name "$ROLE_NAME" \
    --query "[Role.Arn, Role.Tags[?Key==\`\"$TAG_KEY\"\`].Value | [0]]" --output text; then
    ROLE_ARN=${OUT%%[[:space:]]*}
    [[ ${OUT##*[[:space:]]} == "$MANAGED_BY" ]] ||
      die "IAM role $ROLE_NAME exists but was not created by $PROG (no tag $TAG_KEY=$MANAGED_BY), so it is left alone. Pick another --name"
    aws_call iam update-assume-role-policy --role-name "$ROLE_NAME" --policy-document "$trust" ||
      die "$(aws_error_hint "update the trust policy of $ROLE_NAME (iam:UpdateAssumeRolePolicy)")"
    say "role $ROLE_NAME exists; trust policy set to ServiceAccount $NAMESPACE/$SERVICE_ACCOUNT"
  else
    [[ $ERR == *NoSuchEntity* ]] || die "$(aws_error_hint "read IAM role $ROLE_NAME (iam:GetRole)")"
    assume "arn:$PARTITION:iam::$ACCOUNT_ID:role$ROLE_PATH$ROLE_NAME"
    aws_call iam create-role --role-name "$ROLE_NAME" --path "$ROLE_PATH" --assume-role-policy-document "$trust" \
      --tags "Key=$TAG_KEY,Value=$MANAGED_BY" --query Role.Arn --output text ||
      die "$(aws_error_hint "create IAM role $ROLE_NAME (iam:CreateRole)")"
    ROLE_ARN=$OUT
    push_undo "delete-role $ROLE_NAME"
    say "created IAM role $ROLE_ARN, assumable only by ServiceAccount $NAMESPACE/$SERVICE_ACCOUNT"
  fi
  aws_call iam put-role-policy --role-name "$ROLE_NAME" --policy-name "$POLICY_NAME" \
    --policy-document "$(policy_document)" ||
    die "$(aws_error_hint "put policy $POLICY_NAME on $ROLE_NAME (iam:PutRolePolicy)")"
  push_undo "delete-role-policy $ROLE_NAME"
  say "put inline policy $POLICY_NAME on $ROLE_NAME"
}

cmd_create_web_identity() {
  if $DRY_RUN; then
    printf '# Assumes: no OIDC provider for the issuer and no IAM role %s yet.\n' "$ROLE_NAME"
    printf '# %s create --web-identity --dry-run: nothing below is run.\n' "$PROG"
  fi
  $DRY_RUN || command -v aws >/dev/null 2>&1 || die_usage "aws (the AWS CLI) not found on PATH: install it (v1 >= 1.29 or v2)"
  aws_identity
  resolve_issuer
  [[ -z $PUBLISH_DISCOVERY ]] || publish_discovery
  ensure_provider
  ensure_role
  # shellcheck disable=SC2034 # read by on_exit in bootstrap-iam.sh
  COMMITTED=true
  # stdout: what to do next (the plan's last lines under --dry-run).
  printf 'role: %s\n' "$ROLE_ARN"
  printf 'issuer: %s\n' "$ISSUER"
  printf 'next: npm run synth -- --auth web-identity --role-arn %s --region %s --namespace %s --service-account %s\n' \
    "$ROLE_ARN" "$REGION" "$NAMESPACE" "$SERVICE_ACCOUNT"
}

# Deletes the role and its policy; the provider too when this script created it and no other
# role trusts it. The discovery bucket is left alone (other clusters may publish there).
cmd_delete_web_identity() {
  $DRY_RUN || command -v aws >/dev/null 2>&1 || die_usage "aws (the AWS CLI) not found on PATH: install it (v1 >= 1.29 or v2)"
  $DRY_RUN && printf '# %s delete --web-identity --dry-run: nothing below is run.\n' "$PROG"
  aws_identity
  assume "arn:$PARTITION:iam::<ACCOUNT_ID>:role$ROLE_PATH$ROLE_NAME	$MANAGED_BY	<PROVIDER_ARN>"
  if ! aws_call iam get-role --role-name "$ROLE_NAME" \
    --query "[Role.Arn, Role.Tags[?Key==\`\"$TAG_KEY\"\`].Value | [0], Role.AssumeRolePolicyDocument.Statement[0].Principal.Federated]" \
    --output text; then
    [[ $ERR == *NoSuchEntity* ]] || die "$(aws_error_hint "read IAM role $ROLE_NAME (iam:GetRole)")"
    say "nothing to delete: IAM role $ROLE_NAME does not exist"
    return 0
  fi
  local fields
  read -r ROLE_ARN fields PROVIDER_ARN <<EOF
$OUT
EOF
  [[ $fields == "$MANAGED_BY" ]] ||
    die "IAM role $ROLE_NAME was not created by $PROG (no tag $TAG_KEY=$MANAGED_BY); nothing was deleted"
  assume "$POLICY_NAME"
  aws_call iam list-role-policies --role-name "$ROLE_NAME" --query 'PolicyNames[]' --output text ||
    die "$(aws_error_hint "list the policies of $ROLE_NAME (iam:ListRolePolicies)")"
  local p others=""
  for p in $OUT; do
    [[ $p == "$POLICY_NAME" || $p == None ]] || others="$others${others:+ }$p"
  done
  [[ -z $others ]] || die "$ROLE_NAME has policies $PROG did not put there ($others); nothing was deleted"
  confirm_delete "IAM role $ROLE_NAME with policy $POLICY_NAME"
  aws_call iam delete-role-policy --role-name "$ROLE_NAME" --policy-name "$POLICY_NAME" ||
    [[ $ERR == *NoSuchEntity* ]] || die "$(aws_error_hint "delete policy $POLICY_NAME (iam:DeleteRolePolicy)")"
  aws_call iam delete-role --role-name "$ROLE_NAME" || die "$(aws_error_hint "delete role $ROLE_NAME (iam:DeleteRole)")"
  say "deleted IAM role $ROLE_NAME and its policy"
  delete_provider_if_unused
  [[ $DRY_RUN == false ]] || printf '# end of plan\n'
}

# The provider goes only if this script made it (tag) and no remaining role trusts it.
delete_provider_if_unused() {
  [[ $PROVIDER_ARN == arn:*:oidc-provider/* ]] || return 0
  assume "$TAG_KEY	$MANAGED_BY"
  aws_call iam list-open-id-connect-provider-tags --open-id-connect-provider-arn "$PROVIDER_ARN" \
    --query "Tags[?Key==\`\"$TAG_KEY\"\`].[Key,Value] | [0]" --output text || {
    say "leaving OIDC provider $PROVIDER_ARN: $(aws_error_hint "read its tags")"
    return 0
  }
  if [[ ${OUT##*[[:space:]]} != "$MANAGED_BY" ]]; then
    say "leaving OIDC provider $PROVIDER_ARN: $PROG did not create it"
    return 0
  fi
  assume ""
  aws_call iam list-roles --query "Roles[?contains(to_string(AssumeRolePolicyDocument), '$PROVIDER_ARN')].RoleName" \
    --output text || die "$(aws_error_hint "list the roles that trust $PROVIDER_ARN (iam:ListRoles)")"
  if [[ -n $OUT && $OUT != None ]]; then
    say "leaving OIDC provider $PROVIDER_ARN: still trusted by $OUT"
    return 0
  fi
  aws_call iam delete-open-id-connect-provider --open-id-connect-provider-arn "$PROVIDER_ARN" ||
    die "$(aws_error_hint "delete OIDC provider $PROVIDER_ARN (iam:DeleteOpenIDConnectProvider)")"
  say "deleted OIDC provider $PROVIDER_ARN"
}

# Undo steps of the web-identity mode (run_undo hands them over).
undo_web_identity_step() {
  local step=$1 arg=${1#* }
  case $step in
    "delete-role-policy "*)
      aws_call iam delete-role-policy --role-name "$arg" --policy-name "$POLICY_NAME" ||
        say "  FAILED: $(aws_error_hint "delete policy $POLICY_NAME of $arg")"
      ;;
    "delete-role "*)
      say "  deleting role $arg"
      aws_call iam delete-role --role-name "$arg" || say "  FAILED: $(aws_error_hint "delete role $arg")"
      ;;
    "delete-provider "*)
      say "  deleting OIDC provider $arg"
      aws_call iam delete-open-id-connect-provider --open-id-connect-provider-arn "$arg" ||
        say "  FAILED: $(aws_error_hint "delete OIDC provider $arg")"
      ;;
    "delete-object "*)
      aws_call s3api delete-object --bucket "${arg%% *}" --key "${arg#* }" ||
        say "  FAILED: $(aws_error_hint "delete s3://${arg%% *}/${arg#* }")"
      ;;
    "delete-bucket "*)
      say "  deleting bucket $arg"
      aws_call s3api delete-bucket --bucket "$arg" || say "  FAILED: $(aws_error_hint "delete bucket $arg")"
      ;;
  esac
}
