# ecr-tenants.sh - a role per tenant (ECR_TENANTS): the namespaces a tenant's MATCH selects get a
# Secret whose tokens are minted by that tenant's role, so that one team's namespaces cannot pull
# another team's images. Sourced by refresh-ecr-credentials.sh; defines functions only.
#
# ECR_TENANTS holds one "MATCH=ROLE_ARN" per line. MATCH is a namespace glob (team-a-*) or, when
# it holds "=", "(" or "," or starts with "!", a label selector in kubectl -l syntax
# (team=a, env in (prod), !legacy): namespace names hold none of those characters. The first
# tenant that matches a namespace wins; a namespace no tenant matches gets the base credentials'
# Secret, or, with ECR_TENANTS_ONLY=true, nothing.
#
# Each distinct role is a group with its own docker config: group 0 is the base credentials
# (the registries as ECR_REGISTRIES names them, roles included), group N the Nth distinct tenant
# role, which mints every region's token for the same registries. One token per (role, region)
# per run. The generator applies the same MATCH rule (tenantMatchKind in src/validation/
# kubernetes.ts); one table (test/fixtures/tenant-matches.json) is run through both.
# shellcheck shell=sh

# tenant_match_kind MATCH: prints "selector" or "glob", or fails for neither.
tenant_match_kind() {
  case $1 in
    '') return 1 ;;
    *=* | *'('* | *,* | '!'*)
      printf 'selector\n'
      return 0
      ;;
    *[!a-z0-9*?-]*) return 1 ;;
  esac
  printf 'glob\n'
}

# read_tenant_settings: checks ECR_TENANTS and ECR_TENANTS_ONLY and sets $tenant_count,
# $group_count (distinct roles + 1) and, for tenant I (1-based), $tenant_kind_I, $tenant_match_I
# and $tenant_group_I, and for group G $group_role_G. Exits with EXIT_CONFIG at the first entry
# that is wrong.
read_tenant_settings() {
  tenants_only=${ECR_TENANTS_ONLY:-false}
  tenant_count=0
  group_count=1
  group_role_0=
  rts_lines=${ECR_TENANTS:-}
  while [ -n "$rts_lines" ]; do
    rts_line=${rts_lines%%"$NL"*}
    rts_lines=${rts_lines#"$rts_line"}
    rts_lines=${rts_lines#"$NL"}
    [ -n "$rts_line" ] || continue
    case $rts_line in
      *=arn:*) ;;
      *) die "$EXIT_CONFIG" "ECR_TENANTS entry \"$rts_line\" is not MATCH=ROLE_ARN; use e.g. team-a-*=arn:aws:iam::123456789012:role/ecr-pull-team-a" ;;
    esac
    rts_role=arn:${rts_line##*=arn:}
    rts_match=${rts_line%=arn:*}
    is_role_arn "$rts_role" ||
      die "$EXIT_CONFIG" "ECR_TENANTS entry \"$rts_line\": \"$rts_role\" is not an IAM role ARN; use MATCH=arn:aws:iam::ACCOUNT:role/NAME"
    rts_kind=$(tenant_match_kind "$rts_match") ||
      die "$EXIT_CONFIG" "ECR_TENANTS entry \"$rts_line\": \"$rts_match\" is neither a namespace glob (lowercase letters, digits, '-', '*', '?') nor a label selector (team=a, env in (prod)); use e.g. team-a-*=ROLE_ARN or team=a=ROLE_ARN"
    tenant_count=$((tenant_count + 1))
    # A role named by two tenants is one group: its token is asked for once.
    rts_group=1
    while [ "$rts_group" -lt "$group_count" ]; do
      eval "rts_known=\$group_role_$rts_group"
      [ "$rts_known" != "$rts_role" ] || break
      rts_group=$((rts_group + 1))
    done
    if [ "$rts_group" -eq "$group_count" ]; then
      eval "group_role_$rts_group=\$rts_role"
      group_count=$((group_count + 1))
    fi
    eval "tenant_kind_$tenant_count=\$rts_kind tenant_match_$tenant_count=\$rts_match tenant_group_$tenant_count=\$rts_group"
  done
  case $tenants_only in
    false) ;;
    true) [ "$tenant_count" -gt 0 ] ||
      die "$EXIT_CONFIG" "ECR_TENANTS_ONLY=true, but ECR_TENANTS names no tenant, so no namespace would get a Secret; add tenants, or set ECR_TENANTS_ONLY to false" ;;
    *) die "$EXIT_CONFIG" "ECR_TENANTS_ONLY \"$tenants_only\" must be true or false" ;;
  esac
}

# keep_base_registries: remembers the base credentials' registries and token sources (from
# collect_registries), which use_group derives every group's from.
keep_base_registries() {
  base_registries=$registries
  base_token_sources=$token_sources
}

# use_group G: sets $registries and $token_sources to group G's: the base ones for 0; for a
# tenant's group, every registry host with the tenant's role, and one source per region. A
# source that names no region (such as ECR Public's, "public=") stays the base credentials'.
use_group() {
  registries=$base_registries
  token_sources=$base_token_sources
  [ "$1" -gt 0 ] || return 0
  eval "ug_role=\$group_role_$1"
  registries=
  for ug_entry in $base_registries; do
    registries="${registries:+$registries }${ug_entry%%=*}=$ug_role"
  done
  token_sources=
  for ug_source in $base_token_sources; do
    case ${ug_source%%=*} in
      *-*) ug_source=${ug_source%%=*}=$ug_role ;;
    esac
    case " $token_sources " in
      *" $ug_source "*) ;;
      *) token_sources=${token_sources:+$token_sources }$ug_source ;;
    esac
  done
}

# group_label G: how logs name group G: "base credentials" or "role ARN".
group_label() {
  if [ "$1" -eq 0 ]; then
    printf 'base credentials\n'
  else
    eval "printf 'role %s\n' \"\$group_role_$1\""
  fi
}

# fetch_group_tokens: each group's docker config, before the first write, as the apply patch
# $work/secret.G.json. A group whose token cannot be had gets $work/token-failed.G (its reason;
# "transient" on the second line when AWS was throttling or failing) instead: its namespaces
# fail, the others are written. Exits 3 when no group has a token. Group 0 comes last, so that
# the base credentials' docker config is the one left in $docker_config_b64 (Argo CD's).
fetch_group_tokens() {
  keep_base_registries
  fgt_group=$((group_count - 1))
  fgt_got=0
  while [ "$fgt_group" -ge 0 ]; do
    # The base token is asked for only when some namespace may get it, or Argo CD does.
    if [ "$fgt_group" -eq 0 ] && [ "$tenants_only" = true ] && [ -z "$argocd_namespace" ]; then
      break
    fi
    use_group "$fgt_group"
    if group_tokens; then
      print_secret >"$work/secret.$fgt_group.json"
      fgt_got=$((fgt_got + 1))
    else
      printf 'no ECR token for region %s as %s: %s\n' "$failed_region" "$(group_label "$fgt_group")" \
        "$(last_line "$work/aws.err")" >"$work/token-failed.$fgt_group"
      ! is_overloaded "$work/aws.err" || printf 'transient\n' >>"$work/token-failed.$fgt_group"
    fi
    fgt_group=$((fgt_group - 1))
  done
  use_group 0
  [ "$fgt_got" -gt 0 ] ||
    die "$EXIT_AWS" "no ECR token for any tenant role nor the base credentials; nothing was written"
}

# tenant_selector_members: for each tenant whose MATCH is a label selector, the namespaces it
# selects, from one LIST each (the API server evaluates the selector, as it does
# ECR_NAMESPACE_SELECTOR's), into $work/tenant-members ("NAME TENANT" lines). Returns non-zero,
# the reason in $tenant_error, when a LIST fails; exits 2 when the API server rejects a selector.
tenant_selector_members() {
  : >"$work/tenant-members"
  tsm_tenant=1
  tsm_query=$selector_query
  while [ "$tsm_tenant" -le "$tenant_count" ]; do
    eval "tsm_kind=\$tenant_kind_$tsm_tenant tsm_match=\$tenant_match_$tsm_tenant"
    if [ "$tsm_kind" = selector ]; then
      selector_query="labelSelector=$(urlencode "$tsm_match")"
      if ! get_namespace_table "$work/tenant.json"; then
        selector_query=$tsm_query
        if [ "$table_status" = 400 ]; then
          die "$EXIT_CONFIG" "ECR_TENANTS selector \"$tsm_match\" was rejected: $(status_message "$work/tenant.json"); use kubectl -l syntax, e.g. team=a or env in (prod,staging)"
        fi
        tenant_error="cannot list the namespaces of tenant \"$tsm_match\": $table_error"
        return 1
      fi
      jq -r --arg tenant "$tsm_tenant" '.rows[] | "\(.cells[0]) \($tenant)"' "$work/tenant.json" >>"$work/tenant-members" || {
        selector_query=$tsm_query
        tenant_error="cannot list the namespaces of tenant \"$tsm_match\": the API server's answer is not a Table"
        return 1
      }
    fi
    tsm_tenant=$((tsm_tenant + 1))
  done
  selector_query=$tsm_query
  rm -f "$work/tenant.json"
}

# tenant_of NAMESPACE SELECTED_BY: sets $group to the group of the first tenant that matches
# NAMESPACE (SELECTED_BY: ",I,J," the selector tenants that list it), else to 0, or to -1 with
# ECR_TENANTS_ONLY=true.
tenant_of() {
  to_tenant=1
  while [ "$to_tenant" -le "$tenant_count" ]; do
    eval "to_kind=\$tenant_kind_$to_tenant to_match=\$tenant_match_$to_tenant"
    if [ "$to_kind" = glob ]; then
      # shellcheck disable=SC2254 # the glob is the point
      case $1 in
        $to_match)
          eval "group=\$tenant_group_$to_tenant"
          return 0
          ;;
      esac
    else
      case $2 in
        *",$to_tenant,"*)
          eval "group=\$tenant_group_$to_tenant"
          return 0
          ;;
      esac
    fi
    to_tenant=$((to_tenant + 1))
  done
  group=0
  [ "$tenants_only" = false ] || group=-1
}

# assign_tenants: splits $work/targets by group into $work/targets.G; a namespace no tenant
# matches under ECR_TENANTS_ONLY=true is logged as skipped and leaves $work/targets. Returns
# non-zero (the reason in $tenant_error) when a tenant's selector cannot be evaluated.
assign_tenants() {
  at_group=0
  while [ "$at_group" -lt "$group_count" ]; do
    : >"$work/targets.$at_group"
    at_group=$((at_group + 1))
  done
  tenant_selector_members || return 1
  # Each target with the selector tenants that list it: "NAME ,I,J," ("," for none).
  awk -v members="$work/tenant-members" '
    FILENAME == members { of[$1] = of[$1] $2 ","; next }
    { print $1, "," of[$1] }' "$work/tenant-members" "$work/targets" >"$work/targets.tagged"
  # "GROUP NAME" lines through one open file, then split by group in one pass.
  exec 3>"$work/targets.grouped"
  while read -r at_ns at_tags; do
    tenant_of "$at_ns" "$at_tags"
    if [ "$group" -lt 0 ]; then
      skip "$at_ns" "no tenant matches it, and ECR_TENANTS_ONLY is true"
      target_count=$((target_count - 1))
      continue
    fi
    printf '%s %s\n' "$group" "$at_ns" >&3
  done <"$work/targets.tagged"
  exec 3>&-
  awk -v prefix="$work/targets." -v all="$work/targets" '
    BEGIN { printf "" > all }
    { print $2 > (prefix $1); print $2 > all }' "$work/targets.grouped"
  rm -f "$work/targets.tagged" "$work/targets.grouped"
}

# fail_group G REASON [transient]: group G had no token: each of its namespaces is logged and
# recorded as failed with REASON (in $work/outcomes.tenants), and counted.
fail_group() {
  while read -r fg_ns; do
    quote "$2"
    log error namespace "namespace=$fg_ns" result=failed "reason=$quoted"
    printf '%s failed\n' "$fg_ns" >>"$work/outcomes.tenants"
    failed=$((failed + 1))
    [ "${3:-}" != transient ] || failed_transient=$((failed_transient + 1))
  done <"$work/targets.$1"
}

# write_tenant_groups: writes each group's Secret into its namespaces (write_secrets, one group
# after another) and fails those of a group without a token. Afterwards $work/targets and
# $work/outcomes hold every group's namespaces again, one result each.
write_tenant_groups() {
  mv "$work/targets" "$work/targets.all"
  : >"$work/outcomes.tenants"
  wtg_group=0
  while [ "$wtg_group" -lt "$group_count" ]; do
    if [ -s "$work/targets.$wtg_group" ]; then
      if [ -f "$work/token-failed.$wtg_group" ]; then
        { IFS= read -r wtg_reason && IFS= read -r wtg_kind || wtg_kind=; } <"$work/token-failed.$wtg_group"
        fail_group "$wtg_group" "$wtg_reason" "$wtg_kind"
      else
        cp "$work/targets.$wtg_group" "$work/targets"
        target_count=$(wc -l <"$work/targets" | tr -d ' ')
        write_secrets "$work/secret.$wtg_group.json"
        cat "$work/outcomes" >>"$work/outcomes.tenants"
      fi
    fi
    wtg_group=$((wtg_group + 1))
  done
  mv "$work/targets.all" "$work/targets"
  mv "$work/outcomes.tenants" "$work/outcomes"
  target_count=$(wc -l <"$work/targets" | tr -d ' ')
}
