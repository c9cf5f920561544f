# shellcheck shell=bash
# bootstrap-iam/web-identity.sh - the keyless mode (create/delete --web-identity): the IAM
# OIDC identity provider of the cluster's ServiceAccount token issuer, and a role that only the
# updater's ServiceAccount may assume. One role may serve a fleet: its trust policy holds one
# statement per issuer (cluster), each pinned to that cluster's ServiceAccount, and create or
# delete for one cluster touches only that cluster's statement and provider. No access key is
# made, no Secret written. Sourced by bootstrap-iam.sh; defines functions and shared state.

readonly AUDIENCE=sts.amazonaws.com
readonly ROLE_PATH=/system/

ROLE_NAME=""
ROLE_ARN=""
ROLE_CREATED=false
ISSUER=""
PROVIDER_ARN=""
DISCOVERY=""
# The role's trust policy and inline policy before this run changed them, for the undo steps.
OLD_TRUST=""
OLD_ROLE_POLICY=""
# delete: the trust policy without this cluster's statement, and how many statements it keeps.
TRUST_LEFT=""
TRUST_LEFT_COUNT=0

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
  local cluster_issuer
  read_cluster_discovery
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

# Sets DISCOVERY: the cluster's discovery document, read through the API server.
read_cluster_discovery() {
  assume "{\"issuer\":\"${PUBLISH_DISCOVERY:+$(published_issuer)}\",\"jwks_uri\":\"${PUBLISH_DISCOVERY:+$(published_issuer)}/openid/v1/jwks\"}"
  kube_call get --raw /.well-known/openid-configuration ||
    die "$(kube_error_hint "read the cluster's ServiceAccount issuer (/.well-known/openid-configuration)")"
  DISCOVERY=$OUT
}

# Sets PROVIDER_ARN; creates the provider (tagged) unless one for the issuer exists, and makes
# sure it lists the audience.
ensure_provider() {
  PROVIDER_ARN="arn:$PARTITION:iam::$ACCOUNT_ID:oidc-provider/${ISSUER#https://}"
  assume_missing GetOpenIDConnectProvider
  if aws_call iam get-open-id-connect-provider --open-id-connect-provider-arn "$PROVIDER_ARN" \
    --query 'ClientIDList' --output text; then
    if [[ " $OUT " != *[[:space:]]"$AUDIENCE"[[:space:]]* ]]; then
      aws_call iam add-client-id-to-open-id-connect-provider --open-id-connect-provider-arn "$PROVIDER_ARN" \
        --client-id "$AUDIENCE" ||
        die "$(aws_error_hint "add audience $AUDIENCE to $PROVIDER_ARN (iam:AddClientIDToOpenIDConnectProvider)")"
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
  push_undo undo_delete_provider "$PROVIDER_ARN"
  say "created OIDC provider $PROVIDER_ARN"
}

# Only tokens of the updater's ServiceAccount, for the STS audience, from this issuer.
trust_statement() {
  local id=${ISSUER#https://}
  printf '{"Effect":"Allow","Principal":{"Federated":"%s"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"%s:sub":"system:serviceaccount:%s:%s","%s:aud":"%s"}}}' \
    "$PROVIDER_ARN" "$id" "$NAMESPACE" "$SERVICE_ACCOUNT" "$id" "$AUDIENCE"
}

# Sets ROLE_ARN: creates the role (tagged), or on a role this script made before (another
# cluster's, or this one's) adds or replaces this issuer's trust statement and keeps the others.
ensure_role() {
  assume_missing GetRole
  if ! aws_call iam get-role --role-name "$ROLE_NAME" \
    --query "[Role.Arn, Role.Tags[?Key==\`\"$TAG_KEY\"\`].Value | [0]]" --output text; then
    [[ $ERR == *NoSuchEntity* ]] || die "$(aws_error_hint "read IAM role $ROLE_NAME (iam:GetRole)")"
    assume "arn:$PARTITION:iam::$ACCOUNT_ID:role$ROLE_PATH$ROLE_NAME"
    aws_call iam create-role --role-name "$ROLE_NAME" --path "$ROLE_PATH" \
      --assume-role-policy-document "{\"Version\":\"2012-10-17\",\"Statement\":[$(trust_statement)]}" \
      --tags "Key=$TAG_KEY,Value=$MANAGED_BY" --query Role.Arn --output text ||
      die "$(aws_error_hint "create IAM role $ROLE_NAME (iam:CreateRole)")"
    ROLE_ARN=$OUT
    ROLE_CREATED=true
    push_undo undo_delete_role
    say "created IAM role $ROLE_ARN, assumable only by ServiceAccount $NAMESPACE/$SERVICE_ACCOUNT"
    return 0
  fi
  ROLE_ARN=${OUT%%[[:space:]]*}
  [[ ${OUT##*[[:space:]]} == "$MANAGED_BY" ]] ||
    die "IAM role $ROLE_NAME exists but was not created by $PROG (no tag $TAG_KEY=$MANAGED_BY), so it is left alone. Pick another --name"
  read_trust
  OLD_TRUST=$OUT
  local edited current
  edited=$(policy_edit "$OLD_TRUST" "\"Federated\":\"$PROVIDER_ARN\"" "$(trust_statement)") ||
    die "the trust policy of $ROLE_NAME is not JSON this script can read"
  edited=${edited%%$'\n'*}
  current=$(policy_edit "$OLD_TRUST" "")
  if [[ $edited == "${current%%$'\n'*}" ]]; then
    say "role $ROLE_NAME exists and trusts ServiceAccount $NAMESPACE/$SERVICE_ACCOUNT of $ISSUER"
    return 0
  fi
  aws_call iam update-assume-role-policy --role-name "$ROLE_NAME" --policy-document "${edited#*$'\t'}" ||
    die "$(aws_error_hint "update the trust policy of $ROLE_NAME (iam:UpdateAssumeRolePolicy)")"
  push_undo undo_restore_trust
  say "role $ROLE_NAME exists; it now trusts ServiceAccount $NAMESPACE/$SERVICE_ACCOUNT of $ISSUER (${edited%%$'\t'*} issuer(s) in all)"
}

# OUT: the role's trust policy (JSON).
read_trust() {
  assume "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Federated\":\"<PROVIDER_ARN>\"},\"Action\":\"sts:AssumeRoleWithWebIdentity\"}]}"
  aws_call iam get-role --role-name "$ROLE_NAME" --query Role.AssumeRolePolicyDocument --output json ||
    die "$(aws_error_hint "read the trust policy of $ROLE_NAME (iam:GetRole)")"
}

# The role's inline pull policy (shared by every cluster the role trusts).
ensure_role_policy() {
  local wanted
  wanted=$(policy_document)
  if ! $ROLE_CREATED; then
    if aws_call iam get-role-policy --role-name "$ROLE_NAME" --policy-name "$POLICY_NAME" \
      --query PolicyDocument --output json; then
      OLD_ROLE_POLICY=$OUT
      if [[ "$(compact "$OLD_ROLE_POLICY")" == "$(compact "$wanted")" ]]; then
        say "policy $POLICY_NAME of $ROLE_NAME is up to date"
        return 0
      fi
    elif [[ $ERR != *NoSuchEntity* ]]; then
      die "$(aws_error_hint "read policy $POLICY_NAME of $ROLE_NAME (iam:GetRolePolicy)")"
    fi
  fi
  aws_call iam put-role-policy --role-name "$ROLE_NAME" --policy-name "$POLICY_NAME" \
    --policy-document "$wanted" ||
    die "$(aws_error_hint "put policy $POLICY_NAME on $ROLE_NAME (iam:PutRolePolicy)")"
  push_undo undo_restore_role_policy
  say "put inline policy $POLICY_NAME on $ROLE_NAME"
}

# stdout: what to do next (the plan's last lines under --dry-run).
print_next_steps() {
  printf 'role: %s\n' "$ROLE_ARN"
  printf 'issuer: %s\n' "$ISSUER"
  printf 'next: npm run synth -- --auth web-identity --role-arn %s --region %s --namespace %s --service-account %s\n' \
    "$ROLE_ARN" "$REGION" "$NAMESPACE" "$SERVICE_ACCOUNT"
}

# ---------------------------------------------------------------------------------------------
# delete --web-identity

# Sets ROLE_ARN; fails (status 1) when the role does not exist; dies on a role not ours.
read_role() {
  assume "arn:$PARTITION:iam::<ACCOUNT_ID>:role$ROLE_PATH$ROLE_NAME	$MANAGED_BY"
  if ! aws_call iam get-role --role-name "$ROLE_NAME" \
    --query "[Role.Arn, Role.Tags[?Key==\`\"$TAG_KEY\"\`].Value | [0]]" --output text; then
    [[ $ERR == *NoSuchEntity* ]] || die "$(aws_error_hint "read IAM role $ROLE_NAME (iam:GetRole)")"
    return 1
  fi
  ROLE_ARN=${OUT%%[[:space:]]*}
  [[ ${OUT##*[[:space:]]} == "$MANAGED_BY" ]] ||
    die "IAM role $ROLE_NAME was not created by $PROG (no tag $TAG_KEY=$MANAGED_BY); nothing was deleted"
}

# Sets PROVIDER_ARN to this cluster's issuer among those the role trusts, and TRUST_LEFT to the
# trust policy without it. A role that trusts one issuer needs no more; with several, this
# cluster's issuer comes from --issuer-url, --publish-discovery or the cluster itself.
pick_trust_statement() {
  local doc trust providers="" rest arn pattern='"Federated":"([^"]*)"'
  read_trust
  doc=$OUT
  trust=$(policy_edit "$doc" "") || die "the trust policy of $ROLE_NAME is not JSON this script can read"
  rest=$trust
  while [[ $rest =~ $pattern ]]; do
    arn=${BASH_REMATCH[1]}
    providers="$providers${providers:+ }$arn"
    rest=${rest#*"${BASH_REMATCH[0]}"}
  done
  if [[ -n $ISSUER_URL || -n $PUBLISH_DISCOVERY || $providers == *" "* ]]; then
    if [[ -n $PUBLISH_DISCOVERY ]]; then
      ISSUER=$(published_issuer)
    elif [[ -n $ISSUER_URL ]]; then
      ISSUER=${ISSUER_URL%/}
    else
      read_cluster_discovery
      ISSUER=$(json_field "$DISCOVERY" issuer) || ISSUER="(none)"
    fi
    PROVIDER_ARN="arn:$PARTITION:iam::$ACCOUNT_ID:oidc-provider/${ISSUER#https://}"
    $DRY_RUN || [[ " $providers " == *" $PROVIDER_ARN "* ]] ||
      die_usage "IAM role $ROLE_NAME trusts ${providers// /, }, not this cluster's issuer $ISSUER; name the issuer to remove with --issuer-url (nothing was deleted)"
  else
    PROVIDER_ARN=$providers
  fi
  trust=$(policy_edit "$doc" "\"Federated\":\"$PROVIDER_ARN\"")
  trust=${trust%%$'\n'*}
  TRUST_LEFT_COUNT=${trust%%$'\t'*}
  TRUST_LEFT=${trust#*$'\t'}
}

# Only the role's own policy may be on it; anything else means someone else uses the role.
refuse_foreign_role_policies() {
  assume "$POLICY_NAME"
  aws_call iam list-role-policies --role-name "$ROLE_NAME" --query 'PolicyNames[]' --output text ||
    die "$(aws_error_hint "list the policies of $ROLE_NAME (iam:ListRolePolicies)")"
  local p others=""
  for p in $OUT; do
    [[ $p != "$NAME-ecr-assume-tenant-"* ]] || refuse_base_with_tenants "IAM role $ROLE_NAME" "$p"
    [[ $p == "$POLICY_NAME" || $p == None ]] || others="$others${others:+ }$p"
  done
  [[ -z $others ]] || die "$ROLE_NAME has policies $PROG did not put there ($others); nothing was deleted"
}

# The role loses this cluster's trust statement; with none left, the role and its policy go.
remove_trust_or_role() {
  if [[ $TRUST_LEFT_COUNT -gt 0 ]]; then
    aws_call iam update-assume-role-policy --role-name "$ROLE_NAME" --policy-document "$TRUST_LEFT" ||
      die "$(aws_error_hint "update the trust policy of $ROLE_NAME (iam:UpdateAssumeRolePolicy)")"
    say "removed the trust of $PROVIDER_ARN from IAM role $ROLE_NAME; it still trusts $TRUST_LEFT_COUNT other issuer(s)"
    return 0
  fi
  aws_call iam delete-role-policy --role-name "$ROLE_NAME" --policy-name "$POLICY_NAME" ||
    [[ $ERR == *NoSuchEntity* ]] || die "$(aws_error_hint "delete policy $POLICY_NAME (iam:DeleteRolePolicy)")"
  aws_call iam delete-role --role-name "$ROLE_NAME" || die "$(aws_error_hint "delete role $ROLE_NAME (iam:DeleteRole)")"
  say "deleted IAM role $ROLE_NAME and its policy"
}

# The provider goes only if this script made it (tag) and no remaining role trusts it.
delete_provider_if_unused() {
  [[ $PROVIDER_ARN == arn:*:oidc-provider/* || $PROVIDER_ARN == "<PROVIDER_ARN>" ]] || return 0
  assume "$TAG_KEY	$MANAGED_BY"
  aws_call iam list-open-id-connect-provider-tags --open-id-connect-provider-arn "$PROVIDER_ARN" \
    --query "Tags[?Key==\`\"$TAG_KEY\"\`].[Key,Value] | [0]" --output text || {
    say "leaving OIDC provider $PROVIDER_ARN: $(aws_error_hint "read its tags (iam:ListOpenIDConnectProviderTags)")"
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

# ---------------------------------------------------------------------------------------------
# Undo steps (run_undo calls them, last pushed first)

undo_restore_role_policy() {
  if [[ -z $OLD_ROLE_POLICY ]]; then
    aws_call iam delete-role-policy --role-name "$ROLE_NAME" --policy-name "$POLICY_NAME" ||
      say "  FAILED: $(aws_error_hint "delete policy $POLICY_NAME of $ROLE_NAME (iam:DeleteRolePolicy)")"
  else
    say "  restoring the previous policy $POLICY_NAME of $ROLE_NAME"
    aws_call iam put-role-policy --role-name "$ROLE_NAME" --policy-name "$POLICY_NAME" --policy-document "$OLD_ROLE_POLICY" ||
      say "  FAILED: $(aws_error_hint "restore policy $POLICY_NAME of $ROLE_NAME (iam:PutRolePolicy)")"
  fi
}

undo_restore_trust() {
  say "  restoring the previous trust policy of $ROLE_NAME"
  aws_call iam update-assume-role-policy --role-name "$ROLE_NAME" --policy-document "$OLD_TRUST" ||
    say "  FAILED: $(aws_error_hint "restore the trust policy of $ROLE_NAME (iam:UpdateAssumeRolePolicy)")"
}

undo_delete_role() {
  say "  deleting role $ROLE_NAME"
  aws_call iam delete-role --role-name "$ROLE_NAME" || say "  FAILED: $(aws_error_hint "delete role $ROLE_NAME (iam:DeleteRole)")"
}

undo_delete_provider() {
  say "  deleting OIDC provider $1"
  aws_call iam delete-open-id-connect-provider --open-id-connect-provider-arn "$1" ||
    say "  FAILED: $(aws_error_hint "delete OIDC provider $1 (iam:DeleteOpenIDConnectProvider)")"
}
