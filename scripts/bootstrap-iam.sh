#!/usr/bin/env bash
# bootstrap-iam.sh - creates, rotates and deletes the AWS identity the ECR credential refresh
# uses: an IAM user with a pull-only policy and one access key, put into the cluster as the
# Secret the generated bundle reads; or, keyless (--web-identity), an IAM OIDC provider for the
# cluster's ServiceAccount issuer and a role only the updater's ServiceAccount may assume; and
# (--tenant) a role per tenant that only that identity may assume, pulling only the tenant's
# repositories.
#
# Runs on users' machines (macOS ships bash 3.2, BSD tools): no associative arrays, no
# ${var,,}, no mapfile, no GNU-only options; "${arr[@]}" of an empty array is guarded because
# bash < 4.4 calls it unbound under `set -u`.
#
# The secret access key never reaches an argv (/proc/PID/cmdline is readable by every user on
# the machine) nor the terminal: a command substitution captures it from
# `aws iam create-access-key`, the printf builtin builds the Secret manifest that is piped to
# `kubectl apply -f -`, and the proof runs the aws CLI with the key in that one command's
# environment. Never run this script under `set -x` or `bash -x`: xtrace prints values.
#
# The parts, sourced from bootstrap-iam/ next to this file, one purpose each:
#   args.sh          options, help texts, the checks of bad input (exit 2 before any call)
#   calls.sh         messages; every aws/kubectl call (a printed plan under --dry-run); the
#                    hint naming the refused permission; the undo list of the run
#   iam-user.sh      the caller's identity; the IAM user, its pull policy, its keys
#   secret.sh        the kube context and Secret NS/NAME, or the --output manifest
#   web-identity.sh  the OIDC provider and the role, one trust statement per cluster
#   discovery.sh     --publish-discovery: the discovery documents in a shared S3 bucket
#   policy-json.sh   swapping one statement of a shared policy document, keeping the rest
#   tenant.sh        --tenant: a role per tenant, pulling only its repositories, assumable
#                    only by the base principal (the keys user or the web-identity role)
#
# Environment: the aws CLI's own (AWS_PROFILE, AWS_REGION, AWS_ACCESS_KEY_ID, ...), KUBECONFIG,
# BOOTSTRAP_IAM_PROOF_TIMEOUT and BOOTSTRAP_IAM_PROOF_INTERVAL (seconds to keep proving a new
# key while IAM propagates it, and between tries) [120, 3].
#
# Exit codes:
#   0  done, or nothing to do
#   1  failed; what this run created or changed was undone (130/143 after Ctrl-C/TERM, same)
#   2  bad input; nothing was changed
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

parts=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/bootstrap-iam
# shellcheck source=SCRIPTDIR/bootstrap-iam/args.sh
source "$parts/args.sh"
# shellcheck source=SCRIPTDIR/bootstrap-iam/calls.sh
source "$parts/calls.sh"
# shellcheck source=SCRIPTDIR/bootstrap-iam/iam-user.sh
source "$parts/iam-user.sh"
# shellcheck source=SCRIPTDIR/bootstrap-iam/secret.sh
source "$parts/secret.sh"
# shellcheck source=SCRIPTDIR/bootstrap-iam/web-identity.sh
source "$parts/web-identity.sh"
# shellcheck source=SCRIPTDIR/bootstrap-iam/discovery.sh
source "$parts/discovery.sh"
# shellcheck source=SCRIPTDIR/bootstrap-iam/policy-json.sh
source "$parts/policy-json.sh"
# shellcheck source=SCRIPTDIR/bootstrap-iam/tenant.sh
source "$parts/tenant.sh"

# The aws CLI v2 pipes output through a pager and may prompt; neither may happen here.
export AWS_PAGER=""
export AWS_CLI_AUTO_PROMPT=off

# create and rotate: tools, the caller's identity, and the cluster's consent before any change.
preflight() {
  require_aws_cli
  aws_identity
  if [[ -z $OUTPUT ]]; then
    kube_preflight
  fi
}

# The part of a sentence about the Secret ("@" stands for NS/NAME); empty with --output.
secret_clause() { [[ -n $OUTPUT ]] || printf '%s' "${1/@/$NAMESPACE/$SECRET_NAME}"; }

cmd_create() {
  plan_header "IAM user $USER_NAME does not exist$(secret_clause ', Secret @ does not exist')" "" \
    "nothing below is run; every aws and kubectl call a real run would make is listed."
  preflight
  read_user absent
  [[ -n $OUTPUT ]] || read_secret
  if $USER_EXISTS; then
    require_our_user
    say "IAM user $USER_NAME exists"
    read_keys ""
    refuse_keys_the_secret_lacks
    ensure_policy
    if [[ ${#KEYS[@]} -gt 0 ]]; then
      report_key_in_place
      COMMITTED=true
      return 0
    fi
  else
    create_user
    ensure_policy
  fi
  if $SECRET_EXISTS; then
    say "Secret $NAMESPACE/$SECRET_NAME exists with key ${SECRET_KEY_ID:-(none)}; it will be replaced"
  fi
  create_key
  prove_key "$NEW_KEY_ID" "$NEW_KEY_SECRET" ||
    die "the new key $NEW_KEY_ID was not accepted by ECR within ${PROOF_TIMEOUT}s"
  if [[ -n $OUTPUT ]]; then
    write_output
  else
    write_secret_and_verify
  fi
  COMMITTED=true
  NEW_KEY_SECRET=""
  finish "done: $USER_NAME can pull from ECR with key $NEW_KEY_ID"
}

cmd_rotate() {
  plan_header "IAM user $USER_NAME exists with one key, <OLD_ACCESS_KEY_ID>$(secret_clause ', which Secret @ holds')" "" \
    "nothing below is run; every aws and kubectl call a real run would make is listed."
  preflight
  read_user ours
  $USER_EXISTS || die_usage "IAM user $USER_NAME does not exist (--name \"$NAME\"); run '$PROG create' first"
  require_our_user
  read_keys "<OLD_ACCESS_KEY_ID>"
  if [[ -z $OUTPUT ]]; then
    read_secret "<OLD_ACCESS_KEY_ID>"
    refuse_foreign_secret_key
    keep_secret_region
  fi
  refuse_third_key
  local old=${KEYS[0]:-}
  create_key
  prove_key "$NEW_KEY_ID" "$NEW_KEY_SECRET" ||
    die "the new key $NEW_KEY_ID was not accepted by ECR within ${PROOF_TIMEOUT}s; the old key stays in use"
  if [[ -n $OUTPUT ]]; then
    # This script cannot know when FILE is applied, so the old key stays.
    write_output
    COMMITTED=true
    NEW_KEY_SECRET=""
    [[ -z $old ]] ||
      say "kept the old key $old: the cluster may still use it. Once the new manifest is applied, delete it with: aws iam delete-access-key --user-name $USER_NAME --access-key-id $old"
    finish
    return 0
  fi
  write_secret_and_verify
  delete_old_key "$old"
  COMMITTED=true
  NEW_KEY_SECRET=""
  finish "done: Secret $NAMESPACE/$SECRET_NAME holds key $NEW_KEY_ID, the only key of $USER_NAME"
}

cmd_delete() {
  plan_header "IAM user $USER_NAME exists with one key <ACCESS_KEY_ID> and policy $POLICY_NAME$(secret_clause ', Secret @ holds that key')"
  require_aws_cli
  aws_identity
  read_user ours
  [[ -n $OUTPUT ]] || read_secret_for_delete
  KEYS=()
  if $USER_EXISTS; then
    require_our_user
    read_keys "<ACCESS_KEY_ID>"
  fi
  decide_secret_deletion
  if ! $USER_EXISTS && ! $DELETE_SECRET; then
    say "nothing to delete: IAM user $USER_NAME does not exist$(secret_clause ' and Secret @ is not there')"
    return 0
  fi
  ! $USER_EXISTS || refuse_foreign_user_policies
  confirm_delete "$(delete_summary)"
  ! $DELETE_SECRET || delete_secret
  ! $USER_EXISTS || delete_user_keys_and_policy
  if [[ -n $OUTPUT ]] && ! $DRY_RUN; then
    say "the Secret was not touched (--output): delete it where you applied it, e.g. kubectl -n $NAMESPACE delete secret $SECRET_NAME"
  fi
  finish
}

delete_summary() {
  local summary=""
  ! $DELETE_SECRET || summary="Secret $NAMESPACE/$SECRET_NAME (context $(context_label)); "
  if $USER_EXISTS; then
    summary="${summary}IAM user $USER_NAME with access key(s) $(keys_text)"
    ! $HAS_POLICY || summary="$summary and policy $POLICY_NAME"
  fi
  printf '%s' "$summary"
}

cmd_create_web_identity() {
  plan_header "no OIDC provider for the issuer and no IAM role $ROLE_NAME yet" " --web-identity"
  require_aws_cli
  aws_identity
  resolve_issuer
  if [[ -n $PUBLISH_DISCOVERY ]]; then
    read_discovery_documents
    ensure_bucket
    allow_public_bucket_policy
    upload_document "$DISCOVERY_KEY" "$WORK/discovery.json"
    upload_document "$JWKS_KEY" "$WORK/jwks.json"
    grant_public_read
  fi
  ensure_provider
  ensure_role
  ensure_role_policy
  COMMITTED=true
  print_next_steps
}

cmd_delete_web_identity() {
  require_aws_cli
  ! $DRY_RUN || printf '# %s delete --web-identity --dry-run: nothing below is run.\n' "$PROG"
  aws_identity
  if ! read_role; then
    say "nothing to delete: IAM role $ROLE_NAME does not exist"
    return 0
  fi
  pick_trust_statement
  if [[ $TRUST_LEFT_COUNT -gt 0 ]]; then
    confirm_delete "the trust of $PROVIDER_ARN in IAM role $ROLE_NAME ($TRUST_LEFT_COUNT other issuer(s) stay)"
  else
    refuse_foreign_role_policies
    confirm_delete "IAM role $ROLE_NAME with policy $POLICY_NAME"
  fi
  remove_trust_or_role
  delete_provider_if_unused
  [[ -z $PUBLISH_DISCOVERY ]] || unpublish_discovery
  finish
}

cmd_create_tenant() {
  plan_header "the base IAM $(base_kind_word) $USER_NAME exists; no IAM role $TENANT_ROLE_NAME yet" " --tenant $TENANT"
  require_aws_cli
  aws_identity
  read_base_principal
  ensure_tenant_role
  ensure_tenant_policy
  ensure_assume_policy
  COMMITTED=true
  print_tenant_next_steps
  finish
}

cmd_delete_tenant() {
  plan_header "IAM role $TENANT_ROLE_NAME exists with policy $POLICY_NAME; the base IAM $(base_kind_word) $USER_NAME holds policy $ASSUME_POLICY_NAME" " --tenant $TENANT"
  require_aws_cli
  aws_identity
  local role=true
  read_tenant_role || role=false
  read_assume_grants
  if ! $role && [[ ${#GRANT_KINDS[@]} -eq 0 ]]; then
    say "nothing to delete: IAM role $TENANT_ROLE_NAME does not exist and no base principal holds policy $ASSUME_POLICY_NAME"
    return 0
  fi
  ! $role || refuse_foreign_tenant_policies
  confirm_delete "$(tenant_delete_summary "$role")"
  delete_assume_grants
  ! $role || delete_tenant_role
  finish
}

main() {
  parse_args "$@"
  validate_args
  trap on_exit EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  case $COMMAND:$WEB_IDENTITY:$TENANT_GIVEN in
    create:*:true) cmd_create_tenant ;;
    delete:*:true) cmd_delete_tenant ;;
    create:false:*) cmd_create ;;
    create:true:*) cmd_create_web_identity ;;
    rotate:*) cmd_rotate ;;
    delete:false:*) cmd_delete ;;
    delete:true:*) cmd_delete_web_identity ;;
  esac
}

main "$@"
