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
# Requests one curl process has in flight at once, multiplexed over one HTTP/2 connection.
readonly API_STREAMS=50

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
# (a response that echoes the Secret) is ever printed. Returns non-zero when FILE is not JSON.
status_message() {
  jq -r 'if type == "object" and .kind == "Status" then .message // "" | gsub("\n"; " ") else "" end' "$1" 2>/dev/null
}

# read_reasons IN OUT: what each unsuccessful answer says, for its log line, read in one awk pass
# for a whole batch (a run can have thousands; one process each would outlast the deadline under
# the CronJob's CPU limit). IN has lines "STATUS CURL_EXIT KEY RESPONSE_FILE [ERROR]"; OUT gets
# "STATUS CURL_EXIT KEY RESPONSE_FILE REASON". REASON is curl's ERROR when no answer came (000);
# else the message of a Kubernetes Status (up to 1,000 characters), else the first line of text
# of the body (HTML tags dropped, bytes that are not printable ASCII made spaces, up to 200
# characters), else "empty body". Secrets are cut out before the text is cut short, so half a
# token never shows. Any body works: the API server's plain-text 429, a proxy's HTML 502, binary,
# truncated JSON, nothing at all; awk reads at most 64 KiB of each.
read_reasons() {
  # The list of secrets goes to awk in a file of the private work directory, never in its argv.
  printf '%s\n' $secret_values $api_token >"$work/redact.list"
  LC_ALL=C awk -v secrets_file="$work/redact.list" '
    function redact(text, i, at) {
      for (i = 1; i <= secret_count; i++)
        while ((at = index(text, secret[i])) > 0)
          text = substr(text, 1, at - 1) "[REDACTED]" substr(text, at + length(secret[i]))
      return text
    }
    function cut(text, limit) { return length(text) > limit ? substr(text, 1, limit) "..." : text }
    function body_reason(file, body, line, count, lines, i, message) {
      body = ""
      while (length(body) < 65536 && (getline line < file) > 0) body = body line "\n"
      close(file)
      # kube-apiserver indents the JSON it sends to curl (by the User-Agent): spaces allowed.
      if (body ~ /^[ \t\r\n]*\{/ && body ~ /"kind": *"Status"/ && match(body, /"message": *"/)) {
        message = substr(body, RSTART + RLENGTH)
        if (match(message, /^([^"\\]|\\.)*/)) message = substr(message, 1, RLENGTH)
        gsub(/\\[nrt]/, " ", message)
        gsub(/\\u003c/, "<", message)
        gsub(/\\u003e/, ">", message)
        gsub(/\\u0026/, "\\&", message)
        gsub(/\\"/, "\"", message)
        gsub(/\\\\/, "\\", message)
        return cut(redact(message), 1000)
      }
      count = split(body, lines, "\n")
      for (i = 1; i <= count; i++) {
        line = lines[i]
        gsub(/<[^>]*>/, "", line)
        gsub(/[^ -~]/, " ", line)
        gsub(/  +/, " ", line)
        sub(/^ /, "", line)
        sub(/ $/, "", line)
        if (line != "") return cut(redact(line), 200)
      }
      return "empty body"
    }
    BEGIN { while ((getline line < secrets_file) > 0) if (line != "") secret[++secret_count] = line }
    {
      error = $0
      sub(/^[^ ]* [^ ]* [^ ]* [^ ]* ?/, "", error)
      print $1, $2, $3, $4, ($1 == "000" ? error : body_reason($4))
    }' "$1" >"$2"
}

# response_reason FILE: read_reasons for one answer (a few requests, not a batch): what the body
# of FILE says, in $reason.
response_reason() {
  printf '999 0 - %s\n' "$1" >"$work/reason.in"
  read_reasons "$work/reason.in" "$work/reason.out"
  IFS= read -r reason <"$work/reason.out" || :
  reason=${reason#999 0 - "$1" }
}

# is_transient STATUS: an answer that may be different a minute later: none at all (000), the
# API server or a proxy throttling (429) or failing (5xx). Everything else (403, 400, 422, a
# conflict) comes back the same on a retry.
is_transient() {
  case $1 in
    000 | 429 | 5??) return 0 ;;
  esac
  return 1
}

# api_requests NAME METHOD CONTENT_TYPE: sends every request of $work/NAME.requests (one line
# each: "KEY PATH [BODY_FILE]", KEY a word naming the request, PATH from /api on) in one curl
# process: one HTTP/2 connection, API_STREAMS requests in flight, each retried as API_RETRIES
# says. Each response goes to a file of its own, $work/NAME.responses/POSITION, emptied first:
# the files are reused from batch to batch, so disk and memory stay at one batch's responses.
# Writes $work/NAME.results, one line per request, "STATUS CURL_EXIT KEY RESPONSE_FILE [ERROR]"
# (STATUS 000 when no answer came). A request curl never reported, because curl itself ended
# early (killed, out of memory), is there too: "000 - KEY - no result from curl: LAST_ERROR".
# The token reaches curl in its config on stdin, never as an argument.
api_requests() {
  ar_dir=$work/$1.responses
  mkdir -p "$ar_dir"
  {
    printf '%s\n' "$api_config" silent no-progress-meter http2 parallel "parallel-max = $API_STREAMS" \
      "request = $2" 'header = "Accept: application/json"' 'header = "Expect:"' 'connect-timeout = 10' \
      'max-time = 30' "retry = $API_RETRIES" retry-all-errors "retry-max-time = $API_RETRY_SECONDS" \
      'write-out = "%{http_code} %{exitcode} %{filename_effective} %{errormsg}\n"'
    [ -z "$3" ] || printf 'header = "Content-Type: %s"\n' "$3"
    awk -v server="$api_server" -v dir="$ar_dir" '
      {
        response = dir "/" NR
        printf "" > response
        close(response)
        printf "url = \"%s%s\"\noutput = \"%s\"\n", server, $2, response
        if ($3 != "") printf "upload-file = \"%s\"\n", $3
      }' "$work/$1.requests"
  } | curl -q --config - >"$work/$1.curl" 2>"$work/$1.err" || :
  ar_error=$(last_line "$work/$1.err")
  awk -v error="no result from curl: $ar_error" -v requests="$work/$1.requests" '
    FILENAME == requests { key[FNR] = $1; next }
    {
      position = $3
      sub(/.*\//, "", position)
      if (!(position in key) || (position in answered)) next
      answered[position] = 1
      line = $0
      sub(/^[^ ]* [^ ]* [^ ]*/, "", line)
      print $1, $2, key[position], $3 line
    }
    END { for (position in key) if (!(position in answered)) print "000 -", key[position], "-", error }' \
    "$work/$1.requests" "$work/$1.curl" >"$work/$1.results"
}
