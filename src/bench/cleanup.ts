// Everything the bench must undo (scratch databases, temp files, the simulator, the embedded server),
// registered as it is created, so an interrupted run (Ctrl-C) cleans up as well as a finished one.

const pending: (() => Promise<void>)[] = [];

/** Registers `undo`; the returned function runs it now (once) and unregisters it. */
export function onCleanup(undo: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  const once = () => (done ??= undo());
  pending.push(once);
  return async () => {
    const index = pending.indexOf(once);
    if (index >= 0) pending.splice(index, 1);
    await once();
  };
}

/** Runs every registered step, newest first; failures are reported, not thrown. */
export async function cleanupAll(report: (message: string) => void): Promise<void> {
  while (pending.length > 0) {
    const step = pending.pop()!;
    await step().catch((error: unknown) => report(`cleanup failed: ${error instanceof Error ? error.message : String(error)}`));
  }
}
