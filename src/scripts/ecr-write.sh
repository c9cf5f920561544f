# ecr-write.sh - writes the Secret into every target namespace with server-side apply and logs
# each namespace's result. Sourced by refresh-ecr-credentials.sh; defines functions only.
# shellcheck shell=sh

# Requests one curl process has in flight at once, multiplexed over one HTTP/2 connection.
readonly API_STREAMS=50
# A request the API server throttles (429, honouring Retry-After), answers with 5xx, or that
# loses its connection is sent again up to API_RETRIES times with growing pauses (1, 2, 4, ... s),
# never past API_RETRY_SECONDS after its first try.
readonly API_RETRIES=4
readonly API_RETRY_SECONDS=60
readonly SERVICE_ACCOUNT_DIR=/var/run/secrets/kubernetes.io/serviceaccount

# print_secret: the Secret as an apply patch (JSON is YAML). It names no namespace: the API
# server takes it from the URL, so one file serves every namespace. Everything in it is either
# validated above or fixed, so nothing needs escaping.
print_secret() {
  printf '{"apiVersion":"v1","kind":"Secret","metadata":{"name":"%s",' "$secret_name"
  printf '"labels":{"app.kubernetes.io/managed-by":"%s","app.kubernetes.io/part-of":"ecr-k8s-credentials","app.kubernetes.io/component":"pull-secret"},' "$FIELD_MANAGER"
  printf '"annotations":{"%s/refreshed-at":"%s","%s/expires-at":"%s","%s/registries":"%s"}},' \
    "$ANNOTATION_PREFIX" "$refreshed_at" "$ANNOTATION_PREFIX" "$expires_at" "$ANNOTATION_PREFIX" "$registry_list"
  printf '"type":"kubernetes.io/dockerconfigjson","data":{".dockerconfigjson":"%s"}}\n' "$docker_config_b64"
}

# kubeconfig_field JQ_PATH: prints one field of the current context's flattened kubeconfig.
kubeconfig_field() {
  jq -r "$1 // empty" "$work/kubeconfig.json"
}

# kubeconfig_file JQ_PATH NAME: decodes one embedded (base64) file of the kubeconfig into
# $work/NAME and prints curl's config line for it, KEY = "PATH", if the field is present.
kubeconfig_file() {
  kubeconfig_field "$1" >"$work/$2.b64"
  if [ -s "$work/$2.b64" ]; then
    base64 -d <"$work/$2.b64" >"$work/$2" ||
      die "$EXIT_CONFIG" "the kubeconfig's $1 is not base64; fix the kubeconfig (KUBECONFIG=${KUBECONFIG:-~/.kube/config})"
    printf '%s = "%s"\n' "$2" "$work/$2"
  fi
  rm -f "$work/$2.b64"
}

# api_access: sets $api_server (the API server's URL) and $api_config (curl config lines that
# carry the CA and the credentials). In a pod without KUBECONFIG: the ServiceAccount's token
# and CA and KUBERNETES_SERVICE_HOST/PORT. Otherwise the current context of the kubeconfig, as
# kubectl reads it (bearer token, token file or client certificate). The token goes to curl in
# its config on stdin, never as an argument.
api_access() {
  if [ -z "${KUBECONFIG:-}" ] && [ -n "${KUBERNETES_SERVICE_HOST:-}" ] && [ -r "$SERVICE_ACCOUNT_DIR/token" ]; then
    case $KUBERNETES_SERVICE_HOST in
      *:*) api_server="https://[$KUBERNETES_SERVICE_HOST]:${KUBERNETES_SERVICE_PORT:-443}" ;;
      *) api_server="https://$KUBERNETES_SERVICE_HOST:${KUBERNETES_SERVICE_PORT:-443}" ;;
    esac
    api_config="cacert = \"$SERVICE_ACCOUNT_DIR/ca.crt\""
    aa_token_file=$SERVICE_ACCOUNT_DIR/token
  else
    kubectl config view --raw --minify --flatten -o json >"$work/kubeconfig.json" 2>"$work/kubectl.err" ||
      die "$EXIT_KUBERNETES" "cannot read the kubeconfig: $(last_line "$work/kubectl.err"); nothing was written"
    api_server=$(kubeconfig_field '.clusters[0].cluster.server')
    api_server=${api_server%/}
    [ -n "$api_server" ] ||
      die "$EXIT_CONFIG" "the kubeconfig's current context names no server; set KUBECONFIG to a kubeconfig with a current context"
    api_config=$(
      kubeconfig_file '.clusters[0].cluster["certificate-authority-data"]' cacert
      kubeconfig_file '.users[0].user["client-certificate-data"]' cert
      kubeconfig_file '.users[0].user["client-key-data"]' key
      [ "$(kubeconfig_field '.clusters[0].cluster["insecure-skip-tls-verify"]')" != true ] || echo insecure
    )
    aa_server_name=$(kubeconfig_field '.clusters[0].cluster["tls-server-name"]')
    [ -z "$aa_server_name" ] || api_server_name "$aa_server_name"
    aa_token_file=$(kubeconfig_field '.users[0].user.tokenFile')
    if [ -z "$aa_token_file" ]; then
      aa_token_file=$work/api-token
      kubeconfig_field '.users[0].user.token' >"$aa_token_file"
    fi
    rm -f "$work/kubeconfig.json"
  fi
  # No token (a client certificate instead) leaves the file empty. A token file without a final
  # newline still fills api_token, though read returns non-zero.
  api_token=
  if [ -s "$aa_token_file" ]; then
    IFS= read -r api_token <"$aa_token_file" || :
  fi
  if [ -n "$api_token" ]; then
    secret_values="$secret_values $api_token"
    api_config="$api_config${NL}header = \"Authorization: Bearer $api_token\""
  fi
}

# api_server_name NAME: the kubeconfig's tls-server-name. curl checks the certificate against the
# URL's host, so the URL names NAME and `connect-to` sends the connection to the server's real
# address; the proxy is bypassed when NO_PROXY lists that address, as it would be without NAME.
api_server_name() {
  asn_authority=${api_server#https://}
  asn_authority=${asn_authority%%/*}
  case $asn_authority in
    \[*\]:*) asn_host=${asn_authority%:*} asn_port=${asn_authority##*:} ;;
    \[*\]) asn_host=$asn_authority asn_port=443 ;;
    *:*) asn_host=${asn_authority%:*} asn_port=${asn_authority##*:} ;;
    *) asn_host=$asn_authority asn_port=443 ;;
  esac
  api_server="https://$1:$asn_port${api_server#https://"$asn_authority"}"
  api_config="$api_config${NL}connect-to = \"$1:$asn_port:$asn_host:$asn_port\""
  asn_bypass=${NO_PROXY:-${no_proxy:-}}
  case ",$asn_bypass," in
    *",$asn_host,"* | *",*,"*) api_config="$api_config${NL}noproxy = \"$1\"" ;;
  esac
}

# curl_settings: curl's config lines shared by every request of a run. `silent` alone leaves the
# progress meter of --parallel on.
curl_settings() {
  printf '%s\n' "$api_config" silent no-progress-meter http2 parallel "parallel-max = $API_STREAMS" 'request = PATCH' \
    'header = "Content-Type: application/apply-patch+yaml"' 'header = "Accept: application/json"' \
    'header = "Expect:"' 'connect-timeout = 10' 'max-time = 30' "retry = $API_RETRIES" \
    retry-all-errors "retry-max-time = $API_RETRY_SECONDS" \
    'write-out = "%{http_code} %{exitcode} %{filename_effective} %{errormsg}\n"'
}

# curl_batch NAMESPACE...: one curl process sends one server-side apply (a PATCH of the Secret
# with the field manager, and force=true to adopt) per namespace and writes each response to
# its own file; then each namespace's result is read from its own status and body. Server-side
# apply never reads the object first, so `patch` (and `create` the first time) on this one
# Secret name is all the RBAC it needs. Without force the API server refuses to take fields
# another field manager owns: a Secret someone else made is reported as a conflict, not replaced.
curl_batch() {
  cb_dir=$work/responses.$worker
  mkdir -p "$cb_dir"
  {
    curl_settings
    for cb_ns; do
      printf 'url = "%s/api/v1/namespaces/%s/secrets/%s?fieldManager=%s&force=%s"\noutput = "%s"\nupload-file = "%s"\n' \
        "$api_server" "$cb_ns" "$secret_name" "$FIELD_MANAGER" "$adopt_existing" "$cb_dir/$cb_ns" "$work/secret.json"
    done
  } | curl -q --config - >"$work/results.$worker" 2>"$work/curl.err.$worker" || true
  # One line per finished request: STATUS CURL_EXIT FILE [ERROR].
  while read -r cb_status cb_exit cb_file cb_error; do
    cb_ns=${cb_file##*/}
    settle "$cb_ns" "$cb_status" "$cb_exit" "$cb_error"
    : >"$cb_dir/$cb_ns.done"
  done <"$work/results.$worker"
  for cb_ns; do
    [ -f "$cb_dir/$cb_ns.done" ] || settle "$cb_ns" 000 1 "no result from curl: $(last_line "$work/curl.err.$worker")"
  done
  rm -rf "$cb_dir"
}

# status_message FILE: the message of the Kubernetes Status in FILE; nothing else of the body
# (a response that echoes the Secret) is ever printed.
status_message() {
  jq -r 'if type == "object" and .kind == "Status" then .message // "" | gsub("\n"; " ") else "" end' "$1" 2>/dev/null
}

# settle NAMESPACE HTTP_STATUS CURL_EXIT ERROR: logs and counts one namespace's result.
settle() {
  case $2 in
    2??)
      log info namespace "namespace=$1" result=updated
      updated=$((updated + 1))
      return 0
      ;;
    000)
      quote "no answer from the API server (curl exit $3: $4)"
      log error namespace "namespace=$1" result=failed "reason=$quoted"
      failed=$((failed + 1))
      return 0
      ;;
  esac
  st_message=
  [ ! -f "$work/responses.$worker/$1" ] || st_message=$(status_message "$work/responses.$worker/$1")
  case $2 in
    403)
      case $st_message in
        *"being terminated"*)
          skip "$1" "namespace is terminating"
          return 0
          ;;
      esac
      ;;
    404)
      skip "$1" "namespace no longer exists"
      return 0
      ;;
    409)
      case $st_message in
        "Apply failed with"*)
          quote "Secret $secret_name belongs to another field manager (${st_message#*: }); left unchanged; to take it over, synthesize with --adopt-existing-secrets (sets ECR_ADOPT_EXISTING=true)"
          log error namespace "namespace=$1" result=conflict "reason=$quoted"
          conflicts=$((conflicts + 1))
          return 0
          ;;
      esac
      ;;
  esac
  quote "HTTP $2: ${st_message:-no Status message}"
  log error namespace "namespace=$1" result=failed "reason=$quoted"
  failed=$((failed + 1))
}

# run_worker N: writes batches N, N+parallelism, N+2*parallelism, ... of the target list, then
# leaves its counts in $work/counts.N for the parent.
run_worker() {
  worker=$1
  updated=0
  skipped=0
  conflicts=0
  failed=0
  rw_index=0
  rw_batch=
  rw_count=0
  while IFS= read -r rw_ns <&3; do
    if [ "$((rw_index / batch_size % parallelism))" -eq "$worker" ]; then
      rw_batch="$rw_batch $rw_ns"
      rw_count=$((rw_count + 1))
      if [ "$rw_count" -ge "$batch_size" ]; then
        # shellcheck disable=SC2086 # namespace names never contain spaces
        curl_batch $rw_batch
        rw_batch=
        rw_count=0
      fi
    fi
    rw_index=$((rw_index + 1))
  done 3<"$work/targets"
  if [ -n "$rw_batch" ]; then
    # shellcheck disable=SC2086 # namespace names never contain spaces
    curl_batch $rw_batch
  fi
  printf '%s %s %s %s\n' "$updated" "$skipped" "$conflicts" "$failed" >"$work/counts.$worker"
}

# write_secrets: writes the Secret into every namespace of $work/targets and adds the results to
# $updated, $skipped, $conflicts and $failed; $lost_workers counts workers that left no counts.
# A batch is one curl process (one connection); processes side by side overlap their waits.
write_secrets() {
  api_access
  print_secret >"$work/secret.json"
  workers=$(((target_count + batch_size - 1) / batch_size))
  [ "$workers" -le "$parallelism" ] || workers=$parallelism
  parallelism=$workers
  worker=0
  while [ "$worker" -lt "$workers" ]; do
    (
      trap - EXIT
      run_worker "$worker"
    ) &
    worker=$((worker + 1))
  done
  wait

  lost_workers=0
  worker=0
  while [ "$worker" -lt "$workers" ]; do
    if [ -f "$work/counts.$worker" ] && read -r ws_updated ws_skipped ws_conflicts ws_failed <"$work/counts.$worker"; then
      updated=$((updated + ws_updated))
      skipped=$((skipped + ws_skipped))
      conflicts=$((conflicts + ws_conflicts))
      failed=$((failed + ws_failed))
    else
      lost_workers=$((lost_workers + 1))
    fi
    worker=$((worker + 1))
  done
}
