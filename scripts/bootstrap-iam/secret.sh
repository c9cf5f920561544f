# shellcheck shell=bash
# bootstrap-iam/secret.sh - the Kubernetes side of the key mode: the kube context and
# namespace checks, Secret NS/NAME that holds the key (read, written with server-side apply,
# read back, put back on failure, deleted), and the --output manifest file instead of a
# cluster. The secret key only ever travels through pipes and the printf builtin. Sourced by
# bootstrap-iam.sh; defines functions and the state they share.

CURRENT_CONTEXT=""

kube_preflight() {
  if ! $DRY_RUN && ! command -v kubectl >/dev/null 2>&1; then
    die_usage "kubectl not found on PATH: install it, or pass --output FILE to write the Secret manifest instead"
  fi
  if [[ -n $CONTEXT ]]; then
    assume "$CONTEXT"
    if ! kube_call config get-contexts -o name; then
      die "$(kube_error_hint "list kube contexts")"
    fi
    local found=false ctx
    for ctx in $OUT; do
      [[ $ctx == "$CONTEXT" ]] && found=true
    done
    if ! $found; then
      die_usage "--context \"$CONTEXT\" is not in your kubeconfig (${KUBECONFIG:-~/.kube/config}); 'kubectl config get-contexts' lists the contexts"
    fi
  else
    assume "<CURRENT_CONTEXT>"
    if ! kube_call config current-context; then
      die_usage "no current kube context (${KUBECONFIG:-~/.kube/config}): pass --context, or --output FILE to write the Secret manifest instead"
    fi
    CURRENT_CONTEXT=$OUT
  fi

  assume "Active"
  if ! kube_call get namespace "$NAMESPACE" -o 'jsonpath={.status.phase}'; then
    if [[ $ERR == *NotFound* || $ERR == *"not found"* ]]; then
      die_usage "--namespace \"$NAMESPACE\" does not exist in context $(context_label). Apply the bundle's namespace first (kubectl apply -f dist/00-namespace.yaml), pass the right --namespace, or use --output FILE"
    fi
    die "$(kube_error_hint "read namespace $NAMESPACE")"
  fi
  if [[ $OUT == Terminating ]]; then
    die_usage "--namespace \"$NAMESPACE\" is being deleted (Terminating) in context $(context_label); wait until it is gone and apply the bundle again"
  fi

  # A server-side dry run of the write, with placeholder values: checks create/patch rights
  # and admission before anything is created in AWS.
  if ! kube_call_stdin "$(secret_manifest "<placeholder>" "<placeholder>" "<placeholder>" "<placeholder>")" \
    apply --server-side --force-conflicts --field-manager="$FIELD_MANAGER" --dry-run=server -o name -f -; then
    die "$(kube_error_hint "write Secret $NAMESPACE/$SECRET_NAME (server-side dry run)")"
  fi
}

SECRET_EXISTS=false
SECRET_KEY_ID=""
SECRET_REGION=""
SECRET_MANAGED=""

# Reads which key the Secret holds (the id only; the secret is not read here). Under --dry-run
# the Secret is assumed absent, or to hold key $1 when one is named.
read_secret() {
  if [[ -n ${1:-} ]]; then
    assume "found $1 $REGION $MANAGED_BY"
  fi
  local tpl='found {{with .data}}{{with .AWS_ACCESS_KEY_ID}}{{base64decode .}}{{else}}-{{end}} {{with .AWS_REGION}}{{base64decode .}}{{else}}-{{end}}{{end}} {{with .metadata.labels}}{{with index . "app.kubernetes.io/managed-by"}}{{.}}{{else}}-{{end}}{{else}}-{{end}}'
  if ! kube_call -n "$NAMESPACE" get secret "$SECRET_NAME" --ignore-not-found -o "go-template=$tpl"; then
    die "$(kube_error_hint "read Secret $NAMESPACE/$SECRET_NAME")"
  fi
  SECRET_EXISTS=false
  SECRET_KEY_ID=""
  SECRET_REGION=""
  SECRET_MANAGED=""
  if [[ $OUT == found* ]]; then
    local f
    # shellcheck disable=SC2086 # split the four space-separated fields on purpose
    set -- $OUT
    SECRET_EXISTS=true
    f=${2:--}
    [[ $f == - ]] || SECRET_KEY_ID=$f
    f=${3:--}
    [[ $f == - ]] || SECRET_REGION=$f
    f=${4:--}
    [[ $f == - ]] || SECRET_MANAGED=$f
  fi
}

b64() {
  if $DRY_RUN && [[ $1 == "<"* ]]; then
    printf '%s' "$1"
    return
  fi
  printf '%s' "$1" | base64 | tr -d '\r\n'
}

# The Secret the bundle reads (env from secretKeyRef). Values are already base64.
secret_manifest_b64() {
  printf '%s\n' \
    'apiVersion: v1' \
    'kind: Secret' \
    'metadata:' \
    "  name: $SECRET_NAME" \
    "  namespace: $NAMESPACE" \
    '  labels:' \
    "    app.kubernetes.io/part-of: $PART_OF" \
    "    app.kubernetes.io/managed-by: $MANAGED_BY" \
    '  annotations:' \
    "    ecr-k8s-credentials/iam-user: \"$USER_ARN\"" \
    'type: Opaque' \
    'data:' \
    "  AWS_ACCESS_KEY_ID: \"$1\"" \
    "  AWS_SECRET_ACCESS_KEY: \"$2\"" \
    "  AWS_REGION: \"$3\"" \
    "  AWS_ACCOUNT_ID: \"$4\""
}

secret_manifest() {
  secret_manifest_b64 "$(b64 "$1")" "$(b64 "$2")" "$(b64 "$3")" "$(b64 "$4")"
}

OLD_DATA_ID=""
OLD_DATA_SECRET=""
OLD_DATA_REGION=""
OLD_DATA_ACCOUNT=""
SECRET_SAVED=false

# Keeps the Secret's current values (base64, as stored) so a failed run can put them back.
save_secret() {
  SECRET_SAVED=false
  if ! $SECRET_EXISTS; then
    return 0
  fi
  local tpl='{{with .data}}{{.AWS_ACCESS_KEY_ID}} {{.AWS_SECRET_ACCESS_KEY}} {{.AWS_REGION}} {{.AWS_ACCOUNT_ID}}{{end}}'
  assume "<OLD_ACCESS_KEY_ID> <OLD_SECRET_ACCESS_KEY> <REGION> <ACCOUNT_ID>"
  if ! kube_call -n "$NAMESPACE" get secret "$SECRET_NAME" -o "go-template=$tpl"; then
    die "$(kube_error_hint "read Secret $NAMESPACE/$SECRET_NAME")"
  fi
  # Split with parameter expansion: the text holds the old secret key (base64).
  local rest=$OUT
  OLD_DATA_ID=${rest%% *}
  rest=${rest#* }
  OLD_DATA_SECRET=${rest%% *}
  rest=${rest#* }
  OLD_DATA_REGION=${rest%% *}
  OLD_DATA_ACCOUNT=${rest#* }
  OUT=""
  SECRET_SAVED=true
}

undo_restore_secret() {
  if $SECRET_SAVED; then
    say "  putting the previous key back into Secret $NAMESPACE/$SECRET_NAME"
    kube_call_stdin "$(secret_manifest_b64 "$OLD_DATA_ID" "$OLD_DATA_SECRET" "$OLD_DATA_REGION" "$OLD_DATA_ACCOUNT")" \
      apply --server-side --force-conflicts --field-manager="$FIELD_MANAGER" -o name -f - ||
      say "  FAILED: $(kube_error_hint "restore Secret $NAMESPACE/$SECRET_NAME")"
  else
    say "  deleting Secret $NAMESPACE/$SECRET_NAME (it did not exist before)"
    kube_call -n "$NAMESPACE" delete secret "$SECRET_NAME" --ignore-not-found ||
      say "  FAILED: $(kube_error_hint "delete Secret $NAMESPACE/$SECRET_NAME")"
  fi
}

# Writes the new key to the Secret, reads it back and proves what the cluster now holds.
write_secret_and_verify() {
  save_secret
  push_undo undo_restore_secret
  if ! kube_call_stdin "$(secret_manifest "$NEW_KEY_ID" "$NEW_KEY_SECRET" "$REGION" "$ACCOUNT_ID")" \
    apply --server-side --force-conflicts --field-manager="$FIELD_MANAGER" -o name -f -; then
    die "$(kube_error_hint "write Secret $NAMESPACE/$SECRET_NAME")"
  fi
  say "wrote key $NEW_KEY_ID to Secret $NAMESPACE/$SECRET_NAME (context $(context_label))"

  local tpl='{{base64decode .data.AWS_ACCESS_KEY_ID}} {{base64decode .data.AWS_SECRET_ACCESS_KEY}}'
  assume "$NEW_KEY_ID <NEW_SECRET_ACCESS_KEY>"
  if ! kube_call -n "$NAMESPACE" get secret "$SECRET_NAME" -o "go-template=$tpl"; then
    die "$(kube_error_hint "read back Secret $NAMESPACE/$SECRET_NAME")"
  fi
  local held_id=${OUT%% *} held_secret=${OUT#* }
  OUT=""
  if [[ $held_id != "$NEW_KEY_ID" ]]; then
    die "Secret $NAMESPACE/$SECRET_NAME holds key $held_id after the write, not $NEW_KEY_ID (is something else writing it?)"
  fi
  if ! prove_key "$held_id" "$held_secret"; then
    die "the key read back from Secret $NAMESPACE/$SECRET_NAME does not work"
  fi
}

# Writes the manifest to --output: a private temporary file renamed over FILE, so FILE never
# exists with looser permissions and a failed write leaves no half file.
write_output() {
  local manifest
  manifest=$(secret_manifest "$NEW_KEY_ID" "$NEW_KEY_SECRET" "$REGION" "$ACCOUNT_ID")
  if [[ $OUTPUT == - ]]; then
    if $DRY_RUN; then
      printf '# would print the Secret manifest on stdout:\n%s\n' "$manifest"
    else
      printf '%s\n' "$manifest"
    fi
    return 0
  fi
  if $DRY_RUN; then
    printf '# would write %s (mode 0600):\n%s\n' "$OUTPUT" "$manifest"
    return 0
  fi
  local dir tmp
  dir=$(dirname -- "$OUTPUT")
  tmp=$(umask 077 && mktemp "$dir/.bootstrap-iam.XXXXXX") || die "cannot create a file in $dir for --output"
  if ! (umask 077 && printf '%s\n' "$manifest" >"$tmp") || ! chmod 600 "$tmp" || ! mv -f "$tmp" "$OUTPUT"; then
    rm -f "$tmp"
    die "cannot write --output \"$OUTPUT\""
  fi
  say "wrote the Secret manifest to $OUTPUT (mode 0600); apply it with: kubectl apply --server-side -f $OUTPUT"
}

# delete: the context must exist; the namespace may be gone already (bundle deleted first), and
# then so is the Secret.
read_secret_for_delete() {
  if ! $DRY_RUN && ! command -v kubectl >/dev/null 2>&1; then
    die_usage "kubectl not found on PATH: install it, or pass --output - to delete only the AWS side"
  fi
  if [[ -n $CONTEXT ]]; then
    assume "$CONTEXT"
    kube_call config get-contexts -o name || die "$(kube_error_hint "list kube contexts")"
    local found=false ctx
    for ctx in $OUT; do [[ $ctx == "$CONTEXT" ]] && found=true; done
    $found || die_usage "--context \"$CONTEXT\" is not in your kubeconfig (${KUBECONFIG:-~/.kube/config}); 'kubectl config get-contexts' lists the contexts"
  else
    assume "<CURRENT_CONTEXT>"
    kube_call config current-context ||
      die_usage "no current kube context: pass --context, or --output - to delete only the AWS side"
    CURRENT_CONTEXT=$OUT
  fi
  assume "Active"
  if ! kube_call get namespace "$NAMESPACE" -o 'jsonpath={.status.phase}'; then
    if [[ $ERR == *NotFound* || $ERR == *"not found"* ]]; then
      return 0
    fi
    die "$(kube_error_hint "read namespace $NAMESPACE")"
  fi
  read_secret "<ACCESS_KEY_ID>"
}

# delete takes the Secret only if this script wrote it or it holds a key of the user.
DELETE_SECRET=false
decide_secret_deletion() {
  $SECRET_EXISTS || return 0
  if [[ $SECRET_MANAGED == "$MANAGED_BY" ]] || { [[ -n $SECRET_KEY_ID ]] && has_key "$SECRET_KEY_ID"; }; then
    DELETE_SECRET=true
  else
    say "leaving Secret $NAMESPACE/$SECRET_NAME alone: $PROG did not write it and it holds no key of $USER_NAME"
  fi
}

delete_secret() {
  kube_call -n "$NAMESPACE" delete secret "$SECRET_NAME" --ignore-not-found ||
    die "$(kube_error_hint "delete Secret $NAMESPACE/$SECRET_NAME")"
  say "deleted Secret $NAMESPACE/$SECRET_NAME"
}

# rotate without --region keeps the region the Secret already names.
keep_secret_region() {
  if ! $REGION_GIVEN && [[ -n $SECRET_REGION && $SECRET_REGION != "$REGION" && $SECRET_REGION =~ $REGION_RE ]]; then
    say "keeping AWS_REGION=$SECRET_REGION from the Secret (pass --region to change it)"
    REGION=$SECRET_REGION
  fi
}

refuse_foreign_secret_key() {
  if $SECRET_EXISTS && [[ -n $SECRET_KEY_ID ]] && ! has_key "$SECRET_KEY_ID"; then
    die "Secret $NAMESPACE/$SECRET_NAME holds key $SECRET_KEY_ID, which is not a key of $USER_NAME (keys: $(keys_text)); check --name, --namespace and --secret-name"
  fi
}
