import type { StandardResult, StandardSchemaV1 } from "./types";

/**
 * A Standard Schema from a plain validator, for the toolkit's built-in intents (so the toolkit
 * does not depend on a schema library). Apps use zod or any Standard Schema library instead.
 *
 * @example
 * ```ts
 * const input = schema((v) => typeof v === "string" ? { value: v } : { issue: "expected a string" });
 * ```
 */
export function schema<O, I = O>(validate: (value: unknown) => { value: O; issue?: undefined } | { issue: string; path?: string[] }): StandardSchemaV1<I, O> {
  return {
    "~standard": {
      version: 1,
      vendor: "claims-kit",
      validate(value: unknown): StandardResult<O> {
        const result = validate(value);
        return result.issue !== undefined ? { issues: [{ message: result.issue, path: result.path }] } : { value: result.value };
      },
    },
  };
}

/**
 * Validate an object with exactly the given string fields, each non-empty and at most `max` long.
 *
 * @example
 * ```ts
 * stringFields(["tenantId"], 128); // accepts { tenantId: "t1" } only
 * ```
 */
export function stringFields<const K extends string>(keys: readonly K[], max: number): StandardSchemaV1<Record<K, string>, Record<K, string>> {
  return schema<Record<K, string>>((v) => {
    if (typeof v !== "object" || v === null || Array.isArray(v) || Object.getPrototypeOf(v) !== Object.prototype) {
      return { issue: "expected an object" };
    }
    const record = v as Record<string, unknown>;
    const extra = Object.keys(record).find((key) => !(keys as readonly string[]).includes(key));
    if (extra !== undefined) return { issue: "unexpected key", path: [extra.slice(0, 40)] };
    for (const key of keys) {
      const field = record[key];
      if (typeof field !== "string" || field.length === 0 || field.length > max) {
        return { issue: `expected a string of 1 to ${max} characters`, path: [key] };
      }
    }
    return { value: record as Record<K, string> };
  });
}
