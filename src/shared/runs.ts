// Coalesced runs of a poll: one at a time, and a call made while one runs gets one more run after it.

/**
 * One run of `work` at a time. A call while a run is in flight does not join it: that run began before whatever
 * made the caller ask (a setting changed, a job was stopped) and may have read the old state. Every such call shares
 * one more run, started when the one in flight ends. Never rejects: a failure goes to `onError`.
 */
export function joiningRuns(work: () => Promise<void>, onError: (error: unknown) => void): () => Promise<void> {
  let inFlight: Promise<void> | undefined;
  let next: Promise<void> | undefined;
  const start = (): Promise<void> =>
    (inFlight = work()
      .catch(onError)
      .finally(() => (inFlight = undefined)));
  return () => {
    if (!inFlight) return start();
    next ??= inFlight.then(() => {
      next = undefined;
      return inFlight ?? start();
    });
    return next;
  };
}
