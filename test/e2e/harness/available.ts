import { inject } from 'vitest';
import { PROVIDE_KEY, type E2eContext, type E2eAvailability } from './context.js';

function providedContext(): E2eContext | undefined {
  try {
    return inject(PROVIDE_KEY);
  } catch {
    return undefined;
  }
}

/** The run's context from globalSetup, or undefined when the file ran under another config. */
export const context: E2eContext | undefined = providedContext();

/** Whether the prerequisites are present; `describe.skipIf(!e2eAvailable.ok)` the suites. */
export const e2eAvailable: E2eAvailability = context?.available ?? {
  ok: false,
  why: 'the e2e globalSetup did not run: use `npx vitest run -c vitest.e2e.config.ts`',
};

/** The context of a run whose prerequisites are present; throws with the reason otherwise. */
export function requireContext(): E2eContext & {
  cluster: NonNullable<E2eContext['cluster']>;
  tools: NonNullable<E2eContext['tools']>;
} {
  const ctx = context;
  if (!ctx?.available.ok || ctx.cluster === null || ctx.tools === null) {
    throw new Error(`e2e prerequisites missing: ${e2eAvailable.why}`);
  }
  return { ...ctx, cluster: ctx.cluster, tools: ctx.tools };
}
