// Subject identifiers (RFC 9493) as Shared Signals events carry them in `sub_id`: read, checked
// and reduced to what the kit can match a session or a user by. Pure: no lookup here.

/** A simple subject identifier the kit reads; any other format is kept as `other` (matched to nothing). */
export type SimpleSubject =
  | { format: "iss_sub"; iss: string; sub: string }
  | { format: "email"; email: string }
  | { format: "opaque"; id: string }
  | { format: "other"; name: string };

/** A `sub_id`: one simple identifier, or SSF's `complex` one (its `user` and `session` members read, the others named). */
export type SubjectId =
  | SimpleSubject
  | { format: "complex"; user?: SimpleSubject; session?: SimpleSubject; others: string[] }
  | { format: "aliases"; count: number };

/** Longest identifier value read (a provider's ids are far shorter; the registry hashes long ones). */
const MAX_VALUE = 1024;
/** Members of a complex subject the kit reads. */
const READ_MEMBERS: ReadonlySet<string> = new Set(["user", "session"]);

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const value = (v: unknown): v is string => typeof v === "string" && v.length > 0 && v.length <= MAX_VALUE;

/** One simple identifier (never `complex` or `aliases`), or a reason it is not one. */
function simple(raw: unknown): SimpleSubject | string {
  if (!isRecord(raw) || typeof raw.format !== "string" || raw.format.length === 0 || raw.format.length > 64) return "a subject identifier is an object with a format";
  switch (raw.format) {
    case "iss_sub":
      return value(raw.iss) && value(raw.sub) ? { format: "iss_sub", iss: raw.iss, sub: raw.sub } : "iss_sub needs iss and sub";
    case "email":
      return value(raw.email) ? { format: "email", email: raw.email } : "email needs email";
    case "opaque":
      return value(raw.id) ? { format: "opaque", id: raw.id } : "opaque needs id";
    case "complex":
    case "aliases":
      return `${raw.format} cannot be nested`;
    default:
      return { format: "other", name: raw.format };
  }
}

/**
 * Read a `sub_id` claim: a simple identifier (RFC 9493: `iss_sub`, `email`, `opaque` read; any
 * other format kept by name), `complex` (SSF 1.0: members are simple identifiers, at least one),
 * or `aliases` (counted, matched to nothing). A malformed one gives a reason instead.
 *
 * @example
 * ```ts
 * parseSubject({ format: "complex", user: { format: "iss_sub", iss, sub }, session: { format: "opaque", id: sid } });
 * // { format: "complex", user: { format: "iss_sub", iss, sub }, session: { format: "opaque", id: sid }, others: [] }
 * ```
 */
export function parseSubject(raw: unknown): SubjectId | string {
  if (!isRecord(raw)) return "sub_id must be a subject identifier object";
  if (raw.format === "complex") {
    const members = Object.entries(raw).filter(([name]) => name !== "format");
    if (members.length === 0 || members.length > 16) return "a complex subject has 1 to 16 members";
    const out: { format: "complex"; user?: SimpleSubject; session?: SimpleSubject; others: string[] } = { format: "complex", others: [] };
    for (const [name, member] of members) {
      const parsed = simple(member);
      if (typeof parsed === "string") return `complex member ${JSON.stringify(name.slice(0, 32))}: ${parsed}`;
      if (name === "user" || name === "session") out[name] = parsed;
      else out.others.push(name.slice(0, 64));
    }
    return out;
  }
  if (raw.format === "aliases") {
    const list = raw.identifiers;
    if (!Array.isArray(list) || list.length === 0 || list.length > 16) return "aliases needs 1 to 16 identifiers";
    for (const item of list) if (typeof simple(item) === "string") return "aliases holds only simple identifiers";
    return { format: "aliases", count: list.length };
  }
  return simple(raw);
}

/**
 * The members of a complex subject the kit cannot act on that the transmitter's metadata calls
 * critical (`critical_subject_members`): SSF 1.0 says such an event must be discarded. A member
 * the kit reads but whose format it does not (a `session` as a `jwt_id`) counts as not processed.
 *
 * @example
 * ```ts
 * unprocessedCritical(parseSubject(raw) as SubjectId, ["tenant"]); // ["tenant"] when the subject names a tenant
 * ```
 */
export function unprocessedCritical(subject: SubjectId, critical: readonly string[]): string[] {
  if (subject.format !== "complex" || critical.length === 0) return [];
  const named = [...subject.others, ...(subject.user ? ["user"] : []), ...(subject.session ? ["session"] : [])];
  return named.filter((name) => critical.includes(name) && (!READ_MEMBERS.has(name) || subject[name as "user" | "session"]?.format === "other"));
}

/** Deep equality of two JSON values (an event's `subject` against `sub_id`). */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => sameJson(x, b[i]));
  if (!isRecord(a) || !isRecord(b)) return false;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && sameJson(a[k], b[k]));
}

/** A short description of a subject for logs and the event log: its format, never its values. */
export function describeSubject(subject: SubjectId): string {
  if (subject.format === "complex") return `complex(${[subject.user ? `user:${subject.user.format}` : "", subject.session ? `session:${subject.session.format}` : "", ...subject.others].filter(Boolean).join(",")})`;
  if (subject.format === "other") return subject.name.replace(/[^\w.:-]/g, "?");
  return subject.format;
}
