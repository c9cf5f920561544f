import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import {
  ECR_REGISTRY_HOST,
  ecrPublicAvailable,
  FIPS_REGION,
  IAM_ROLE_ARN,
  ownRegistryHost,
  splitRegistry,
} from '../../src/validation/aws.js';

/** The table the refresh script's is_role_arn is run through too (test/e2e/web-identity.test.ts). */
const ROLE_ARNS = JSON.parse(readFileSync(new URL('../fixtures/role-arns.json', import.meta.url), 'utf8')) as {
  valid: string[];
  invalid: string[];
};

/** Run through the refresh script's registry_region and registry_host too (test/e2e/partitions.test.ts). */
const REGISTRY_HOSTS = JSON.parse(
  readFileSync(new URL('../fixtures/registry-hosts.json', import.meta.url), 'utf8'),
) as {
  valid: string[];
  invalid: string[];
  own: { region: string; fips: boolean; host: string }[];
};

describe('ECR_REGISTRY_HOST', () => {
  test.each(REGISTRY_HOSTS.valid)('accepts %s', (host) => {
    expect(ECR_REGISTRY_HOST.test(host)).toBe(true);
  });
  test.each(REGISTRY_HOSTS.invalid)('rejects "%s"', (host) => {
    expect(ECR_REGISTRY_HOST.test(host)).toBe(false);
  });
  test.each(REGISTRY_HOSTS.own)('accepts the own registry host the script builds in $region', ({ host }) => {
    expect(ECR_REGISTRY_HOST.test(host)).toBe(true);
  });
});

describe('ownRegistryHost', () => {
  test.each(REGISTRY_HOSTS.own)(
    'builds $host in $region (FIPS $fips), as the script does',
    ({ region, fips, host }) => {
      expect(ownRegistryHost('123456789012', region, fips)).toBe(host);
    },
  );
});

describe('FIPS_REGION', () => {
  test.each(['us-east-1', 'us-east-2', 'us-west-1', 'us-west-2', 'us-gov-east-1', 'us-gov-west-1'])(
    'accepts %s, where ECR has FIPS endpoints',
    (region) => expect(FIPS_REGION.test(region)).toBe(true),
  );
  test.each(['eu-west-1', 'ca-central-1', 'cn-north-1'])('rejects %s', (region) => {
    expect(FIPS_REGION.test(region)).toBe(false);
  });
});

describe('IAM_ROLE_ARN', () => {
  test.each(ROLE_ARNS.valid)('accepts %s', (arn) => {
    expect(IAM_ROLE_ARN.test(arn)).toBe(true);
  });
  test.each(ROLE_ARNS.invalid)('rejects "%s"', (arn) => {
    expect(IAM_ROLE_ARN.test(arn)).toBe(false);
  });
});

describe('splitRegistry', () => {
  test('a bare host has no role', () => {
    expect(splitRegistry('210987654321.dkr.ecr.eu-west-1.amazonaws.com')).toEqual({
      host: '210987654321.dkr.ecr.eu-west-1.amazonaws.com',
    });
  });
  test('HOST=ROLE_ARN splits at the first "="; the role part may hold "=" itself', () => {
    expect(splitRegistry('210987654321.dkr.ecr.eu-west-1.amazonaws.com=arn:aws:iam::210987654321:role/a=b')).toEqual({
      host: '210987654321.dkr.ecr.eu-west-1.amazonaws.com',
      roleArn: 'arn:aws:iam::210987654321:role/a=b',
    });
  });
});

/** Run through the refresh script's ecr_public_available too (test/e2e/ecr-public.test.ts). */
const ECR_PUBLIC_REGIONS = JSON.parse(
  readFileSync(new URL('../fixtures/ecr-public-regions.json', import.meta.url), 'utf8'),
) as { available: string[]; refused: string[] };

describe('ecrPublicAvailable', () => {
  test.each(ECR_PUBLIC_REGIONS.available)('allows ECR Public from %s (partition aws)', (region) => {
    expect(ecrPublicAvailable(region)).toBe(true);
  });
  test.each(ECR_PUBLIC_REGIONS.refused)('refuses ECR Public from %s (partition aws-cn or aws-us-gov)', (region) => {
    expect(ecrPublicAvailable(region)).toBe(false);
  });
});
