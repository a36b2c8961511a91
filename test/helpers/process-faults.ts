/**
 * Counts what would crash a real xiaoer process: an uncaught exception or an unhandled promise
 * rejection anywhere in this process (tests that run the App in the test process). While the
 * watch is on, Node does not exit for them; they are collected for the test to assert on.
 */
export interface ProcessFaults {
  readonly uncaught: Error[];
  readonly unhandled: unknown[];
  readonly count: number;
  /** Removes the listeners; the collected faults stay readable. */
  stop(): void;
}

export function watchProcessFaults(): ProcessFaults {
  const uncaught: Error[] = [];
  const unhandled: unknown[] = [];
  const onUncaught = (err: Error) => uncaught.push(err);
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onUnhandled);
  return {
    uncaught,
    unhandled,
    get count() {
      return uncaught.length + unhandled.length;
    },
    stop() {
      process.off('uncaughtException', onUncaught);
      process.off('unhandledRejection', onUnhandled);
    },
  };
}

/** The first few faults, for a failure message or a report. */
export function describeFaults(faults: ProcessFaults, max = 3): string {
  const all = [...faults.uncaught, ...faults.unhandled];
  return all
    .slice(0, max)
    .map((f) => (f instanceof Error ? (f.stack ?? f.message) : String(f)))
    .join('\n---\n');
}
