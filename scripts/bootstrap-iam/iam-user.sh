# shellcheck shell=bash
# bootstrap-iam/iam-user.sh - the IAM side of the key mode: who is calling, the user
# PREFIX-ecr-puller, its inline pull policy (also the web-identity role's), its access keys,
# the proof that a new key logs in to ECR, and the undo steps for each. Sourced by
# bootstrap-iam.sh; defines functions and the state they share.

USER_NAME=""
POLICY_NAME=""
ACCOUNT_ID=""
CALLER_ARN=""
PARTITION=aws
USER_ARN=""

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

# Sets USER_EXISTS and USER_OURS (tagged by this script). Under --dry-run the plan assumes the
# user is absent (create) or ours (rotate, delete), as $1 says.
read_user() {
  if [[ $1 == absent ]]; then
    assume_missing GetUser
  else
    assume "arn:$PARTITION:iam::<ACCOUNT_ID>:user$USER_PATH$USER_NAME	$MANAGED_BY"
  fi
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

# Sets KEYS; under --dry-run the user is assumed to hold the one key $1 names.
read_keys() {
  assume "$1"
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
  local resources repo public=""
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
  # ecr-public:GetAuthorizationToken "requires the ecr-public:GetAuthorizationToken and
  # sts:GetServiceBearerToken permissions" (ECR Public API reference); neither takes a resource.
  if $ECR_PUBLIC; then
    public=',{"Sid":"EcrPublicLogin","Effect":"Allow","Action":["ecr-public:GetAuthorizationToken","sts:GetServiceBearerToken"],"Resource":"*"}'
  fi
  printf '{"Version":"2012-10-17","Statement":[{"Sid":"EcrLogin","Effect":"Allow","Action":"ecr:GetAuthorizationToken","Resource":"*"},{"Sid":"EcrPull","Effect":"Allow","Action":[%s],"Resource":%s}%s]}' \
    "$(json_string_list "${pull[@]}")" "$resources" "$public"
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
    push_undo undo_restore_policy
    say "updated policy $POLICY_NAME to the requested one"
  else
    push_undo undo_delete_policy
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
  push_undo undo_delete_key "$NEW_KEY_ID"
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
# Steps of create, rotate and delete

create_user() {
  if ! aws_call iam create-user --user-name "$USER_NAME" --path "$USER_PATH" --tags \
    "Key=$TAG_KEY,Value=$MANAGED_BY" \
    "Key=Purpose,Value=ECR image pulls for Kubernetes secret refresh"; then
    die "$(aws_error_hint "create IAM user $USER_NAME (iam:CreateUser, iam:TagUser)")"
  fi
  push_undo undo_delete_user
  say "created IAM user $USER_NAME (path $USER_PATH)"
}

# create on a user that has a key: AWS never shows a secret key again, so the key must already
# be where it is used, or rotate has to issue a new one.
refuse_keys_the_secret_lacks() {
  if [[ ${#KEYS[@]} -eq 0 || -n $OUTPUT ]] || { $SECRET_EXISTS && has_key "$SECRET_KEY_ID"; }; then
    return 0
  fi
  local where="does not exist"
  if $SECRET_EXISTS && [[ -n $SECRET_KEY_ID ]]; then
    where="holds $SECRET_KEY_ID, which is not a key of this user"
  elif $SECRET_EXISTS; then
    where="holds no AWS_ACCESS_KEY_ID"
  fi
  die "$USER_NAME already has access key(s) $(keys_text), but Secret $NAMESPACE/$SECRET_NAME $where. AWS shows a secret key only when it is created; run '$PROG rotate' (same options) to issue a new key into the Secret and delete the old one"
}

# create on a user whose key is in place: the key in use stays; only the policy was aligned.
report_key_in_place() {
  if [[ -n $OUTPUT ]]; then
    say "nothing more to do: $USER_NAME already has access key(s) $(keys_text), and AWS shows a secret key only when it is created, so no manifest was written. To get a new key into a manifest, run: $PROG rotate --output $OUTPUT (same --name)"
    return 0
  fi
  if [[ -n $SECRET_REGION && $SECRET_REGION != "$REGION" ]]; then
    say "warning: Secret $NAMESPACE/$SECRET_NAME has AWS_REGION=$SECRET_REGION, not $REGION; run '$PROG rotate --region $REGION' to rewrite it"
  fi
  say "nothing more to do: Secret $NAMESPACE/$SECRET_NAME already holds key $SECRET_KEY_ID of $USER_NAME. To replace the key, run: $PROG rotate"
}

# IAM allows two keys per user; rotate needs room for the new one.
refuse_third_key() {
  [[ ${#KEYS[@]} -ge 2 ]] || return 0
  local spare="" id
  for id in "${KEYS[@]}"; do
    [[ $id == "$SECRET_KEY_ID" ]] || spare="$spare${spare:+ }$id"
  done
  die "$USER_NAME already has 2 access keys ($(keys_text)), the IAM maximum, so no new key can be made.${SECRET_KEY_ID:+ Secret $NAMESPACE/$SECRET_NAME holds $SECRET_KEY_ID.} Delete the key nobody uses, e.g.: aws iam delete-access-key --user-name $USER_NAME --access-key-id ${spare%% *}"
}

delete_old_key() {
  [[ -n $1 ]] || return 0
  if ! aws_call iam delete-access-key --user-name "$USER_NAME" --access-key-id "$1"; then
    die "$(aws_error_hint "delete the old key $1 (iam:DeleteAccessKey)")"
  fi
  say "deleted the old key $1"
}

# delete leaves a user alone that carries policies it did not put there; sets HAS_POLICY.
HAS_POLICY=false
refuse_foreign_user_policies() {
  local p others=""
  assume "$POLICY_NAME"
  aws_call iam list-user-policies --user-name "$USER_NAME" --query 'PolicyNames[]' --output text ||
    die "$(aws_error_hint "list the policies of $USER_NAME (iam:ListUserPolicies)")"
  for p in $OUT; do
    if [[ $p == "$POLICY_NAME" ]]; then
      HAS_POLICY=true
    elif [[ $p == "$NAME-ecr-assume-tenant-"* ]]; then
      refuse_base_with_tenants "IAM user $USER_NAME" "$p"
    elif [[ $p != None ]]; then
      others="$others${others:+ }$p"
    fi
  done
  assume ""
  aws_call iam list-attached-user-policies --user-name "$USER_NAME" --query 'AttachedPolicies[].PolicyArn' --output text ||
    die "$(aws_error_hint "list the attached policies of $USER_NAME (iam:ListAttachedUserPolicies)")"
  for p in $OUT; do
    [[ $p == None ]] || others="$others${others:+ }$p"
  done
  if [[ -n $others ]]; then
    die "$USER_NAME has policies $PROG did not put there ($others); nothing was deleted. Remove them first if the user should go."
  fi
}

# Keys first: IAM refuses to delete a user that still has keys or policies.
delete_user_keys_and_policy() {
  local id
  for id in ${KEYS[@]+"${KEYS[@]}"}; do
    aws_call iam delete-access-key --user-name "$USER_NAME" --access-key-id "$id" ||
      die "$(aws_error_hint "delete access key $id (iam:DeleteAccessKey)"); run delete again to finish"
    say "deleted access key $id"
  done
  if $HAS_POLICY; then
    aws_call iam delete-user-policy --user-name "$USER_NAME" --policy-name "$POLICY_NAME" ||
      die "$(aws_error_hint "delete policy $POLICY_NAME (iam:DeleteUserPolicy)"); run delete again to finish"
    say "deleted policy $POLICY_NAME"
  fi
  aws_call iam delete-user --user-name "$USER_NAME" ||
    die "$(aws_error_hint "delete IAM user $USER_NAME (iam:DeleteUser)"); run delete again to finish"
  say "deleted IAM user $USER_NAME"
}

# ---------------------------------------------------------------------------------------------
# Undo steps (run_undo calls them, last pushed first)

undo_delete_key() {
  say "  deleting access key $1 of $USER_NAME"
  aws_call iam delete-access-key --user-name "$USER_NAME" --access-key-id "$1" ||
    say "  FAILED: $(aws_error_hint "delete the key"); delete it yourself: aws iam delete-access-key --user-name $USER_NAME --access-key-id $1"
}

undo_delete_policy() {
  say "  deleting policy $POLICY_NAME"
  aws_call iam delete-user-policy --user-name "$USER_NAME" --policy-name "$POLICY_NAME" ||
    say "  FAILED: $(aws_error_hint "delete the policy"); delete it yourself: aws iam delete-user-policy --user-name $USER_NAME --policy-name $POLICY_NAME"
}

undo_restore_policy() {
  say "  restoring the previous policy $POLICY_NAME"
  aws_call iam put-user-policy --user-name "$USER_NAME" --policy-name "$POLICY_NAME" --policy-document "$OLD_POLICY" ||
    say "  FAILED: $(aws_error_hint "restore the policy")"
}

undo_delete_user() {
  say "  deleting user $USER_NAME"
  aws_call iam delete-user --user-name "$USER_NAME" ||
    say "  FAILED: $(aws_error_hint "delete the user"); delete it yourself: aws iam delete-user --user-name $USER_NAME"
}
