# shellcheck shell=bash
# bootstrap-iam/tenant.sh - tenant roles (create/delete --tenant NAME): a role per tenant whose
# inline policy pulls only that tenant's repositories and whose trust admits only the base
# principal (the keys user PREFIX-ecr-puller, or with --web-identity the role of that name),
# plus, on the base principal, an inline policy of its own that lets it assume that one role.
# One policy per tenant on the base, not a statement in a shared one: undo and delete remove
# exactly one named policy, and a re-run of the base's create (which rewrites PREFIX-ecr-pull
# to what its options ask) cannot drop a tenant. Sourced by bootstrap-iam.sh; defines functions
# and the state they share.

TENANT=""
TENANT_REPOSITORIES=()
TENANT_ROLE_NAME=""
TENANT_ROLE_ARN=""
TENANT_ROLE_CREATED=false
# The base's inline policy that allows sts:AssumeRole on this tenant's role only.
ASSUME_POLICY_NAME=""
# The base principal: "user" or "role" (--web-identity), its name and its ARN as IAM reports it.
BASE_KIND=user
BASE_NAME=""
BASE_ARN=""
# What this run found before changing it, for the undo steps (empty = there was none).
OLD_TENANT_TRUST=""
OLD_TENANT_POLICY=""
OLD_ASSUME_POLICY=""

# Sets BASE_ARN from IAM (the ARN carries the path; a composed one could differ). The base must
# exist and be this script's: a tenant role trusting anything else would admit a stranger.
read_base_principal() {
  local kind=user other=role
  if $WEB_IDENTITY; then
    kind=role
    other=user
  fi
  BASE_KIND=$kind
  assume "arn:$PARTITION:iam::<ACCOUNT_ID>:$kind$USER_PATH$BASE_NAME	$MANAGED_BY"
  if base_get "$kind"; then
    BASE_ARN=${OUT%%[[:space:]]*}
    [[ ${OUT##*[[:space:]]} == "$MANAGED_BY" ]] ||
      die "IAM $kind $BASE_NAME exists but was not created by $PROG (no tag $TAG_KEY=$MANAGED_BY); a tenant role may trust only the base this script made. Pick the right --name"
    say "base principal: IAM $kind $BASE_ARN"
    return 0
  fi
  [[ $ERR == *NoSuchEntity* ]] || die "$(aws_error_hint "read IAM $kind $BASE_NAME (iam:Get$(kind_title "$kind"))")"
  if base_get "$other"; then
    if $WEB_IDENTITY; then
      die_usage "--web-identity: IAM role $BASE_NAME does not exist, but IAM user $BASE_NAME does: this installation uses keys; drop --web-identity (nothing was changed)"
    fi
    die_usage "IAM user $BASE_NAME does not exist, but IAM role $BASE_NAME does: this installation uses web identity; add --web-identity (nothing was changed)"
  fi
  [[ $ERR == *NoSuchEntity* ]] || die "$(aws_error_hint "read IAM $other $BASE_NAME (iam:Get$(kind_title "$other"))")"
  die_usage "neither IAM user nor IAM role $BASE_NAME exists (--name \"$NAME\"): a tenant role is assumed from the base principal, so create that first with '$PROG create' (keys) or '$PROG create --web-identity', then run this again (nothing was changed)"
}

# user -> User, role -> Role (IAM's operation names); bash 3.2 has no ${var^}.
kind_title() {
  case $1 in
    user) printf User ;;
    role) printf Role ;;
  esac
}

# base_get KIND: get-user or get-role of the base name; OUT is "ARN<TAB>managed-by tag".
base_get() {
  aws_call iam "get-$1" "--$1-name" "$BASE_NAME" \
    --query "[$(kind_title "$1").Arn, $(kind_title "$1").Tags[?Key==\`\"$TAG_KEY\"\`].Value | [0]]" --output text
}

# Only the base principal may assume the tenant role; nothing else, no conditions to misread.
tenant_trust_document() {
  printf '{"Version":"2012-10-17","Statement":[{"Sid":"BasePrincipal","Effect":"Allow","Principal":{"AWS":"%s"},"Action":"sts:AssumeRole"}]}' \
    "$BASE_ARN"
}

# The tenant's pull policy: the login (which takes no resource) and the pull actions on the
# tenant's repositories only, in --region (a full ARN reaches other regions or accounts). The
# same pull actions as the base's policy and AWS's AmazonEC2ContainerRegistryPullOnly:
# ecr:BatchCheckLayerAvailability is what a client calls before a push, never for a pull.
tenant_policy_document() {
  local repo
  local -a arns=()
  for repo in "${TENANT_REPOSITORIES[@]}"; do
    if [[ $repo == arn:* ]]; then
      arns+=("$repo")
    else
      arns+=("arn:$PARTITION:ecr:$REGION:$ACCOUNT_ID:repository/$repo")
    fi
  done
  printf '{"Version":"2012-10-17","Statement":[{"Sid":"EcrLogin","Effect":"Allow","Action":"ecr:GetAuthorizationToken","Resource":"*"},{"Sid":"EcrPullTenantRepositories","Effect":"Allow","Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"],"Resource":[%s]}]}' \
    "$(json_string_list "${arns[@]}")"
}

assume_policy_document() {
  printf '{"Version":"2012-10-17","Statement":[{"Sid":"AssumeTenantRole","Effect":"Allow","Action":"sts:AssumeRole","Resource":"%s"}]}' \
    "$TENANT_ROLE_ARN"
}

# Sets TENANT_ROLE_ARN: creates the role (tagged), or on one this script made aligns its trust.
ensure_tenant_role() {
  assume_missing GetRole
  if ! aws_call iam get-role --role-name "$TENANT_ROLE_NAME" \
    --query "[Role.Arn, Role.Tags[?Key==\`\"$TAG_KEY\"\`].Value | [0]]" --output text; then
    [[ $ERR == *NoSuchEntity* ]] || die "$(aws_error_hint "read IAM role $TENANT_ROLE_NAME (iam:GetRole)")"
    assume "arn:$PARTITION:iam::$ACCOUNT_ID:role$ROLE_PATH$TENANT_ROLE_NAME"
    aws_call iam create-role --role-name "$TENANT_ROLE_NAME" --path "$ROLE_PATH" \
      --assume-role-policy-document "$(tenant_trust_document)" \
      --tags "Key=$TAG_KEY,Value=$MANAGED_BY" "Key=ecr-k8s-credentials:tenant,Value=$TENANT" \
      --query Role.Arn --output text ||
      die "$(aws_error_hint "create IAM role $TENANT_ROLE_NAME (iam:CreateRole)")"
    TENANT_ROLE_ARN=$OUT
    TENANT_ROLE_CREATED=true
    push_undo undo_delete_tenant_role
    say "created IAM role $TENANT_ROLE_ARN, assumable only by $BASE_ARN"
    return 0
  fi
  TENANT_ROLE_ARN=${OUT%%[[:space:]]*}
  [[ ${OUT##*[[:space:]]} == "$MANAGED_BY" ]] ||
    die "IAM role $TENANT_ROLE_NAME exists but was not created by $PROG (no tag $TAG_KEY=$MANAGED_BY), so it is left alone. Pick another --tenant or --name"
  aws_call iam get-role --role-name "$TENANT_ROLE_NAME" --query Role.AssumeRolePolicyDocument --output json ||
    die "$(aws_error_hint "read the trust policy of $TENANT_ROLE_NAME (iam:GetRole)")"
  if [[ "$(compact "$OUT")" == "$(tenant_trust_document)" ]]; then
    say "role $TENANT_ROLE_NAME exists and trusts $BASE_ARN only"
    return 0
  fi
  OLD_TENANT_TRUST=$OUT
  aws_call iam update-assume-role-policy --role-name "$TENANT_ROLE_NAME" --policy-document "$(tenant_trust_document)" ||
    die "$(aws_error_hint "update the trust policy of $TENANT_ROLE_NAME (iam:UpdateAssumeRolePolicy)")"
  push_undo undo_restore_tenant_trust
  say "role $TENANT_ROLE_NAME exists; its trust now admits $BASE_ARN only"
}

# The tenant role's pull policy; written only when it differs from the requested one.
ensure_tenant_policy() {
  local wanted
  wanted=$(tenant_policy_document)
  if ! $TENANT_ROLE_CREATED; then
    if aws_call iam get-role-policy --role-name "$TENANT_ROLE_NAME" --policy-name "$POLICY_NAME" \
      --query PolicyDocument --output json; then
      if [[ "$(compact "$OUT")" == "$wanted" ]]; then
        say "policy $POLICY_NAME of $TENANT_ROLE_NAME is up to date"
        return 0
      fi
      OLD_TENANT_POLICY=$OUT
    elif [[ $ERR != *NoSuchEntity* ]]; then
      die "$(aws_error_hint "read policy $POLICY_NAME of $TENANT_ROLE_NAME (iam:GetRolePolicy)")"
    fi
  fi
  aws_call iam put-role-policy --role-name "$TENANT_ROLE_NAME" --policy-name "$POLICY_NAME" \
    --policy-document "$wanted" ||
    die "$(aws_error_hint "put policy $POLICY_NAME on $TENANT_ROLE_NAME (iam:PutRolePolicy)")"
  push_undo undo_restore_tenant_policy
  say "put inline policy $POLICY_NAME on $TENANT_ROLE_NAME: pull from $(tenant_repositories_text)"
}

# The base principal's own policy for this tenant: sts:AssumeRole on this one role ARN.
ensure_assume_policy() {
  local wanted
  wanted=$(assume_policy_document)
  assume_missing "Get$(kind_title "$BASE_KIND")Policy"
  if aws_call iam "get-$BASE_KIND-policy" "--$BASE_KIND-name" "$BASE_NAME" --policy-name "$ASSUME_POLICY_NAME" \
    --query PolicyDocument --output json; then
    if [[ "$(compact "$OUT")" == "$wanted" ]]; then
      say "policy $ASSUME_POLICY_NAME of $BASE_NAME is up to date"
      return 0
    fi
    OLD_ASSUME_POLICY=$OUT
  elif [[ $ERR != *NoSuchEntity* ]]; then
    die "$(aws_error_hint "read policy $ASSUME_POLICY_NAME of $BASE_NAME (iam:Get$(kind_title "$BASE_KIND")Policy)")"
  fi
  aws_call iam "put-$BASE_KIND-policy" "--$BASE_KIND-name" "$BASE_NAME" --policy-name "$ASSUME_POLICY_NAME" \
    --policy-document "$wanted" ||
    die "$(aws_error_hint "put policy $ASSUME_POLICY_NAME on $BASE_KIND $BASE_NAME (iam:Put$(kind_title "$BASE_KIND")Policy)")"
  push_undo undo_restore_assume_policy
  say "put inline policy $ASSUME_POLICY_NAME on $BASE_KIND $BASE_NAME: it may assume $TENANT_ROLE_ARN"
}

tenant_repositories_text() {
  local IFS=,
  printf '%s' "${TENANT_REPOSITORIES[*]}"
}

# stdout: the role and the generator flag (MATCH is the user's choice: a namespace glob here).
print_tenant_next_steps() {
  printf 'role: %s\n' "$TENANT_ROLE_ARN"
  printf "next: npm run synth -- --tenant '%s-*=%s'   (MATCH: the namespaces of tenant %s, a glob or a label selector)\n" \
    "$TENANT" "$TENANT_ROLE_ARN" "$TENANT"
}

# The base kind --web-identity names, for the plan's assumptions.
base_kind_word() { if $WEB_IDENTITY; then printf role; else printf user; fi; }

# ---------------------------------------------------------------------------------------------
# delete --tenant

# refuse_base_with_tenants WHO POLICY: the base's delete stops while a tenant role still trusts
# it; deleting the tenant first removes the role and this grant together.
refuse_base_with_tenants() {
  die "$1 still holds $2: tenant ${2#"$NAME-ecr-assume-tenant-"} is assumed from it. Delete the tenant first: $PROG delete --tenant ${2#"$NAME-ecr-assume-tenant-"} --name $NAME (nothing was deleted)"
}

# Sets TENANT_ROLE_ARN; fails (status 1) when the role does not exist; dies on a role not ours.
read_tenant_role() {
  assume "arn:$PARTITION:iam::<ACCOUNT_ID>:role$ROLE_PATH$TENANT_ROLE_NAME	$MANAGED_BY"
  if ! aws_call iam get-role --role-name "$TENANT_ROLE_NAME" \
    --query "[Role.Arn, Role.Tags[?Key==\`\"$TAG_KEY\"\`].Value | [0]]" --output text; then
    [[ $ERR == *NoSuchEntity* ]] || die "$(aws_error_hint "read IAM role $TENANT_ROLE_NAME (iam:GetRole)")"
    return 1
  fi
  TENANT_ROLE_ARN=${OUT%%[[:space:]]*}
  [[ ${OUT##*[[:space:]]} == "$MANAGED_BY" ]] ||
    die "IAM role $TENANT_ROLE_NAME was not created by $PROG (no tag $TAG_KEY=$MANAGED_BY); nothing was deleted"
}

# Sets GRANT_KINDS to the base principals (user, role) that hold this tenant's assume policy.
# Both are looked at, whatever --web-identity says: delete removes the grant wherever create put
# it. Under --dry-run the plan assumes the one --web-identity names holds it.
GRANT_KINDS=()
read_assume_grants() {
  local kind wanted=user
  ! $WEB_IDENTITY || wanted=role
  GRANT_KINDS=()
  for kind in user role; do
    if [[ $kind == "$wanted" ]]; then
      assume "$ASSUME_POLICY_NAME"
    else
      assume_missing "Get$(kind_title "$kind")Policy"
    fi
    if aws_call iam "get-$kind-policy" "--$kind-name" "$BASE_NAME" --policy-name "$ASSUME_POLICY_NAME" \
      --query PolicyName --output text; then
      GRANT_KINDS+=("$kind")
    elif [[ $ERR != *NoSuchEntity* ]]; then
      die "$(aws_error_hint "read policy $ASSUME_POLICY_NAME of $kind $BASE_NAME (iam:Get$(kind_title "$kind")Policy)")"
    fi
  done
}

grants_text() {
  local holder out=""
  for holder in ${GRANT_KINDS[@]+"${GRANT_KINDS[@]}"}; do
    out="$out${out:+ and }policy $ASSUME_POLICY_NAME of IAM $holder $BASE_NAME"
  done
  printf '%s' "$out"
}

# What delete --tenant is about to remove ($1: whether the role exists), for the confirmation.
tenant_delete_summary() {
  local summary=""
  ! $1 || summary="IAM role $TENANT_ROLE_NAME with policy $POLICY_NAME"
  [[ ${#GRANT_KINDS[@]} -eq 0 ]] || summary="$summary${summary:+ and }$(grants_text)"
  printf '%s' "$summary"
}

# The tenant role carries only its pull policy; anything else means someone else uses it.
refuse_foreign_tenant_policies() {
  local p others=""
  assume "$POLICY_NAME"
  aws_call iam list-role-policies --role-name "$TENANT_ROLE_NAME" --query 'PolicyNames[]' --output text ||
    die "$(aws_error_hint "list the policies of $TENANT_ROLE_NAME (iam:ListRolePolicies)")"
  for p in $OUT; do
    [[ $p == "$POLICY_NAME" || $p == None ]] || others="$others${others:+ }$p"
  done
  assume ""
  aws_call iam list-attached-role-policies --role-name "$TENANT_ROLE_NAME" --query 'AttachedPolicies[].PolicyArn' --output text ||
    die "$(aws_error_hint "list the attached policies of $TENANT_ROLE_NAME (iam:ListAttachedRolePolicies)")"
  for p in $OUT; do
    [[ $p == None ]] || others="$others${others:+ }$p"
  done
  [[ -z $others ]] || die "$TENANT_ROLE_NAME has policies $PROG did not put there ($others); nothing was deleted"
}

# The base's permission goes first: a failure after it leaves a role nobody may assume.
delete_assume_grants() {
  local kind
  for kind in ${GRANT_KINDS[@]+"${GRANT_KINDS[@]}"}; do
    aws_call iam "delete-$kind-policy" "--$kind-name" "$BASE_NAME" --policy-name "$ASSUME_POLICY_NAME" ||
      [[ $ERR == *NoSuchEntity* ]] ||
      die "$(aws_error_hint "delete policy $ASSUME_POLICY_NAME of $kind $BASE_NAME (iam:Delete$(kind_title "$kind")Policy)"); run delete again to finish"
    say "deleted policy $ASSUME_POLICY_NAME of IAM $kind $BASE_NAME"
  done
}

delete_tenant_role() {
  aws_call iam delete-role-policy --role-name "$TENANT_ROLE_NAME" --policy-name "$POLICY_NAME" ||
    [[ $ERR == *NoSuchEntity* ]] ||
    die "$(aws_error_hint "delete policy $POLICY_NAME of $TENANT_ROLE_NAME (iam:DeleteRolePolicy)"); run delete again to finish"
  aws_call iam delete-role --role-name "$TENANT_ROLE_NAME" ||
    die "$(aws_error_hint "delete role $TENANT_ROLE_NAME (iam:DeleteRole)"); run delete again to finish"
  say "deleted IAM role $TENANT_ROLE_NAME and its policy $POLICY_NAME"
}

# ---------------------------------------------------------------------------------------------
# Undo steps (run_undo calls them, last pushed first)

undo_delete_tenant_role() {
  say "  deleting role $TENANT_ROLE_NAME"
  aws_call iam delete-role --role-name "$TENANT_ROLE_NAME" ||
    say "  FAILED: $(aws_error_hint "delete role $TENANT_ROLE_NAME (iam:DeleteRole)")"
}

undo_restore_tenant_trust() {
  say "  restoring the previous trust policy of $TENANT_ROLE_NAME"
  aws_call iam update-assume-role-policy --role-name "$TENANT_ROLE_NAME" --policy-document "$OLD_TENANT_TRUST" ||
    say "  FAILED: $(aws_error_hint "restore the trust policy of $TENANT_ROLE_NAME (iam:UpdateAssumeRolePolicy)")"
}

undo_restore_tenant_policy() {
  if [[ -z $OLD_TENANT_POLICY ]]; then
    say "  deleting policy $POLICY_NAME of $TENANT_ROLE_NAME"
    aws_call iam delete-role-policy --role-name "$TENANT_ROLE_NAME" --policy-name "$POLICY_NAME" ||
      say "  FAILED: $(aws_error_hint "delete policy $POLICY_NAME of $TENANT_ROLE_NAME (iam:DeleteRolePolicy)")"
  else
    say "  restoring the previous policy $POLICY_NAME of $TENANT_ROLE_NAME"
    aws_call iam put-role-policy --role-name "$TENANT_ROLE_NAME" --policy-name "$POLICY_NAME" --policy-document "$OLD_TENANT_POLICY" ||
      say "  FAILED: $(aws_error_hint "restore policy $POLICY_NAME of $TENANT_ROLE_NAME (iam:PutRolePolicy)")"
  fi
}

undo_restore_assume_policy() {
  if [[ -z $OLD_ASSUME_POLICY ]]; then
    say "  deleting policy $ASSUME_POLICY_NAME of $BASE_NAME"
    aws_call iam "delete-$BASE_KIND-policy" "--$BASE_KIND-name" "$BASE_NAME" --policy-name "$ASSUME_POLICY_NAME" ||
      say "  FAILED: $(aws_error_hint "delete policy $ASSUME_POLICY_NAME of $BASE_NAME (iam:Delete$(kind_title "$BASE_KIND")Policy)")"
  else
    say "  restoring the previous policy $ASSUME_POLICY_NAME of $BASE_NAME"
    aws_call iam "put-$BASE_KIND-policy" "--$BASE_KIND-name" "$BASE_NAME" --policy-name "$ASSUME_POLICY_NAME" \
      --policy-document "$OLD_ASSUME_POLICY" ||
      say "  FAILED: $(aws_error_hint "restore policy $ASSUME_POLICY_NAME of $BASE_NAME (iam:Put$(kind_title "$BASE_KIND")Policy)")"
  fi
}
