# ecr-api.sh - how the script reaches the Kubernetes API with curl: the server, CA and credentials
# (the ServiceAccount's in a pod, else the kubeconfig's current context), one GET, and the
# message of a Kubernetes Status. Sourced by refresh-ecr-credentials.sh; defines functions only.
# shellcheck shell=sh

readonly SERVICE_ACCOUNT_DIR=/var/run/secrets/kubernetes.io/serviceaccount
# A request the API server throttles (429, honouring Retry-After), answers with 5xx, or that
# loses its connection is sent again up to API_RETRIES times with growing pauses (1, 2, 4, ... s),
# never past API_RETRY_SECONDS after its first try.
readonly API_RETRIES=4
readonly API_RETRY_SECONDS=60

# kubeconfig_file NAME BASE64: decodes one embedded file of the kubeconfig into $work/NAME and
# prints curl's config line for it, NAME = "PATH"; nothing when BASE64 is empty.
kubeconfig_file() {
  [ -n "$2" ] || return 0
  printf '%s' "$2" | base64 -d >"$work/$1" ||
    die "$EXIT_CONFIG" "the kubeconfig's embedded $1 is not base64; fix the kubeconfig (KUBECONFIG=${KUBECONFIG:-~/.kube/config})"
  printf '%s = "%s"\n' "$1" "$work/$1"
}

# kubeconfig_access: api_access from the kubeconfig's current context, as kubectl resolves it
# (merged, files embedded), read in one jq pass.
kubeconfig_access() {
  kubectl config view --raw --minify --flatten -o json >"$work/kubeconfig.json" 2>"$work/kubectl.err" ||
    die "$EXIT_KUBERNETES" "cannot read the kubeconfig: $(last_line "$work/kubectl.err"); nothing was written"
  jq -r '.clusters[0].cluster as $c | .users[0].user as $u
    | $c.server, $c["insecure-skip-tls-verify"], $c["tls-server-name"], $c["certificate-authority-data"],
      $u["client-certificate-data"], $u["client-key-data"], $u.tokenFile, $u.token,
      ($u.exec // $u["auth-provider"] | if . == null then "" else "plugin" end)
    | . // "" | tostring' "$work/kubeconfig.json" >"$work/kubeconfig.fields" 2>"$work/kubectl.err" ||
    die "$EXIT_KUBERNETES" "cannot read the kubeconfig: $(last_line "$work/kubectl.err"); nothing was written"
  rm -f "$work/kubeconfig.json"
  {
    IFS= read -r api_server
    IFS= read -r ka_insecure
    IFS= read -r ka_server_name
    IFS= read -r ka_ca
    IFS= read -r ka_cert
    IFS= read -r ka_key
    IFS= read -r aa_token_file
    IFS= read -r ka_token
    IFS= read -r ka_plugin
  } <"$work/kubeconfig.fields"
  rm -f "$work/kubeconfig.fields"
  api_server=${api_server%/}
  # An exec plugin or auth-provider gives kubectl a token at run time; curl cannot run them.
  [ -z "$ka_plugin" ] || [ -n "$ka_token$aa_token_file$ka_cert" ] ||
    die "$EXIT_CONFIG" "the kubeconfig's current user gets its credentials from an exec plugin or auth-provider, which this script cannot run; use a kubeconfig with a token, a token file or a client certificate (e.g. one holding a ServiceAccount token from kubectl create token) (KUBECONFIG=${KUBECONFIG:-~/.kube/config})"
  [ -n "$api_server" ] ||
    die "$EXIT_CONFIG" "the kubeconfig's current context names no server; set KUBECONFIG to a kubeconfig with a current context"
  api_config=$(
    kubeconfig_file cacert "$ka_ca"
    kubeconfig_file cert "$ka_cert"
    kubeconfig_file key "$ka_key"
    [ "$ka_insecure" != true ] || echo insecure
  )
  ka_ca='' ka_cert='' ka_key=''
  [ -z "$ka_server_name" ] || api_server_name "$ka_server_name"
  if [ -z "$aa_token_file" ]; then
    aa_token_file=$work/api-token
    printf '%s\n' "$ka_token" >"$aa_token_file"
  fi
  ka_token=
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
    kubeconfig_access
  fi
  # No token (a client certificate instead) leaves the file empty. A token file without a final
  # newline still fills api_token, though read returns non-zero.
  api_token=
  if [ -s "$aa_token_file" ]; then
    IFS= read -r api_token <"$aa_token_file" || :
  fi
  if [ -n "$api_token" ]; then
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

# api_get PATH OUTPUT_FILE ACCEPT: one GET of PATH into OUTPUT_FILE, retried like the writes;
# prints the HTTP status (000 when no answer came; curl's error is then in $work/curl.err).
api_get() {
  printf '%s\n' "$api_config" silent show-error "url = \"$api_server$1\"" "output = \"$2\"" \
    "header = \"Accept: $3\"" 'connect-timeout = 10' 'max-time = 60' "retry = $API_RETRIES" retry-all-errors \
    "retry-max-time = $API_RETRY_SECONDS" 'write-out = "%{http_code}"' |
    curl -q --config - 2>"$work/curl.err" || :
}

# status_message FILE: the message of the Kubernetes Status in FILE; nothing else of the body
# (a response that echoes the Secret) is ever printed. A body that is no JSON (a load balancer's
# error page) prints nothing and still succeeds: under set -e a failing $(status_message ...)
# would end the writer it runs in, and that writer's namespaces would go unreported.
status_message() {
  jq -r 'if type == "object" and .kind == "Status" then .message // "" | gsub("\n"; " ") else "" end' "$1" 2>/dev/null || :
}
