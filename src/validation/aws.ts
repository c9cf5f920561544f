/** AWS region names: us-east-1, eu-central-2, us-gov-west-1, cn-north-1, ap-southeast-4, ... */
export const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;

/**
 * Regions where ECR has FIPS endpoints: the US ones (us-east-1/2, us-west-1/2, us-gov-east-1/west-1
 * in AWS's endpoint table today). The script's fips_region applies the same rule.
 */
export const FIPS_REGION = /^us-/;

const ANY_REGION = '(?!cn-)[a-z]{2}(?:-[a-z]+)+-\\d+';
const US_REGION = 'us(?:-[a-z]+)+-\\d+';

/**
 * A private ECR registry host, as images are pulled by it: ACCOUNT.dkr.ecr.REGION.amazonaws.com
 * (aws, aws-us-gov), ACCOUNT.dkr.ecr.cn-REGION.amazonaws.com.cn (aws-cn, and only there),
 * ACCOUNT.dkr.ecr-fips.us-REGION.amazonaws.com (FIPS), and the dual-stack
 * ACCOUNT.dkr-ecr[-fips].REGION.on.aws. The refresh script applies the same rule (registry_region
 * in ecr-settings.sh); one table (test/fixtures/registry-hosts.json) is run through both, so a host
 * synth accepts is never refused at run time.
 */
export const ECR_REGISTRY_HOST = new RegExp(
  `^\\d{12}\\.(?:${[
    'dkr\\.ecr\\.cn-[a-z]+-\\d+\\.amazonaws\\.com\\.cn',
    `dkr\\.ecr\\.${ANY_REGION}\\.amazonaws\\.com`,
    `dkr\\.ecr-fips\\.${US_REGION}\\.amazonaws\\.com`,
    `dkr-ecr\\.${ANY_REGION}\\.on\\.aws`,
    `dkr-ecr-fips\\.${US_REGION}\\.on\\.aws`,
  ].join('|')})$`,
);

/**
 * Turns what people paste (an image reference, a proxyEndpoint URL) into the bare registry host
 * the check above wants, so the error can say "did you mean ...".
 */
export function registryHostFrom(value: string): string {
  const host = value
    .trim()
    .replace(/^https?:\/\//, '')
    .replace(/\/.*$/, '')
    .toLowerCase();
  // China regions have their own domain: a .amazonaws.com host there never authenticates.
  return /\.cn-[a-z]+-\d+\.amazonaws\.com$/.test(host) ? `${host}.cn` : host;
}

/**
 * An IAM role ARN of any partition: arn:aws|aws-cn|aws-us-gov:iam::ACCOUNT:role/[PATH/]NAME.
 * The refresh script applies the same rule (is_role_arn in ecr-settings.sh); one table of
 * examples (test/fixtures/role-arns.json) is run through both.
 */
export const IAM_ROLE_ARN = /^arn:aws(?:-cn|-us-gov)?:iam::\d{12}:role\/(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;

/** `HOST` or `HOST=ROLE_ARN`, as --registry takes it. */
export function splitRegistry(value: string): { host: string; roleArn?: string } {
  const at = value.indexOf('=');
  return at < 0 ? { host: value } : { host: value.slice(0, at), roleArn: value.slice(at + 1) };
}

/**
 * The own registry's host, as the refresh script's registry_host builds it (one table,
 * test/fixtures/registry-hosts.json "own", is run through both): .amazonaws.com.cn in China,
 * dkr.ecr-fips with FIPS endpoints, dkr.ecr otherwise.
 */
export function ownRegistryHost(account: string, region: string, fips: boolean): string {
  if (region.startsWith('cn-')) return `${account}.dkr.ecr.${region}.amazonaws.com.cn`;
  if (fips) return `${account}.dkr.ecr-fips.${region}.amazonaws.com`;
  return `${account}.dkr.ecr.${region}.amazonaws.com`;
}

/** The AWS partitions a role ARN here can name; each is isolated, credentials never cross. */
export type Partition = 'aws' | 'aws-cn' | 'aws-us-gov';

/** The partition a region belongs to: cn-* is aws-cn, us-gov-* is aws-us-gov, the rest aws. */
export function regionPartition(region: string): Partition {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/** ECR Public's registry host, which --ecr-public adds to the pull secret. */
export const ECR_PUBLIC_HOST = 'public.ecr.aws';

/**
 * Whether ECR Public can be used from a region's credentials: it exists only in the aws partition
 * (us-east-1), not in aws-cn or aws-us-gov. The refresh script applies the same rule
 * (ecr_public_available in ecr-public.sh); one table (test/fixtures/ecr-public-regions.json) is
 * run through both.
 */
export function ecrPublicAvailable(region: string): boolean {
  return regionPartition(region) === 'aws';
}

/** The partition of a role ARN (`arn:PARTITION:iam::...`), or undefined if it is not one. */
export function arnPartition(arn: string): Partition | undefined {
  if (!IAM_ROLE_ARN.test(arn)) return undefined;
  return arn.split(':')[1] as Partition;
}

/** The region of a valid ECR registry host (ACCOUNT.dkr.ecr.REGION.amazonaws.com and the other forms). */
export function registryRegion(host: string): string | undefined {
  return /^\d{12}\.dkr[.-]ecr(?:-fips)?\.([a-z0-9-]+)\./.exec(host)?.[1];
}
