// The one thing the Prisma stores say differently per database: retention's batches (purge). Each
// batch picks at most `limit` keys in index order and then changes the rows with those keys.
// Written `"key" IN (SELECT … ORDER BY … LIMIT n)`, SQLite looks each key up by the primary key,
// but PostgreSQL plans the IN as a join whose other side may be a sequential scan of the whole
// table (it was: 14 ms a batch at 77,000 sessions, growing with the table). `"key" =
// ANY(ARRAY(SELECT … LIMIT n))` makes the batch's keys an InitPlan, run once, then primary-key
// lookups; SQLite has no arrays. So the stores ask which one they talk to, once per client.

/** The part of the stores' `RawSqlClient` (prisma-sessions.ts) the probe uses; not imported, so no cycle. */
interface RawQueries {
  $queryRaw<T = unknown>(query: TemplateStringsArray, ...values: unknown[]): PromiseLike<T>;
}

const answers = new WeakMap<RawQueries, Promise<boolean>>();

/**
 * Whether `db` is PostgreSQL, asked once per client: `SELECT TRUE` answers a boolean there and `1`
 * in SQLite (which stores booleans as integers). Any other answer means "not PostgreSQL": the
 * portable form, which is correct everywhere.
 *
 * @example
 * ```ts
 * const batch = (await isPostgres(db)) ? postgresForm() : portableForm();
 * ```
 */
export function isPostgres(db: RawQueries): Promise<boolean> {
  let answer = answers.get(db);
  if (!answer) {
    answer = Promise.resolve(db.$queryRaw<Array<{ t: unknown }>>`SELECT TRUE AS "t"`).then((rows) => typeof rows[0]?.t === "boolean");
    // A failed probe (the database was down) is asked again next time, not remembered.
    const asked = answer;
    asked.catch(() => answers.get(db) === asked && answers.delete(db));
    answers.set(db, answer);
  }
  return answer;
}
