# ecr-public.sh - the ECR Public token (ECR_PUBLIC=true): one more entry in the pull secret,
# public.ecr.aws, so that pulls from it are authenticated (anonymous ones are rate-limited harder).
# Sourced by refresh-ecr-credentials.sh; defines functions only.
#
# ECR Public is a service of the aws partition alone. Its token comes from ecr-public
# GetAuthorizationToken in us-east-1, where AWS's documentation asks for it (IAM:
# ecr-public:GetAuthorizationToken and sts:GetServiceBearerToken), always with the base
# credentials: a role of a --registry does not apply to it. In $token_sources it is the source
# "public=".
# shellcheck shell=sh

readonly ECR_PUBLIC_HOST=public.ecr.aws
readonly ECR_PUBLIC_REGION=us-east-1

# ecr_public_available REGION: whether ECR Public can be reached from REGION's partition: not from
# aws-cn (cn-*) nor aws-us-gov (us-gov-*), whose credentials AWS does not accept there. The
# generator applies the same rule (ecrPublicAvailable in src/validation/aws.ts); one table
# (test/fixtures/ecr-public-regions.json) is run through both.
ecr_public_available() {
  case $1 in
    cn-* | us-gov-*) return 1 ;;
  esac
  return 0
}

# ecr_public_api_url: the ECR Public API endpoint, chosen as the aws CLI chooses it:
# AWS_ENDPOINT_URL_ECR_PUBLIC, else AWS_ENDPOINT_URL, else botocore's endpoint for us-east-1. (botocore's
# endpoints.json lists no FIPS endpoint for ecr-public, hence read_settings refuses
# AWS_USE_FIPS_ENDPOINT=true with it; dual-stack goes through the aws CLI, see curl_signs.)
ecr_public_api_url() {
  if [ -n "${AWS_ENDPOINT_URL_ECR_PUBLIC:-}" ]; then
    printf '%s\n' "${AWS_ENDPOINT_URL_ECR_PUBLIC%/}"
  elif [ -n "${AWS_ENDPOINT_URL:-}" ]; then
    printf '%s\n' "${AWS_ENDPOINT_URL%/}"
  else
    printf 'https://api.ecr-public.%s.amazonaws.com\n' "$ECR_PUBLIC_REGION"
  fi
}

# public_authorization_token: ECR Public's GetAuthorizationToken response (JSON) on stdout, its
# authorizationData one object (not a list, as ECR's). curl signs it (SigV4, service ecr-public,
# us-east-1) when it can sign ECR's, with the same retries; the aws CLI asks otherwise.
public_authorization_token() {
  if curl_signs; then
    signed_authorization_token "$(ecr_public_api_url)/" "$ECR_PUBLIC_REGION" ecr-public \
      SpencerFrontendService.GetAuthorizationToken
  else
    aws_cli ecr-public get-authorization-token --region "$ECR_PUBLIC_REGION" --output json
  fi
}
