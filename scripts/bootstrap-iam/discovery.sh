# shellcheck shell=bash
# bootstrap-iam/discovery.sh - --publish-discovery: the cluster's OIDC discovery document and
# JWKS as the only public objects of an S3 bucket that other clusters may share (one prefix
# each). Each cluster owns one statement of the bucket policy (Sid derived from its prefix);
# every other statement is kept. What existed before a run - objects, bucket policy, public
# access block - is put back as it was if the run fails. Sourced by bootstrap-iam.sh; defines
# functions and the state they share.

BUCKET=""
BUCKET_PREFIX=""
BUCKET_CREATED=false
DISCOVERY_KEY=""
JWKS_KEY=""
# The bucket's state before this run, for the undo steps.
OLD_BUCKET_POLICY=""
OLD_ACCESS_BLOCK=""
# Objects this run overwrote: key, content type, and the saved body in $WORK/previous.N.
SAVED_KEYS=()
SAVED_TYPES=()

# The issuer URL a bucket publishes: its virtual-hosted https address (and prefix).
published_issuer() {
  local domain=amazonaws.com
  [[ $REGION != cn-* ]] || domain=amazonaws.com.cn
  printf 'https://%s.s3.%s.%s%s' "$BUCKET" "$REGION" "$domain" "${BUCKET_PREFIX:+/$BUCKET_PREFIX}"
}

# This prefix's statement id: IAM allows only letters and digits in a Sid, so the prefix is
# spelled in hex (one prefix, one Sid; no two prefixes share one).
discovery_sid() {
  local sid=OidcDiscoveryRead i hex
  for ((i = 0; i < ${#BUCKET_PREFIX}; i++)); do
    printf -v hex '%02X' "'${BUCKET_PREFIX:i:1}"
    sid=$sid$hex
  done
  printf '%s' "$sid"
}

discovery_statement() {
  printf '{"Sid":"%s","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":["arn:%s:s3:::%s/%s","arn:%s:s3:::%s/%s"]}' \
    "$(discovery_sid)" "$PARTITION" "$BUCKET" "$DISCOVERY_KEY" "$PARTITION" "$BUCKET" "$JWKS_KEY"
}

# Which statements of the bucket policy are this cluster's: its Sid, and the one fixed Sid
# earlier versions of this script wrote, when it names this prefix's discovery document.
discovery_statement_match() {
  printf '"Sid":"%s"\n"Sid":"PublicReadOfOidcDiscovery"\t"arn:%s:s3:::%s/%s"' \
    "$(discovery_sid)" "$PARTITION" "$BUCKET" "${BUCKET_PREFIX:+$BUCKET_PREFIX/}.well-known/openid-configuration"
}

# Reads the JWKS the cluster serves and where both documents go in the bucket.
read_discovery_documents() {
  local jwks_uri prefix=${BUCKET_PREFIX:+$BUCKET_PREFIX/}
  jwks_uri=$(json_field "$DISCOVERY" jwks_uri) || die "the cluster's discovery document has no jwks_uri"
  [[ $jwks_uri == "$ISSUER"/* ]] ||
    die_usage "the cluster's jwks_uri $jwks_uri is not under $ISSUER; start kube-apiserver with --service-account-jwks-uri=$ISSUER/openid/v1/jwks"
  JWKS_KEY=$prefix${jwks_uri#"$ISSUER"/}
  DISCOVERY_KEY=${prefix}.well-known/openid-configuration
  assume '{"keys":[]}'
  kube_call get --raw /openid/v1/jwks || die "$(kube_error_hint "read the cluster's JWKS (/openid/v1/jwks)")"
  ensure_workdir
  printf '%s' "$DISCOVERY" >"$WORK/discovery.json"
  printf '%s' "$OUT" >"$WORK/jwks.json"
}

ensure_bucket() {
  assume "" 254 "An error occurred (404) when calling the HeadBucket operation: Not Found (assumed)"
  if aws_call s3api head-bucket --bucket "$BUCKET"; then
    return 0
  fi
  [[ $ERR == *404* || $ERR == *NotFound* || $ERR == *NoSuchBucket* ]] ||
    die "$(aws_error_hint "check bucket $BUCKET (s3:ListBucket)")"
  local location=()
  [[ $REGION == us-east-1 ]] || location=(--create-bucket-configuration "LocationConstraint=$REGION")
  aws_call s3api create-bucket --bucket "$BUCKET" ${location[@]+"${location[@]}"} ||
    die "$(aws_error_hint "create bucket $BUCKET (s3:CreateBucket)")"
  BUCKET_CREATED=true
  push_undo undo_delete_bucket
  say "created bucket $BUCKET"
}

# A bucket policy may grant public reads only when the public access block lets it; ACLs stay
# blocked (on a bucket that had a block, its ACL settings stay as they were).
allow_public_bucket_policy() {
  local acls="true true" wanted
  if ! $BUCKET_CREATED; then
    if aws_call s3api get-public-access-block --bucket "$BUCKET" --output text --query \
      'PublicAccessBlockConfiguration.[BlockPublicAcls,IgnorePublicAcls,BlockPublicPolicy,RestrictPublicBuckets]'; then
      OLD_ACCESS_BLOCK=$(printf '%s' "$OUT" | tr 'A-Z\t' 'a-z ')
      acls=${OLD_ACCESS_BLOCK% * *}
    elif [[ $ERR != *NoSuchPublicAccessBlockConfiguration* ]]; then
      die "$(aws_error_hint "read the public access block of $BUCKET (s3:GetBucketPublicAccessBlock)")"
    fi
  fi
  wanted="$acls false false"
  [[ $wanted != "$OLD_ACCESS_BLOCK" ]] || return 0
  aws_call s3api put-public-access-block --bucket "$BUCKET" \
    --public-access-block-configuration "$(access_block_flags "$wanted")" ||
    die "$(aws_error_hint "set the public access block of $BUCKET (s3:PutBucketPublicAccessBlock)")"
  $BUCKET_CREATED || push_undo undo_restore_access_block
}

# "true true false false" -> the four flags in put-public-access-block's shorthand.
access_block_flags() {
  local v
  read -r -a v <<<"$1"
  printf 'BlockPublicAcls=%s,IgnorePublicAcls=%s,BlockPublicPolicy=%s,RestrictPublicBuckets=%s' \
    "${v[0]}" "${v[1]}" "${v[2]}" "${v[3]}"
}

# upload_document KEY FILE: puts FILE at KEY unless the same bytes are there. An object that
# was there is saved first, so a failed run puts it back; only a new one is deleted by undo.
upload_document() {
  local key=$1 file=$2 n=${#SAVED_KEYS[@]} old_type=""
  if ! $BUCKET_CREATED; then
    assume "" 254 "An error occurred (NoSuchKey) when calling the GetObject operation: (assumed)"
    if aws_call s3api get-object --bucket "$BUCKET" --key "$key" "$WORK/previous.$n" \
      --query ContentType --output text; then
      old_type=${OUT:-None}
      if cmp -s "$WORK/previous.$n" "$file"; then
        return 0
      fi
    elif [[ $ERR != *NoSuchKey* ]]; then
      die "$(aws_error_hint "read s3://$BUCKET/$key (s3:GetObject)")"
    fi
  fi
  aws_call s3api put-object --bucket "$BUCKET" --key "$key" --body "$file" \
    --content-type application/json || die "$(aws_error_hint "upload $key (s3:PutObject)")"
  if [[ -n $old_type ]]; then
    SAVED_KEYS+=("$key")
    SAVED_TYPES+=("$old_type")
    push_undo undo_restore_object "$n"
  else
    push_undo undo_delete_object "$key"
  fi
}

# Adds (or replaces) this cluster's statement in the bucket policy; keeps every other one.
grant_public_read() {
  local edited current
  if ! $BUCKET_CREATED; then
    if aws_call s3api get-bucket-policy --bucket "$BUCKET" --query Policy --output text; then
      OLD_BUCKET_POLICY=$OUT
    elif [[ $ERR != *NoSuchBucketPolicy* ]]; then
      die "$(aws_error_hint "read the bucket policy of $BUCKET (s3:GetBucketPolicy)")"
    fi
  fi
  edited=$(policy_edit "$OLD_BUCKET_POLICY" "$(discovery_statement_match)" "$(discovery_statement)") ||
    die "the bucket policy of $BUCKET is not JSON this script can read; add this statement yourself: $(discovery_statement)"
  current=$(policy_edit "$OLD_BUCKET_POLICY" "")
  if [[ -n $OLD_BUCKET_POLICY && ${edited%%$'\n'*} == "${current%%$'\n'*}" ]]; then
    say "published s3://$BUCKET/$DISCOVERY_KEY and s3://$BUCKET/$JWKS_KEY; the bucket policy already grants their public read"
    return 0
  fi
  edited=${edited%%$'\n'*}
  aws_call s3api put-bucket-policy --bucket "$BUCKET" --policy "${edited#*$'\t'}" ||
    die "$(aws_error_hint "put the bucket policy of $BUCKET (s3:PutBucketPolicy)")"
  $BUCKET_CREATED || push_undo undo_restore_bucket_policy
  say "published s3://$BUCKET/$DISCOVERY_KEY and s3://$BUCKET/$JWKS_KEY (public read, nothing else)"
}

# delete: takes this cluster's statement out of the bucket policy (the policy goes when no
# statement is left) and deletes the two documents it granted.
unpublish_discovery() {
  local edited count removed key keys=""
  assume "" 254 "An error occurred (NoSuchBucketPolicy) when calling the GetBucketPolicy operation: (assumed)"
  if ! aws_call s3api get-bucket-policy --bucket "$BUCKET" --query Policy --output text; then
    [[ $ERR == *NoSuchBucketPolicy* || $ERR == *NoSuchBucket* ]] ||
      die "$(aws_error_hint "read the bucket policy of $BUCKET (s3:GetBucketPolicy)")"
    say "bucket $BUCKET has no policy: nothing published for this cluster"
    return 0
  fi
  edited=$(policy_edit "$OUT" "$(discovery_statement_match)") ||
    die "the bucket policy of $BUCKET is not JSON this script can read; remove this cluster's statement yourself"
  removed=${edited#*$'\n'}
  [[ $edited == *$'\n'* ]] || removed=""
  if [[ -z $removed ]]; then
    say "the bucket policy of $BUCKET has no statement for ${BUCKET_PREFIX:-the bucket root}: left as it is"
    return 0
  fi
  edited=${edited%%$'\n'*}
  count=${edited%%$'\t'*}
  if [[ $count -eq 0 ]]; then
    aws_call s3api delete-bucket-policy --bucket "$BUCKET" ||
      die "$(aws_error_hint "delete the bucket policy of $BUCKET (s3:DeleteBucketPolicy)")"
    say "deleted the bucket policy of $BUCKET (it held only this cluster's statement)"
  else
    aws_call s3api put-bucket-policy --bucket "$BUCKET" --policy "${edited#*$'\t'}" ||
      die "$(aws_error_hint "put the bucket policy of $BUCKET (s3:PutBucketPolicy)")"
    say "removed this cluster's statement from the bucket policy of $BUCKET; $count other statement(s) stay"
  fi
  while [[ $removed =~ arn:[a-z-]+:s3:::$BUCKET/([A-Za-z0-9._/-]+) ]]; do
    key=${BASH_REMATCH[1]}
    removed=${removed#*"${BASH_REMATCH[0]}"}
    [[ " $keys " == *" $key "* ]] && continue
    keys="$keys $key"
    aws_call s3api delete-object --bucket "$BUCKET" --key "$key" ||
      die "$(aws_error_hint "delete s3://$BUCKET/$key (s3:DeleteObject)")"
    say "deleted s3://$BUCKET/$key"
  done
}

# ---------------------------------------------------------------------------------------------
# Undo steps (run_undo calls them, last pushed first)

undo_delete_object() {
  aws_call s3api delete-object --bucket "$BUCKET" --key "$1" ||
    say "  FAILED: $(aws_error_hint "delete s3://$BUCKET/$1 (s3:DeleteObject)")"
}

undo_restore_object() {
  local key=${SAVED_KEYS[$1]} type=${SAVED_TYPES[$1]}
  local typed=(--content-type "$type")
  [[ $type != None ]] || typed=()
  say "  putting back the previous s3://$BUCKET/$key"
  aws_call s3api put-object --bucket "$BUCKET" --key "$key" --body "$WORK/previous.$1" ${typed[@]+"${typed[@]}"} ||
    say "  FAILED: $(aws_error_hint "put back s3://$BUCKET/$key (s3:PutObject)")"
}

undo_restore_bucket_policy() {
  if [[ -z $OLD_BUCKET_POLICY ]]; then
    say "  deleting the bucket policy of $BUCKET (it had none)"
    aws_call s3api delete-bucket-policy --bucket "$BUCKET" ||
      say "  FAILED: $(aws_error_hint "delete the bucket policy of $BUCKET (s3:DeleteBucketPolicy)")"
  else
    say "  putting back the previous bucket policy of $BUCKET"
    aws_call s3api put-bucket-policy --bucket "$BUCKET" --policy "$OLD_BUCKET_POLICY" ||
      say "  FAILED: $(aws_error_hint "put back the bucket policy of $BUCKET (s3:PutBucketPolicy)")"
  fi
}

undo_restore_access_block() {
  if [[ -z $OLD_ACCESS_BLOCK ]]; then
    say "  deleting the public access block of $BUCKET (it had none)"
    aws_call s3api delete-public-access-block --bucket "$BUCKET" ||
      say "  FAILED: $(aws_error_hint "delete the public access block of $BUCKET (s3:PutBucketPublicAccessBlock)")"
  else
    say "  putting back the previous public access block of $BUCKET"
    aws_call s3api put-public-access-block --bucket "$BUCKET" \
      --public-access-block-configuration "$(access_block_flags "$OLD_ACCESS_BLOCK")" ||
      say "  FAILED: $(aws_error_hint "put back the public access block of $BUCKET (s3:PutBucketPublicAccessBlock)")"
  fi
}

undo_delete_bucket() {
  say "  deleting bucket $BUCKET"
  aws_call s3api delete-bucket --bucket "$BUCKET" || say "  FAILED: $(aws_error_hint "delete bucket $BUCKET (s3:DeleteBucket)")"
}
