// Kept apart from retry.ts, which loads p-retry: the modules that take a step load nothing heavy.

/**
 * Runs one step of a run on the database (`what` names it in the log): the run's steps outside its
 * windows go through one, which retries a lost or refused connection as a window does.
 */
export type DatabaseStep = <T>(what: string, work: () => Promise<T>) => Promise<T>;

/** A DatabaseStep that only runs the step (callers without a run around them). */
export const directly: DatabaseStep = (_what, work) => work();
