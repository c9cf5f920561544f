import { describe, expect, test } from 'vitest';
import { durationText, refreshIncomplete } from '../../src/status/diagnose-bundle.js';
import { imageHost } from '../../src/status/diagnose-pods.js';
import { exclusionReason, globToRegExp, runSettings, selectorMatches } from '../../src/status/refresh-settings.js';

describe('globToRegExp: the script matches namespaces with shell case patterns', () => {
  test.each([
    ['team-*', 'team-a', true],
    ['team-*', 'teams', false],
    ['kube-?', 'kube-x', true],
    ['kube-?', 'kube-xy', false],
    ['ns-[ab]', 'ns-b', true],
    ['ns-[!ab]', 'ns-b', false],
    ['ns-[!ab]', 'ns-c', true],
    ['a.b', 'axb', false],
    ['exact', 'exact', true],
  ])('%s against %s: %s', (glob, name, expected) => {
    expect(globToRegExp(glob).test(name)).toBe(expected);
  });
});

describe('imageHost', () => {
  test.each([
    ['123456789012.dkr.ecr.eu-west-1.amazonaws.com/web:1', '123456789012.dkr.ecr.eu-west-1.amazonaws.com'],
    [
      '123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/web@sha256:abc',
      '123456789012.dkr.ecr.eu-west-1.amazonaws.com',
    ],
    ['registry.local:5000/web', 'registry.local'],
    ['nginx:1.27', null],
    ['library/nginx', null],
  ])('%s -> %s', (image, host) => {
    expect(imageHost(image)).toBe(host);
  });
});

describe('durationText', () => {
  test.each([
    [0, '0m'],
    [45 * 60_000, '45m'],
    [6.5 * 3_600_000, '6h30m'],
    [13 * 3_600_000, '13h'],
    [51 * 3_600_000, '2d3h'],
  ])('%i ms -> %s', (ms, text) => {
    expect(durationText(ms)).toBe(text);
  });
});

describe("refreshIncomplete reads the counts of the refresh script's Event", () => {
  // The message as ecr-events.sh writes it (README, "The refresh script").
  const message =
    '1 of 2 selected namespace(s) not refreshed: 0 failed, 1 conflicted (another field manager owns the Secret; see --adopt-existing-secrets); 1 updated, 0 skipped. The pod log has one result=failed or result=conflict line per namespace.';

  test('counts and the sum of repeats', () => {
    const event = { metadata: { name: 'e1' }, involvedObject: {}, reason: 'RefreshIncomplete', message, count: 2 };
    expect(refreshIncomplete([event, { ...event, metadata: { name: 'e2' }, count: 1 }])).toEqual({
      events: 3,
      selected: 2,
      failed: 0,
      conflicted: 1,
      updated: 1,
      skipped: 0,
      message,
    });
  });

  test('a message of another shape keeps the text, counts null', () => {
    const event = { metadata: { name: 'e1' }, involvedObject: {}, reason: 'RefreshIncomplete', message: 'other' };
    expect(refreshIncomplete([event])).toMatchObject({ events: 1, failed: null, message: 'other' });
  });

  test('no events: null', () => {
    expect(refreshIncomplete([])).toBeNull();
  });
});

describe('selectorMatches judges labels as the API server judges a -l selector', () => {
  test.each([
    [{ team: 'b' }, 'team=b', true],
    [{ team: 'a' }, 'team=b', false],
    [{}, 'team!=b', true],
    [{ team: 'b' }, 'team!=b', false],
    [{ team: 'a' }, 'team!=b', true],
    [{}, 'team,!legacy', false],
    [{ env: 'prod' }, 'env in (prod,staging)', true],
    [{ env: 'dev' }, 'env in (prod,staging)', false],
    [{ team: 'b' }, 'team,!legacy', true],
    [{ team: 'b', legacy: '' }, 'team,!legacy', false],
  ])('%o against %s: %s', (labels, selector, expected) => {
    expect(selectorMatches(labels, selector)).toBe(expected);
  });
});

describe('exclusionReason with ECR_TENANTS_ONLY', () => {
  const cronJob = (env: Record<string, string>) =>
    ({
      spec: {
        jobTemplate: {
          spec: {
            template: {
              spec: { containers: [{ env: Object.entries(env).map(([name, value]) => ({ name, value })) }] },
            },
          },
        },
      },
    }) as unknown as Parameters<typeof runSettings>[0];
  const settings = runSettings(
    cronJob({
      ECR_TENANTS: 'team-a-*=arn:aws:iam::111111111111:role/a\nteam=b=arn:aws:iam::222222222222:role/b',
      ECR_TENANTS_ONLY: 'true',
    }),
  );
  const namespace = (name: string, labels: Record<string, string> = {}) => ({ metadata: { name, labels } });

  test('a namespace a glob or a selector tenant matches is a target', () => {
    expect(exclusionReason(namespace('team-a-1'), settings)).toBeNull();
    expect(exclusionReason(namespace('other', { team: 'b' }), settings)).toBeNull();
  });
  test("a namespace no tenant matches is left out, with the script's reason", () => {
    expect(exclusionReason(namespace('other', { team: 'c' }), settings)).toBe(
      'no tenant matches it, and ECR_TENANTS_ONLY is true',
    );
  });
  test('without ECR_TENANTS_ONLY every namespace stays a target', () => {
    const plain = runSettings(cronJob({ ECR_TENANTS: 'team-a-*=arn:aws:iam::111111111111:role/a' }));
    expect(exclusionReason(namespace('other'), plain)).toBeNull();
  });
});
