/**
 * Merge a patch into stored data: `null` deletes a key, `undefined` leaves it.
 *
 * @example
 * ```ts
 * mergePatch({ a: 1, b: 2 }, { a: null, c: 3 }); // { b: 2, c: 3 }
 * ```
 */
export function mergePatch(base: Record<string, unknown> | null, patch: Record<string, unknown>): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...base };
  for (const [name, value] of Object.entries(patch)) {
    if (value === null) delete merged[name];
    else if (value !== undefined) merged[name] = value;
  }
  return merged;
}
