# shellcheck shell=bash
# bootstrap-iam/args.sh - the command line of bootstrap-iam.sh: the options and their
# defaults, the help texts, parsing, and the checks that refuse bad input (exit 2) before any
# call is made. Sourced by bootstrap-iam.sh; defines variables and functions only.

COMMAND=""
NAME=ecr-k8s
REGION=""
REGION_GIVEN=false
NAMESPACE=ecr-updater
SECRET_NAME=aws-ecr-credentials
CONTEXT=""
REPOSITORIES=()
PULL_THROUGH_CACHE=false
ECR_PUBLIC=false
TENANT_GIVEN=false
DRY_RUN=false
OUTPUT=""
YES=false
WEB_IDENTITY=false
ISSUER_URL=""
PUBLISH_DISCOVERY=""
SERVICE_ACCOUNT=ecr-credential-updater
# Seconds to keep retrying GetAuthorizationToken with a new key: IAM is eventually consistent
# and a new key usually needs a few seconds, sometimes longer, before AWS accepts it.
PROOF_TIMEOUT=${BOOTSTRAP_IAM_PROOF_TIMEOUT:-120}
PROOF_INTERVAL=${BOOTSTRAP_IAM_PROOF_INTERVAL:-3}

usage() {
  cat <<EOF
Usage: $PROG COMMAND [options]

Creates the least-privilege IAM user whose access key the ECR credential refresh uses, puts
the key into the cluster as Secret <namespace>/<secret-name>, rotates it, and removes it all.

Commands:
  create   IAM user, inline pull-only ECR policy, one access key, and the Secret
           (--web-identity: a role instead; --tenant NAME: a tenant role)
  rotate   new key -> proven with GetAuthorizationToken -> Secret updated -> old key deleted
  delete   the Secret, the user's access keys, its policy and the user (or the role, or a
           tenant role)

Run '$PROG COMMAND --help' for the options of a command.

Exit status: 0 done (or nothing to do), 1 failed (what this run created was undone),
2 bad input (nothing was changed).
EOF
}

common_options_help() {
  cat <<EOF
  --name PREFIX          names the IAM user PREFIX-ecr-puller (path $USER_PATH) and its inline
                         policy PREFIX-ecr-pull. Use one prefix per cluster.  [default: ecr-k8s]
  --region REGION        region of the registry the refresh logs in to; written to the Secret
                         as AWS_REGION  [default: \$AWS_REGION, \$AWS_DEFAULT_REGION, then
                         'aws configure get region']
  --namespace NS         namespace the refresh runs in  [default: ecr-updater]
  --secret-name NAME     Secret holding the key  [default: aws-ecr-credentials]
  --context CONTEXT      kube context to write the Secret with  [default: current context]
  --output FILE          write the Secret manifest to FILE (mode 0600; '-' = stdout) instead of
                         writing it to a cluster; no kubectl call is made
  --dry-run              print every aws and kubectl call this would make, and make none
  -h, --help             this help
EOF
}

web_identity_options_help() {
  cat <<EOF
  --web-identity         no key: create (or reuse) the IAM OIDC provider of the cluster's
                         ServiceAccount issuer (audience $AUDIENCE) and role PREFIX-ecr-puller
                         (path $ROLE_PATH) that only system:serviceaccount:NS:SA may assume,
                         with the same policy; prints the role ARN and the synth flags. If
                         the role exists (another cluster, same --name), this cluster's issuer
                         is added to its trust as a statement of its own
  --issuer-url URL       the issuer to trust  [default: the cluster's own, read from
                         /.well-known/openid-configuration through the API server]
  --publish-discovery s3://BUCKET[/PREFIX]
                         for an issuer AWS cannot reach: copy the cluster's discovery document
                         and JWKS into the bucket (public read of those two objects only, in
                         a bucket policy statement of this PREFIX; other statements are kept)
                         and trust https://BUCKET.s3.REGION.amazonaws.com[/PREFIX]. The bucket
                         name may not contain dots (S3's certificate does not cover them)
  --service-account SA   the updater's ServiceAccount  [default: ecr-credential-updater]
EOF
}

tenant_options_help() {
  if [[ $1 == create ]]; then
    cat <<EOF
  --tenant NAME          instead of the base: create (or align) role PREFIX-ecr-tenant-NAME
                         (path $ROLE_PATH) whose inline policy PREFIX-ecr-pull allows
                         ecr:GetAuthorizationToken and the pull actions (BatchGetImage,
                         GetDownloadUrlForLayer) on --repositories only, and whose trust
                         admits only the base principal: IAM user
                         PREFIX-ecr-puller, or with --web-identity the role of that name. The
                         base gets policy PREFIX-ecr-assume-tenant-NAME (sts:AssumeRole on that
                         one role). Prints the role ARN and the synth flag --tenant 'MATCH=ARN'
  --repositories LIST    with --tenant (required): the repositories the tenant may pull, names
                         or IAM patterns with * and ? (in --region and this account) or full
                         repository ARNs; comma-separated and/or repeated, e.g.
                         --repositories 'team-a/*,shared/base'
EOF
  else
    cat <<EOF
  --tenant NAME          delete tenant role PREFIX-ecr-tenant-NAME with its policy, and the base
                         principal's policy PREFIX-ecr-assume-tenant-NAME (on the user or the
                         role, wherever it is); nothing of another tenant is touched. Running
                         it again finds nothing and exits 0
EOF
  fi
}

command_help() {
  case $1 in
    create)
      cat <<EOF
Usage: $PROG create [options]

Creates IAM user PREFIX-ecr-puller (path $USER_PATH, tag $TAG_KEY=$MANAGED_BY),
its inline policy PREFIX-ecr-pull and one access key; proves the key with
GetAuthorizationToken; then server-side applies Secret NS/NAME (type Opaque, keys
AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ACCOUNT_ID).

Running it again changes nothing: an existing user keeps its key, and the policy is only
rewritten if the options ask for a different one. Use 'rotate' to replace the key.

The policy allows ecr:GetAuthorizationToken (Resource "*"; it cannot be scoped) and
ecr:BatchGetImage + ecr:GetDownloadUrlForLayer (Resource "*" or the --repository ARNs).

Options:
  --repository NAME      scope the pull actions to arn:aws:ecr:REGION:ACCOUNT:repository/NAME;
                         repeatable; IAM wildcards * and ? allowed (e.g. 'team-a/*'); a full
                         repository ARN is taken as is (other accounts or regions)
                         [default: every repository the account may pull from]
  --pull-through-cache   also allow ecr:BatchImportUpstreamImage and ecr:CreateRepository, which
                         a pull through a pull-through cache rule needs the first time
  --ecr-public           also allow ecr-public:GetAuthorizationToken and sts:GetServiceBearerToken
                         (Resource "*"), which a login to public.ecr.aws needs; only in the aws
                         partition (ECR Public does not exist in aws-cn or aws-us-gov)
$(web_identity_options_help)
$(tenant_options_help create)
$(common_options_help)

--dry-run assumes the user does not exist yet and the Secret is absent.
EOF
      ;;
    rotate)
      cat <<EOF
Usage: $PROG rotate [options]

Creates a second access key, proves it with GetAuthorizationToken (retrying while IAM makes
it consistent, up to \$BOOTSTRAP_IAM_PROOF_TIMEOUT seconds, default 120), writes it to the
Secret, reads the Secret back and proves what it holds, then deletes the old key. If any
step fails, the Secret gets the old key back and the new key is deleted.

With --output the new key goes to FILE and the old key is NOT deleted (this script cannot
know when you applied FILE); the command to delete it is printed.

An IAM user can hold 2 keys; rotate needs the user to hold 1. Without --region, the Secret
keeps the AWS_REGION it holds.

Options:
$(common_options_help)

--dry-run assumes the user has one key, <OLD_ACCESS_KEY_ID>, and the Secret holds it.
EOF
      ;;
    delete)
      cat <<EOF
Usage: $PROG delete [options]

Deletes Secret NS/NAME (if this script wrote it or it holds a key of the user), then the
user's access keys, its inline policy PREFIX-ecr-pull and the user. Asks for confirmation
on stdin unless --yes is given. With --output, the Secret is left alone (delete it where you
applied it). Users this script did not create (no $TAG_KEY tag) are never deleted.

Options:
  --yes                  do not ask for confirmation
  --web-identity         delete the role PREFIX-ecr-puller and its policy instead; the OIDC
                         provider too if this script created it and no other role trusts it.
                         A role that trusts several clusters loses only this cluster's trust
                         statement (the cluster's issuer, or --issuer-url) and stays
  --issuer-url URL       with --web-identity: the cluster whose trust to remove
  --publish-discovery s3://BUCKET[/PREFIX]
                         with --web-identity: the cluster whose trust to remove; also removes
                         its statement from the bucket policy and its two documents
$(tenant_options_help delete)
$(common_options_help)

--dry-run assumes the user exists with one key and its policy, and the Secret holds the key.
EOF
      ;;
  esac
}

# ---------------------------------------------------------------------------------------------
# Arguments

parse_args() {
  if [[ $# -eq 0 ]]; then
    usage >&2
    exit 2
  fi
  case $1 in
    -h | --help | help)
      usage
      exit 0
      ;;
    create | rotate | delete) COMMAND=$1 ;;
    *) die_usage "unknown command \"$1\": use create, rotate or delete (see $PROG --help)" ;;
  esac
  shift

  local opt value has_value
  while [[ $# -gt 0 ]]; do
    opt=$1
    value=""
    has_value=false
    if [[ $opt == --*=* ]]; then
      value=${opt#*=}
      opt=${opt%%=*}
      has_value=true
    fi
    case $opt in
      -h | --help)
        command_help "$COMMAND"
        exit 0
        ;;
      --dry-run | --pull-through-cache | --yes | --web-identity | --ecr-public)
        if $has_value; then
          die_usage "$opt takes no value (got \"$opt=$value\"); drop \"=$value\""
        fi
        case $opt in
          --dry-run) DRY_RUN=true ;;
          --pull-through-cache) PULL_THROUGH_CACHE=true ;;
          --yes) YES=true ;;
          --web-identity) WEB_IDENTITY=true ;;
          --ecr-public) ECR_PUBLIC=true ;;
        esac
        ;;
      --name | --region | --namespace | --secret-name | --context | --repository | --output | \
        --issuer-url | --publish-discovery | --service-account | --tenant | --repositories)
        if ! $has_value; then
          if [[ $# -lt 2 ]]; then
            die_usage "$opt needs a value, e.g. $(option_example "$opt")"
          fi
          value=$2
          shift
        fi
        case $opt in
          --name) NAME=$value ;;
          --region)
            REGION=$value
            REGION_GIVEN=true
            ;;
          --namespace) NAMESPACE=$value ;;
          --secret-name) SECRET_NAME=$value ;;
          --context) CONTEXT=$value ;;
          --repository) REPOSITORIES+=("$value") ;;
          --output) OUTPUT=$value ;;
          --issuer-url) ISSUER_URL=$value ;;
          --publish-discovery) PUBLISH_DISCOVERY=$value ;;
          --service-account) SERVICE_ACCOUNT=$value ;;
          --tenant)
            TENANT=$value
            TENANT_GIVEN=true
            ;;
          --repositories) split_repositories "$value" ;;
        esac
        ;;
      *)
        die_usage "unknown option \"$opt\" for $COMMAND; see $PROG $COMMAND --help for the options"
        ;;
    esac
    shift
  done
}

option_example() {
  case $1 in
    --name) printf '%s' '--name prod-cluster' ;;
    --region) printf '%s' '--region eu-west-1' ;;
    --namespace) printf '%s' '--namespace ecr-updater' ;;
    --secret-name) printf '%s' '--secret-name aws-ecr-credentials' ;;
    --context) printf '%s' '--context my-cluster' ;;
    --repository) printf '%s' "--repository 'team-a/*'" ;;
    --output) printf '%s' '--output secret.yaml' ;;
    --issuer-url) printf '%s' '--issuer-url https://oidc.example.com/cluster-a' ;;
    --publish-discovery) printf '%s' '--publish-discovery s3://my-cluster-oidc/cluster-a' ;;
    --service-account) printf '%s' '--service-account ecr-credential-updater' ;;
    --tenant) printf '%s' '--tenant team-a' ;;
    --repositories) printf '%s' "--repositories 'team-a/*'" ;;
  esac
}

validate_args() {
  local repo
  if [[ $COMMAND != delete ]] && $YES; then
    die_usage "--yes only applies to delete; drop it from $COMMAND"
  fi
  if [[ $COMMAND != create ]]; then
    if [[ ${#REPOSITORIES[@]} -gt 0 ]]; then
      die_usage "--repository only applies to create (it shapes the policy); drop it from $COMMAND"
    fi
    if $PULL_THROUGH_CACHE; then
      die_usage "--pull-through-cache only applies to create (it shapes the policy); drop it from $COMMAND"
    fi
    if $ECR_PUBLIC; then
      die_usage "--ecr-public only applies to create (it shapes the policy); drop it from $COMMAND"
    fi
  fi

  if [[ -z $NAME || ! $NAME =~ $IAM_NAME_RE ]]; then
    die_usage "--name \"$NAME\" is not usable in an IAM user name: use letters, digits and + = , . @ _ -, e.g. --name prod-cluster"
  fi
  USER_NAME=$NAME-ecr-puller
  POLICY_NAME=$NAME-ecr-pull
  if [[ ${#USER_NAME} -gt 64 ]]; then
    die_usage "--name \"$NAME\" is too long: the user name $USER_NAME would have ${#USER_NAME} characters, IAM allows 64. Use at most $((64 - ${#USER_NAME} + ${#NAME})) characters."
  fi

  if [[ -z $REGION ]]; then
    REGION=${AWS_REGION:-${AWS_DEFAULT_REGION:-}}
  fi
  if [[ -z $REGION ]] && ! $DRY_RUN && command -v aws >/dev/null 2>&1; then
    # A local read of ~/.aws/config, not an AWS call; skipped under --dry-run all the same.
    REGION=$(aws configure get region 2>/dev/null || true)
  fi
  if [[ -z $REGION ]]; then
    die_usage "no region: pass --region, e.g. --region eu-west-1 (or set AWS_REGION)"
  fi
  if [[ ! $REGION =~ $REGION_RE ]]; then
    die_usage "--region \"$REGION\" is not an AWS region name; use one like eu-west-1 or us-east-1 ('aws ec2 describe-regions' lists them)"
  fi
  case $REGION in
    cn-*) PARTITION=aws-cn ;;
    us-gov-*) PARTITION=aws-us-gov ;;
    *) PARTITION=aws ;;
  esac
  # ECR Public (public.ecr.aws, API in us-east-1) is a service of the aws partition only.
  if $ECR_PUBLIC && [[ $PARTITION != aws ]]; then
    die_usage "--ecr-public: ECR Public exists only in the aws partition, and --region \"$REGION\" is in $PARTITION, where no ecr-public API answers; drop --ecr-public"
  fi

  if [[ ${#NAMESPACE} -gt 63 || ! $NAMESPACE =~ $DNS_LABEL_RE ]]; then
    die_usage "--namespace \"$NAMESPACE\" is not a Kubernetes namespace name: lowercase letters, digits and -, at most 63, e.g. --namespace ecr-updater"
  fi
  if [[ ${#SECRET_NAME} -gt 253 || ! $SECRET_NAME =~ $DNS_SUBDOMAIN_RE ]]; then
    die_usage "--secret-name \"$SECRET_NAME\" is not a Kubernetes object name: lowercase letters, digits, - and ., e.g. --secret-name aws-ecr-credentials"
  fi
  if [[ -n $OUTPUT && -n $CONTEXT ]]; then
    die_usage "--context \"$CONTEXT\" has no effect with --output (no cluster is written); drop one of them"
  fi

  for repo in ${REPOSITORIES[@]+"${REPOSITORIES[@]}"}; do
    if [[ $repo == arn:* ]]; then
      if [[ ! $repo =~ $REPOSITORY_ARN_RE ]]; then
        die_usage "--repository \"$repo\" is not an ECR repository ARN; use arn:aws:ecr:REGION:ACCOUNT:repository/NAME or just NAME"
      fi
    elif [[ ${#repo} -gt 256 || ! $repo =~ $REPOSITORY_RE ]]; then
      local hint=""
      if [[ $repo =~ [A-Z] ]]; then
        hint=" (ECR repository names are lowercase)"
      fi
      die_usage "--repository \"$repo\" is not an ECR repository name or pattern$hint: use lowercase letters, digits, . _ - /, and * or ?, e.g. --repository 'team-a/*'"
    fi
  done

  if [[ -n $OUTPUT && $OUTPUT != - ]]; then
    local dir
    dir=$(dirname -- "$OUTPUT")
    if [[ -d $OUTPUT ]]; then
      die_usage "--output \"$OUTPUT\" is a directory; name a file, e.g. --output $OUTPUT/aws-ecr-credentials.yaml"
    fi
    if [[ ! -d $dir || ! -w $dir ]]; then
      die_usage "--output \"$OUTPUT\": directory \"$dir\" does not exist or is not writable; create it or pick another path"
    fi
  fi

  if [[ ! $PROOF_TIMEOUT =~ ^[0-9]+$ || ! $PROOF_INTERVAL =~ ^[0-9]+$ || $PROOF_INTERVAL -eq 0 ]]; then
    die_usage "BOOTSTRAP_IAM_PROOF_TIMEOUT and BOOTSTRAP_IAM_PROOF_INTERVAL must be whole seconds (interval > 0)"
  fi

  validate_tenant_args
  validate_web_identity_args

  if [[ -n $CONTEXT ]]; then
    KUBE=(kubectl --context "$CONTEXT")
  fi
}

# --repositories VALUE: one or more comma-separated items; empty items are kept so the checks
# can name them (a stray comma is a typo, not "every repository").
split_repositories() {
  local rest=$1,
  while [[ -n $rest ]]; do
    TENANT_REPOSITORIES+=("${rest%%,*}")
    rest=${rest#*,}
  done
}

# Checks --tenant, --repositories and what may go with them; exit 2 on a bad one.
validate_tenant_args() {
  local repo opt
  if ! $TENANT_GIVEN; then
    [[ ${#TENANT_REPOSITORIES[@]} -eq 0 ]] ||
      die_usage "--repositories only applies with --tenant NAME (the tenant role's policy); for the base principal's policy use --repository"
    return 0
  fi
  [[ $COMMAND != rotate ]] || die_usage "--tenant has no key to rotate: a tenant role has none (the base principal assumes it). Use create or delete"
  if [[ -z $TENANT || ! $TENANT =~ $IAM_NAME_RE ]]; then
    die_usage "--tenant \"$TENANT\" is not usable in an IAM role name: use letters, digits and + = , . @ _ -, e.g. --tenant team-a"
  fi
  TENANT_ROLE_NAME=$NAME-ecr-tenant-$TENANT
  ASSUME_POLICY_NAME=$NAME-ecr-assume-tenant-$TENANT
  BASE_NAME=$USER_NAME
  if [[ ${#TENANT_ROLE_NAME} -gt 64 ]]; then
    die_usage "--tenant \"$TENANT\" is too long: the role name $TENANT_ROLE_NAME would have ${#TENANT_ROLE_NAME} characters, IAM allows 64. Use at most $((64 - ${#TENANT_ROLE_NAME} + ${#TENANT})) characters (or a shorter --name)."
  fi
  [[ ${#REPOSITORIES[@]} -eq 0 ]] ||
    die_usage "--repository shapes the base principal's policy; with --tenant the tenant's repositories go in --repositories, e.g. --repositories '${REPOSITORIES[0]}'"
  for opt in "--pull-through-cache:$PULL_THROUGH_CACHE" "--ecr-public:$ECR_PUBLIC"; do
    [[ ${opt#*:} == false ]] ||
      die_usage "${opt%%:*} shapes the base principal's policy, not a tenant role's; run it without --tenant (nothing was changed)"
  done
  [[ -z $OUTPUT ]] || die_usage "--output has no use with --tenant: a tenant role has no key and no Secret"
  [[ -z $CONTEXT ]] || die_usage "--context has no use with --tenant: no cluster is touched"
  [[ -z $ISSUER_URL && -z $PUBLISH_DISCOVERY ]] ||
    die_usage "--issuer-url and --publish-discovery have no use with --tenant: the tenant role trusts the base principal, not an issuer"
  if [[ $COMMAND == delete ]]; then
    [[ ${#TENANT_REPOSITORIES[@]} -eq 0 ]] ||
      die_usage "--repositories has no use with delete --tenant: the role goes whatever it may pull; drop it"
    return 0
  fi
  [[ ${#TENANT_REPOSITORIES[@]} -gt 0 ]] ||
    die_usage "create --tenant $TENANT needs --repositories: the repositories tenant $TENANT may pull, e.g. --repositories '$TENANT/*' (comma-separated or repeated)"
  for repo in "${TENANT_REPOSITORIES[@]}"; do
    if [[ $repo == arn:* ]]; then
      [[ $repo =~ $REPOSITORY_ARN_RE ]] ||
        die_usage "--repositories item \"$repo\" is not an ECR repository ARN; use arn:$PARTITION:ecr:REGION:ACCOUNT:repository/NAME or just NAME"
    elif [[ ${#repo} -gt 256 || ! $repo =~ $REPOSITORY_RE ]]; then
      die_usage "--repositories item \"$repo\" is not an ECR repository name or pattern: use lowercase letters, digits, . _ - /, and * or ?, comma-separated, e.g. --repositories '$TENANT/*,shared/base'"
    fi
  done
}

# Checks the web-identity options against each other and the command; exit 2 on a bad one.
validate_web_identity_args() {
  if ! $WEB_IDENTITY; then
    [[ -z $ISSUER_URL ]] || die_usage "--issuer-url only applies with --web-identity; add --web-identity"
    [[ -z $PUBLISH_DISCOVERY ]] || die_usage "--publish-discovery only applies with --web-identity; add --web-identity"
    return 0
  fi
  [[ $COMMAND != rotate ]] || die_usage "--web-identity has no key to rotate: AWS issues short-lived credentials per run. Use create or delete"
  [[ -z $OUTPUT ]] || die_usage "--output has no use with --web-identity: there is no key and no Secret to write"
  [[ $SECRET_NAME == aws-ecr-credentials ]] ||
    die_usage "--secret-name has no use with --web-identity: there is no key Secret; drop it"
  if [[ -n $ISSUER_URL && ! $ISSUER_URL =~ ^https://[a-z0-9.-]+(:[0-9]+)?(/[A-Za-z0-9._~/-]*)?$ ]]; then
    die_usage "--issuer-url \"$ISSUER_URL\" is not an https URL; use the cluster's --service-account-issuer, e.g. --issuer-url https://oidc.example.com/cluster-a"
  fi
  if [[ -n $PUBLISH_DISCOVERY ]]; then
    if [[ ! $PUBLISH_DISCOVERY =~ ^s3://([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(/([A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*))?/?$ ]]; then
      die_usage "--publish-discovery \"$PUBLISH_DISCOVERY\" is not s3://BUCKET[/PREFIX] with a valid bucket name (lowercase letters, digits, '.', '-'), e.g. --publish-discovery s3://my-cluster-oidc/cluster-a"
    fi
    BUCKET=${BASH_REMATCH[1]}
    BUCKET_PREFIX=${BASH_REMATCH[3]:-}
    # STS fetches the keys from the virtual-hosted URL over HTTPS, and S3's certificate
    # (*.s3.REGION.amazonaws.com) matches one DNS label only: "If you include dots in a bucket's
    # name, you can't use virtual-host-style addressing over HTTPS" (S3 user guide, "General
    # purpose bucket naming rules").
    if [[ $BUCKET == *.* ]]; then
      die_usage "--publish-discovery \"$PUBLISH_DISCOVERY\": bucket name \"$BUCKET\" has dots, and S3's TLS certificate (*.s3.$REGION.amazonaws.com) does not cover https://$BUCKET.s3.$REGION.amazonaws.com, so STS could not fetch the keys. Use a bucket name without dots, e.g. --publish-discovery s3://${BUCKET//./-}${BUCKET_PREFIX:+/$BUCKET_PREFIX}"
    fi
    [[ -z $ISSUER_URL ]] ||
      die_usage "--issuer-url and --publish-discovery exclude each other: with --publish-discovery the issuer is the bucket's URL ($(published_issuer))"
  fi
  if [[ ${#SERVICE_ACCOUNT} -gt 253 || ! $SERVICE_ACCOUNT =~ $DNS_SUBDOMAIN_RE ]]; then
    die_usage "--service-account \"$SERVICE_ACCOUNT\" is not a Kubernetes object name; use the bundle's, e.g. --service-account ecr-credential-updater"
  fi
  ROLE_NAME=$NAME-ecr-puller
}
