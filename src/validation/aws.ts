/** AWS region names: us-east-1, eu-central-2, us-gov-west-1, cn-north-1, ap-southeast-4, ... */
export const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;

/** A private ECR registry host; China regions end in .amazonaws.com.cn. */
export const ECR_REGISTRY_HOST = /^\d{12}\.dkr\.ecr\.[a-z]{2}(-[a-z]+)+-\d+\.amazonaws\.com(\.cn)?$/;

/**
 * Turns what people paste (an image reference, a proxyEndpoint URL) into the bare registry host
 * the check above wants, so the error can say "did you mean ...".
 */
export function registryHostFrom(value: string): string {
  return value
    .trim()
    .replace(/^https?:\/\//, '')
    .replace(/\/.*$/, '')
    .toLowerCase();
}
