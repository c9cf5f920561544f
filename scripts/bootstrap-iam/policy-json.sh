# shellcheck shell=bash
# bootstrap-iam/policy-json.sh - edits one statement of a policy document that others share:
# the discovery bucket's policy (a statement per cluster) and a fleet role's trust policy (a
# statement per issuer). PutBucketPolicy and UpdateAssumeRolePolicy replace the whole document,
# so the script reads it, swaps only its own statement and writes back every other one as it
# was. awk does the JSON walking: jq is not on every machine this script runs on. Sourced by
# bootstrap-iam.sh; defines functions only.

# policy_edit POLICY MATCH [STATEMENT]: prints "COUNT<TAB>DOCUMENT", then one line per
# statement removed. DOCUMENT is POLICY (JSON, any layout; empty = none yet) without
# whitespace, without the statements MATCH selects, and with STATEMENT (compact JSON) in the
# place of the first of them (else appended); COUNT is the number of statements it holds.
# MATCH is one rule a line; a rule is texts separated by tabs that a statement must all
# contain (compared without whitespace). Everything outside the Statement list (Version, Id)
# is kept. Fails on text that is not a JSON object.
policy_edit() {
  printf '%s' "$1" | POLICY_MATCH=$2 POLICY_ADD=${3:-} awk '
    { text = text $0 "\n" }
    END {
      if (!tokenize(text)) exit 1
      add = ENVIRON["POLICY_ADD"]
      nrules = split(ENVIRON["POLICY_MATCH"], rules, "\n")
      if (ntok == 0) {
        doc = "{\"Version\":\"2012-10-17\",\"Statement\":[" add "]}"
        print (add == "" ? 0 : 1) "\t" doc
        exit 0
      }
      if (t[1] != "{") exit 1
      # The root object: key, colon, value, comma ... ; find the Statement value.
      start = 0
      for (i = 2; i < ntok && t[i] != "}"; i = skip(i + 2) + 1) {
        if (t[i + 1] != ":") exit 1
        if (t[i] == "\"Statement\"") { start = i + 2; stop = skip(start) - 1 }
      }
      kept = 0
      list = ""
      if (start > 0) {
        from = (t[start] == "[") ? start + 1 : start
        upto = (t[start] == "[") ? stop - 1 : stop
        for (k = from; k <= upto; k = end + 1) {
          end = skip(k)
          item = join(k, end - 1)
          if (!selected(item)) { list = list (kept++ ? "," : "") item; continue }
          removed[++nremoved] = item
          # The new statement takes the place of the first one it replaces.
          if (add != "" && !placed) { list = list (kept++ ? "," : "") add; placed = 1 }
        }
        before = join(1, start - 1)
        after = join(stop + 1, ntok)
      } else {
        before = join(1, ntok - 1) (ntok > 2 ? "," : "") "\"Statement\":"
        after = "}"
      }
      if (add != "" && !placed) { list = list (kept++ ? "," : "") add }
      print kept "\t" before "[" list "]" after
      for (r = 1; r <= nremoved; r++) print removed[r]
    }
    # JSON text -> tokens t[1..ntok]: strings whole, punctuation, other scalars; no whitespace.
    # Plain bracket expressions only: BSD awk (macOS) is stricter than gawk and busybox.
    function tokenize(s,    tok, ch) {
      ntok = 0
      while (s != "") {
        if (match(s, /^[ \t\r\n]+/)) { s = substr(s, RLENGTH + 1); continue }
        ch = substr(s, 1, 1)
        if (ch == "\"") {
          if (!match(s, /^"([^"\\]|\\.)*"/)) return 0
          tok = substr(s, 1, RLENGTH)
        } else if (index("{}[],:", ch)) tok = ch
        else if (match(s, /^[-+.0-9A-Za-z]+/)) tok = substr(s, 1, RLENGTH)
        else return 0
        t[++ntok] = tok
        s = substr(s, length(tok) + 1)
      }
      return 1
    }
    # The index just past the value that starts at token i.
    function skip(i,    depth) {
      if (t[i] != "{" && t[i] != "[") return i + 1
      depth = 0
      for (; i <= ntok; i++) {
        if (t[i] == "{" || t[i] == "[") depth++
        else if (t[i] == "}" || t[i] == "]") { if (--depth == 0) return i + 1 }
      }
      return ntok + 1
    }
    function join(a, b,    s) {
      s = ""
      for (; a <= b; a++) s = s t[a]
      return s
    }
    function selected(item,    r, n, parts, p, all) {
      for (r = 1; r <= nrules; r++) {
        if (rules[r] == "") continue
        n = split(rules[r], parts, "\t")
        all = 1
        for (p = 1; p <= n; p++) if (index(item, parts[p]) == 0) all = 0
        if (all) return 1
      }
      return 0
    }
  '
}
