import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { ECR_REGISTRY_HOST, IAM_ROLE_ARN, splitRegistry } from '../../src/validation/aws.js';

/** The table the refresh script's is_role_arn is run through too (test/e2e/web-identity.test.ts). */
const ROLE_ARNS = JSON.parse(readFileSync(new URL('../fixtures/role-arns.json', import.meta.url), 'utf8')) as {
  valid: string[];
  invalid: string[];
};

/** Run through the refresh script's registry_region too (test/e2e/web-identity.test.ts). */
const REGISTRY_HOSTS = JSON.parse(
  readFileSync(new URL('../fixtures/registry-hosts.json', import.meta.url), 'utf8'),
) as {
  valid: string[];
  invalid: string[];
};

describe('ECR_REGISTRY_HOST', () => {
  test.each(REGISTRY_HOSTS.valid)('accepts %s', (host) => {
    expect(ECR_REGISTRY_HOST.test(host)).toBe(true);
  });
  test.each(REGISTRY_HOSTS.invalid)('rejects "%s"', (host) => {
    expect(ECR_REGISTRY_HOST.test(host)).toBe(false);
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
