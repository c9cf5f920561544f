# ecr-argocd.sh - Argo CD repository credentials (ECR_ARGOCD_NAMESPACE): Argo CD pulls Helm charts
# and OCI artifacts from the same ECR registries with the same 12-hour token, so the run writes,
# into that one namespace, a repo-creds Secret per registry host and kind. Sourced by
# refresh-ecr-credentials.sh; defines functions only.
#
# How Argo CD v3.6.1 finds them: for a repository URL it takes the Secret labelled
# argocd.argoproj.io/secret-type: repo-creds whose `url` is the longest prefix of the
# repository's, both normalised by NormalizeGitURL (util/git/git.go: lower-cased, ".git" cut,
# parsed as a URL) - util/db/repository_secrets.go, getRepositoryCredentialIndex. The Secret's
# type plays no part in that match; CopyCredentialsFrom (pkg/apis/application/v1alpha1/
# repository_types.go) then gives the repository its username, password, type and enableOCI.
# Helm charts in ECR are addressed without a scheme (repoURL HOST/charts, with enableOCI), OCI
# sources of Argo CD 3 with one (repoURL oci://HOST/repository, type oci): one Secret of each per
# host. ECR's password is the token's part after "AWS:", the user name is AWS.
#
# The names go by the registry's place in the run's list (the own registry is 0), not by host:
# the Role that allows writing them is rendered before the own account id is known.
# shellcheck shell=sh

# argocd_secret_bodies: one line per Secret, "NAME BODY_JSON", built by jq from the docker config
# on its stdin, so the tokens reach no argv.
argocd_secret_bodies() {
  printf '%s' "$docker_config_b64" | base64 -d |
    jq -r --arg hosts "$registry_hosts" --arg prefix "$secret_name-argocd" --arg manager "$FIELD_MANAGER" \
      --arg annotations "$ANNOTATION_PREFIX" --arg refreshed "$refreshed_at" --arg expires "$expires_at" '
      .auths as $auths
      | $hosts | split(" ") | to_entries[]
      # ECR Public (ECR_PUBLIC, last in the list) gets no repo-creds: the Role names the private ones.
      | select(.value != "public.ecr.aws")
      | .key as $index | .value as $host
      | ($auths[$host].auth | @base64d | sub("^AWS:"; "") | @base64) as $password
      | (["helm", $host, {type: "helm", enableOCI: "true"}], ["oci", "oci://\($host)", {type: "oci"}])
      | .[0] as $kind | .[1] as $url | .[2] as $fields
      | {
          apiVersion: "v1",
          kind: "Secret",
          metadata: {
            name: "\($prefix)-\($kind)-\($index)",
            labels: {
              "argocd.argoproj.io/secret-type": "repo-creds",
              "app.kubernetes.io/managed-by": $manager,
              "app.kubernetes.io/part-of": "ecr-k8s-credentials",
              "app.kubernetes.io/component": "argocd-repo-creds"
            },
            annotations: {"\($annotations)/refreshed-at": $refreshed, "\($annotations)/expires-at": $expires}
          },
          type: "Opaque",
          data: (({url: $url, username: "AWS"} + $fields | map_values(@base64)) + {password: $password})
        }
      | "\(.metadata.name) \(tojson)"'
}

# argocd_result NAME RESULT LEVEL [REASON] [transient]: logs one Secret's result and counts it.
argocd_result() {
  if [ -n "${4:-}" ]; then
    quote "$4"
    log "$3" argocd-repo-creds "namespace=$argocd_namespace" "secret=$1" "result=$2" "reason=$quoted"
  else
    log "$3" argocd-repo-creds "namespace=$argocd_namespace" "secret=$1" "result=$2"
  fi
  case $2 in
    updated) argocd_updated=$((argocd_updated + 1)) ;;
    *) argocd_failed=$((argocd_failed + 1)) ;;
  esac
  [ "${5:-}" != transient ] || failed_transient=$((failed_transient + 1))
}

# write_argocd_repo_creds: applies the repo-creds Secrets (server-side apply, the pull secrets'
# field manager; a Secret another manager owns is a conflict unless ECR_ADOPT_EXISTING) and
# logs one result per Secret. Sets $argocd_failed (failures and conflicts; the ones that may
# pass also in $failed_transient) and $argocd_summary.
write_argocd_repo_creds() {
  argocd_updated=0
  argocd_failed=0
  argocd_summary=
  [ -n "$argocd_namespace" ] || return 0
  : >"$work/argocd.requests"
  mkdir -p "$work/argocd.d"
  argocd_secret_bodies >"$work/argocd.bodies" || {
    argocd_failed=1
    log error argocd-repo-creds "namespace=$argocd_namespace" result=failed \
      "reason=\"the repo-creds Secrets could not be built from the docker config\""
    argocd_summary="argocd_updated=0 argocd_failed=1"
    return 0
  }
  while read -r wa_name wa_body; do
    printf '%s\n' "$wa_body" >"$work/argocd.d/$wa_name.json"
    printf '%s /api/v1/namespaces/%s/secrets/%s?fieldManager=%s&force=%s %s\n' "$wa_name" "$argocd_namespace" \
      "$wa_name" "$FIELD_MANAGER" "$adopt_existing" "$work/argocd.d/$wa_name.json" >>"$work/argocd.requests"
  done <"$work/argocd.bodies"
  rm -f "$work/argocd.bodies"
  api_requests argocd PATCH application/apply-patch+yaml
  while read -r wa_status wa_exit wa_name wa_response wa_error; do
    case $wa_status in
      2??)
        argocd_result "$wa_name" updated info
        continue
        ;;
      000)
        case $wa_exit in
          -) argocd_result "$wa_name" failed error "$wa_error" transient ;;
          *) argocd_result "$wa_name" failed error "no answer from the API server (curl exit $wa_exit: $wa_error)" transient ;;
        esac
        continue
        ;;
    esac
    response_reason "$wa_response"
    case $wa_status:$reason in
      "409:Apply failed with"*)
        argocd_result "$wa_name" conflict error "Secret $wa_name belongs to another field manager (${reason#*: }); left unchanged; to take it over, synthesize with --adopt-existing-secrets (sets ECR_ADOPT_EXISTING=true)"
        ;;
      *)
        if is_transient "$wa_status"; then
          argocd_result "$wa_name" failed error "HTTP $wa_status: $reason" transient
        else
          argocd_result "$wa_name" failed error "HTTP $wa_status: $reason"
        fi
        ;;
    esac
  done <"$work/argocd.results"
  # The bodies hold the token; the run's directory goes at exit, these go now. (set -f: no globs.)
  rm -rf "$work/argocd.d"
  argocd_summary="argocd_updated=$argocd_updated argocd_failed=$argocd_failed"
}
