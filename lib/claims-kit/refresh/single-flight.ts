/**
 * Concurrent calls with the same key share one run: the first starts it, the others await its
 * promise. The entry is gone once the run settles, so the next call after that starts afresh.
 *
 * @example
 * ```ts
 * const flight = singleFlight<string>();
 * await Promise.all([flight("acct-1", refresh), flight("acct-1", refresh)]); // one refresh
 * ```
 */
export function singleFlight<T>(): ((key: string, run: () => Promise<T>) => Promise<T>) & { size(): number } {
  const running = new Map<string, Promise<T>>();
  const call = (key: string, run: () => Promise<T>): Promise<T> => {
    const existing = running.get(key);
    if (existing) return existing;
    const promise = run().finally(() => running.delete(key));
    running.set(key, promise);
    return promise;
  };
  return Object.assign(call, { size: () => running.size });
}
