// Errors that say which system and which step failed, so that a failed CronJob run can
// be diagnosed from its last log line.

export class StepFailure extends Error {
  constructor(step: string, cause: unknown) {
    super(`${step}: ${reasonOf(cause)}`, { cause });
    this.name = 'StepFailure';
  }
}

/** Runs `work`; a failure is rethrown as a StepFailure naming `step`. */
export async function asStep<T>(step: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw error instanceof StepFailure ? error : new StepFailure(step, error);
  }
}

/** A readable reason, also for errors with an empty message (Node's AggregateError on connect). */
export function reasonOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  if (error.message) return error.message;
  if (error instanceof AggregateError && error.errors.length > 0) {
    return [...new Set(error.errors.map(reasonOf))].join('; ');
  }
  return typeof code === 'string' ? code : error.name;
}
