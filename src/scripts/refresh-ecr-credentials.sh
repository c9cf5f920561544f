#!/bin/sh
# refresh-ecr-credentials.sh - writes one fresh AWS ECR pull secret
# (type kubernetes.io/dockerconfigjson) into every selected namespace.
#
# Runs in alpine/k8s under busybox ash as a non-root user on a read-only root filesystem:
# POSIX sh plus kubectl, curl (HTTP/2), the aws CLI (v1), jq and busybox applets. Writes only under TMPDIR
# (and kubectl's discovery cache under HOME). Settings arrive as environment variables only.
#
# The work is split into parts sourced from this script's own directory (the ConfigMap mounts
# them side by side), one purpose each:
#   ecr-log.sh         logfmt lines, redaction of secrets, fatal exits
#   ecr-settings.sh    settings from the environment, checked before any call
#   ecr-token.sh       the own account, the registries, one ECR token per region (signed by
#                      curl, or asked through the aws CLI)
#   ecr-public.sh      the ECR Public token (public.ecr.aws), when ECR_PUBLIC=true
#   ecr-api.sh         the Kubernetes API through curl: server, CA, credentials, a GET
#   ecr-namespaces.sh  the namespace listing and selection
#   ecr-write.sh       the Secret writes and each namespace's result
#   ecr-tenants.sh     a role per tenant: which namespaces get which role's tokens
#   ecr-service-accounts.sh  ServiceAccounts that list the Secret in imagePullSecrets
#   ecr-argocd.sh      Argo CD repo-creds Secrets for Helm OCI charts and OCI sources
#   ecr-watch.sh       the watch mode (first argument `watch`): new namespaces within seconds
#   ecr-events.sh      a Warning Event on the Job when a run ends with failures or conflicts
#
# Environment (defaults in brackets):
#   AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY  credentials for GetAuthorizationToken: curl signs
#                           the request with them (SigV4); with a session token, a profile, a
#                           role or web identity (or any other source the CLI supports) the aws
#                           CLI asks instead
#   AWS_REGION              region of the own registry (required)
#   AWS_ACCOUNT_ID          own account id [asked from `aws sts get-caller-identity`]
#   AWS_RETRY_MODE, AWS_MAX_ATTEMPTS  retries of throttled or failed AWS calls [standard, 5]
#   AWS_ENDPOINT_URL_ECR, AWS_ENDPOINT_URL, AWS_USE_FIPS_ENDPOINT, AWS_CA_BUNDLE, HTTPS_PROXY,
#   NO_PROXY                where and how AWS is reached, read by curl and the aws CLI alike
#   ECR_SECRET_NAME         name of the managed Secret [ecr-registry-credentials]
#   ECR_PUBLIC              true: every pull secret also holds public.ecr.aws, with a token from
#                           ECR Public's GetAuthorizationToken in us-east-1, asked with the base
#                           credentials like the private token (curl signs it, or the aws CLI
#                           asks); the aws partition only (no cn-*, us-gov-* AWS_REGION), no FIPS.
#                           AWS_ENDPOINT_URL_ECR_PUBLIC, else AWS_ENDPOINT_URL, overrides its
#                           endpoint [false]
#   ECR_REGISTRIES          extra registry hosts, space-separated, e.g.
#                           "210987654321.dkr.ecr.eu-west-1.amazonaws.com" [none]; the own
#                           account's registry in AWS_REGION is always included
#   ECR_TARGET_NAMESPACES   namespace names or globs (* ? [..]), space-separated [all]
#   ECR_EXCLUDE_NAMESPACES  namespace globs to leave alone, space-separated [none]
#   ECR_NAMESPACE_SELECTOR  label selector in kubectl -l syntax [none]
#   ECR_ADOPT_EXISTING      true: take over a same-named Secret another field manager owns
#                           (server-side apply --force-conflicts) [false]
#   ECR_APPLY_BATCH_SIZE    Secrets per curl process (one HTTP/2 connection) [250]
#   ECR_APPLY_PARALLELISM   curl processes running at once [2]
#   KUBECONFIG              outside a pod: the kubeconfig whose current context (server, CA,
#                           token or client certificate) is used; in a pod without it, the
#                           ServiceAccount token and CA and KUBERNETES_SERVICE_HOST/PORT
#   ECR_PATCH_SERVICE_ACCOUNTS  ServiceAccount names (space-separated) that get the Secret
#                           appended to imagePullSecrets in every target namespace [none]
#   ECR_TENANTS            one "MATCH=ROLE_ARN" per line: namespaces MATCH selects (a glob such
#                           as team-a-*, or a label selector such as team=a) get a Secret whose
#                           tokens that role mints, assumed from the base credentials; the first
#                           match wins [none]
#   ECR_TENANTS_ONLY        true: namespaces no tenant matches get no Secret [false]
#   ECR_ARGOCD_NAMESPACE    Argo CD's namespace: it gets two repo-creds Secrets per registry,
#                           <secret>-argocd-helm-N and <secret>-argocd-oci-N [none]
#   ECR_JOB_NAME, ECR_JOB_UID, ECR_POD_NAMESPACE  the Job this run belongs to (downward API);
#                           a run with failures or conflicts leaves an Event on it [none: no Event]
#   ECR_TRANSIENT_PAUSE_SECONDS  how long a run whose only failures may pass (exit 6) waits
#                           before it exits, so that the Job's retry meets a calmer API [30]
#   ECR_HEARTBEAT_FILE, ECR_WATCH_BATCH_SECONDS, ECR_WATCH_TIMEOUT_SECONDS  watch mode only
#                           [$TMPDIR/ecr-watch-heartbeat, 1, 300]
#
# Exit codes:
#   0  every selected namespace was updated, or skipped because it is terminating or gone
#   1  unexpected error (a bug, a missing tool, a killed process); see the last log lines
#   2  configuration error; nothing was written
#   3  AWS error: the account id or an ECR token (ECR Public's too) could not be obtained; nothing
#      was written
#   4  Kubernetes error: the namespaces could not be listed; nothing was written
#   5  at least one namespace (or ServiceAccount, or Argo CD Secret) failed for good (conflict, 403, 400, 422...);
#      every other namespace was written. The Job fails at once: a retry would end the same.
#   6  the only failures may pass: no answer, 429 or 5xx after curl's retries; every other
#      namespace was written. The run first waits ECR_TRANSIENT_PAUSE_SECONDS, then the Job
#      retries it (backoffLimit).
#
# Log: one logfmt line per event on stdout, never containing a token:
#   level=info event=token region=eu-west-1 registries=... expires_at=2025-01-01T12:00:00Z
#   level=info event=namespace namespace=default result=updated
#   level=warn event=namespace namespace=old result=skipped reason="namespace is terminating"
#   level=error event=namespace namespace=app result=conflict reason="..."
#   level=error event=namespace namespace=app2 result=failed reason="..."
#   level=info event=argocd-repo-creds namespace=argocd secret=S-argocd-helm-0 result=updated
#   level=info event=summary selected=4 updated=1 skipped=1 conflict=1 failed=1 ... exit_code=5
# result is one of updated | skipped | conflict | failed; grep 'result=failed' finds failures.
# Every selected namespace gets exactly one such line, and updated + skipped + conflict + failed
# = selected, whatever the API server or a proxy answers (or does not).
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
EXIT_TRANSIENT=6

started_at=$(date -u +%s)

case $0 in
  */*) script_dir=${0%/*} ;;
  *) script_dir=. ;;
esac
# shellcheck source=SCRIPTDIR/ecr-log.sh
. "$script_dir/ecr-log.sh"
# shellcheck source=SCRIPTDIR/ecr-settings.sh
. "$script_dir/ecr-settings.sh"
# shellcheck source=SCRIPTDIR/ecr-token.sh
. "$script_dir/ecr-token.sh"
# shellcheck source=SCRIPTDIR/ecr-public.sh
. "$script_dir/ecr-public.sh"
# shellcheck source=SCRIPTDIR/ecr-api.sh
. "$script_dir/ecr-api.sh"
# shellcheck source=SCRIPTDIR/ecr-namespaces.sh
. "$script_dir/ecr-namespaces.sh"
# shellcheck source=SCRIPTDIR/ecr-write.sh
. "$script_dir/ecr-write.sh"
# shellcheck source=SCRIPTDIR/ecr-tenants.sh
. "$script_dir/ecr-tenants.sh"
# shellcheck source=SCRIPTDIR/ecr-service-accounts.sh
. "$script_dir/ecr-service-accounts.sh"
# shellcheck source=SCRIPTDIR/ecr-argocd.sh
. "$script_dir/ecr-argocd.sh"
# shellcheck source=SCRIPTDIR/ecr-watch.sh
. "$script_dir/ecr-watch.sh"
# shellcheck source=SCRIPTDIR/ecr-events.sh
. "$script_dir/ecr-events.sh"

# One script, two modes: `refresh` (the CronJob: every namespace, once) and `watch` (the
# namespace watcher: new namespaces as they appear, until stopped).
mode=${1:-refresh}
case $mode in
  refresh | watch) ;;
  *) die "$EXIT_CONFIG" "unknown mode \"$mode\"; use refresh (the default) or watch" ;;
esac

read_settings
log info start "mode=$mode" "secret=$secret_name" "adopt_existing=$adopt_existing" \
  "batch_size=$batch_size" "parallelism=$parallelism"

work=$(mktemp -d "${TMPDIR:-/tmp}/ecr-refresh.XXXXXX") ||
  die "$EXIT_UNEXPECTED" "cannot create a temporary directory under ${TMPDIR:-/tmp}"
trap 'rm -rf "$work"' EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

updated=0
skipped=0
conflicts=0
failed=0
failed_transient=0
lost_workers=0

# Every AWS call comes before the first write: a run that cannot get a token writes nothing.
resolve_account
collect_registries
keep_base_registries
if [ "$mode" = watch ]; then
  watch_namespaces
  exit "$EXIT_UNEXPECTED"
fi
if [ "$tenant_count" -gt 0 ]; then
  fetch_group_tokens
else
  fetch_tokens
fi
api_access
list_namespaces
select_namespaces report-missing
if [ "$tenant_count" -gt 0 ]; then
  assign_tenants || die "$EXIT_KUBERNETES" "$tenant_error; nothing was written"
  write_tenant_groups
else
  write_secrets
fi
patch_service_accounts
write_argocd_repo_creds

if [ "$lost_workers" -gt 0 ]; then
  exit_code=$EXIT_UNEXPECTED
  level=error
elif [ "$((conflicts + failed + accounts_failed + argocd_failed - failed_transient))" -gt 0 ]; then
  # A conflict is not success: a Secret nobody refreshes expires within 12 hours.
  exit_code=$EXIT_PARTIAL
  level=error
elif [ "$failed_transient" -gt 0 ]; then
  exit_code=$EXIT_TRANSIENT
  level=error
else
  exit_code=0
  level=info
fi
# accounts_summary is "accounts_patched=N ..." or empty, argocd_summary likewise; their words hold
# no spaces and set -f is on.
# shellcheck disable=SC2086
log "$level" summary "namespaces=$listed_count" "selected=$selected" "updated=$updated" \
  "skipped=$skipped" "conflict=$conflicts" "failed=$failed" "lost_workers=$lost_workers" \
  $accounts_summary $argocd_summary "seconds=$(($(date -u +%s) - started_at))" "exit_code=$exit_code"
[ "$exit_code" -eq 0 ] || report_run_event
[ "$exit_code" -ne "$EXIT_TRANSIENT" ] || pause_before_retry
exit "$exit_code"
