// Mutation testing of the generator's TypeScript with Stryker: each mutant is one small change to
// src/ (a flipped comparison, an emptied string, a removed condition...) and the unit tests must
// notice it. `npm run test:mutations:ts` runs it over the files whose every rule the unit tests
// pin (validation, config, options, the atomic writer) and fails below `thresholds.break`;
// `npx stryker run` alone mutates all of src/ (imports/ is generated code and is left out).
// Score and threshold: docs/mutation-testing.md.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.config.ts' },
  mutate: ['src/**/*.ts'],
  // The machine the suite runs on is shared; one test process at a time.
  concurrency: 1,
  coverageAnalysis: 'perTest',
  // No typescript-checker: it would run tsc for every mutant. A mutant that does not type-check
  // still has to be killed by a test here, which only makes the score stricter.
  reporters: ['clear-text', 'progress', 'json'],
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
  // A static mutant (a module-level value such as the option table) can only be tested by running
  // every test file again (15 s each here); they are left out of the score, see the doc.
  ignoreStatic: true,
  timeoutMS: 20_000,
  // 85: the first run's 86.44 less a margin for timeouts under load (docs/mutation-testing.md).
  thresholds: { high: 90, low: 85, break: 85 },
};
