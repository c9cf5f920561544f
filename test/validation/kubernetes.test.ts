import { describe, expect, test } from 'vitest';
import { isLabelSelector, labelSelectorRequirements } from '../../src/validation/kubernetes.js';

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
