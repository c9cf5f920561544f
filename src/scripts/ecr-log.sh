# ecr-log.sh - logfmt lines on stdout that never carry a secret, and the exit on a fatal error.
# Sourced by refresh-ecr-credentials.sh: functions, and the list of values to redact.
# shellcheck shell=sh

# Secrets (tokens, the encoded docker config) collected as they appear, for redact(). ECR tokens
# and base64 text never contain spaces, so one space-separated list is enough. The API token of
# the moment (api_token, set by api_access in ecr-api.sh) is redacted too; it is kept apart
# because the watcher reads it again for every watch and a list would grow with every read.
secret_values=
api_token=
# Carriage return and tab: with a newline, what redact flattens into spaces.
CR_TAB=$(printf '\r\t')
readonly CR_TAB

# quote VALUE: VALUE as a logfmt string (double quotes, inner quotes and backslashes escaped,
# newlines flattened) in $quoted. Known secrets are cut out first, so that an error message that
# happens to echo the Secret back (an admission webhook quoting the object, say) cannot leak it.
quote() {
  redact "$1"
  q_in=$redacted
  quoted=
  while :; do
    case $q_in in
      *[\"\\]*)
        q_head=${q_in%%[\"\\]*}
        q_char=${q_in#"$q_head"}
        q_rest=${q_char#?}
        q_char=${q_char%"$q_rest"}
        quoted=$quoted$q_head\\$q_char
        q_in=$q_rest
        ;;
      *)
        quoted=\"$quoted$q_in\"
        break
        ;;
    esac
  done
}

# redact TEXT: TEXT with every known secret value replaced by [REDACTED] and newlines, carriage
# returns and tabs turned into spaces, in $redacted. Builtins only (tr only when there is
# something to flatten): it runs once per logged reason, and a run with thousands of failed
# namespaces must not start thousands of processes for it.
redact() {
  r_text=$1
  for r_secret in $secret_values $api_token; do
    while :; do
      case $r_text in
        *"$r_secret"*) r_text="${r_text%%"$r_secret"*}[REDACTED]${r_text#*"$r_secret"}" ;;
        *) break ;;
      esac
    done
  done
  case $r_text in
    *[$NL$CR_TAB]*) r_text=$(printf '%s' "$r_text" | tr '\n\r\t' '   ') ;;
  esac
  redacted=$r_text
}

# log LEVEL EVENT [key=value ...] - values must already be quoted where they may hold spaces.
# The line goes out in one write, so lines of parallel workers never interleave. One line is
# printed elsewhere in this format: a write's `result=updated`, by log_updated (ecr-write.sh) in
# awk, thousands per run.
log() {
  l_line="level=$1 event=$2"
  shift 2
  for l_pair; do
    l_line="$l_line $l_pair"
  done
  printf '%s\n' "$l_line"
}

# die EXIT_CODE REASON
die() {
  quote "$2"
  log error fatal "reason=$quoted" "exit_code=$1"
  exit "$1"
}

# last_line FILE: prints the last non-empty line of FILE (an error message), or "no output".
last_line() {
  ll_line="no output"
  while IFS= read -r ll_read || [ -n "$ll_read" ]; do
    [ -z "$ll_read" ] || ll_line=$ll_read
  done <"$1"
  printf '%s' "$ll_line"
}

