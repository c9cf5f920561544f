import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import {
  isLabelSelector,
  labelSelectorRequirements,
  splitTenant,
  tenantMatchKind,
} from '../../src/validation/kubernetes.js';

describe('labelSelectorRequirements: kubectl -l syntax as matchExpressions', () => {
  test.each([
    ['ecr-pull=enabled', [{ key: 'ecr-pull', operator: 'In', values: ['enabled'] }]],
    ['ecr-pull==enabled', [{ key: 'ecr-pull', operator: 'In', values: ['enabled'] }]],
    ['ecr-pull != disabled', [{ key: 'ecr-pull', operator: 'NotIn', values: ['disabled'] }]],
    ['example.com/team', [{ key: 'example.com/team', operator: 'Exists' }]],
    ['!no-ecr', [{ key: 'no-ecr', operator: 'DoesNotExist' }]],
    [
      'env in (prod, staging),tier notin (batch)',
      [
        { key: 'env', operator: 'In', values: ['prod', 'staging'] },
        { key: 'tier', operator: 'NotIn', values: ['batch'] },
      ],
    ],
    ['empty=', [{ key: 'empty', operator: 'In', values: [''] }]],
  ])('%s', (selector, expected) => {
    expect(isLabelSelector(selector)).toBe(true);
    expect(labelSelectorRequirements(selector)).toEqual(expected);
  });
});

describe('isLabelSelector', () => {
  test.each(['env in (prod', 'env in prod)', 'a b', 'a=b=c'])('rejects "%s"', (selector) => {
    expect(isLabelSelector(selector)).toBe(false);
  });
});

/** Run through the refresh script's tenant_match_kind too (test/e2e/tenants.test.ts). */
const TENANT_MATCHES = JSON.parse(
  readFileSync(new URL('../fixtures/tenant-matches.json', import.meta.url), 'utf8'),
) as { glob: string[]; selector: string[]; neither: string[] };

describe('tenantMatchKind', () => {
  test.each(TENANT_MATCHES.glob)('reads "%s" as a namespace glob', (match) => {
    expect(tenantMatchKind(match)).toBe('glob');
  });
  test.each(TENANT_MATCHES.selector)('reads "%s" as a label selector', (match) => {
    expect(tenantMatchKind(match)).toBe('selector');
  });
  test.each(TENANT_MATCHES.neither)('reads "%s" as neither', (match) => {
    expect(tenantMatchKind(match)).toBeUndefined();
  });
});

describe('splitTenant', () => {
  test('splits at the last "=arn:", so a selector keeps its own "="', () => {
    expect(splitTenant('team=a=arn:aws:iam::123456789012:role/a')).toEqual({
      match: 'team=a',
      roleArn: 'arn:aws:iam::123456789012:role/a',
    });
  });
  test('an entry that starts with "=arn:" has an empty MATCH (refused as neither glob nor selector)', () => {
    expect(splitTenant('=arn:aws:iam::123456789012:role/a')).toEqual({
      match: '',
      roleArn: 'arn:aws:iam::123456789012:role/a',
    });
    expect(tenantMatchKind('')).toBeUndefined();
  });
  test('finds no role without "=arn:"', () => {
    expect(splitTenant('team=a')).toBeUndefined();
  });
});
