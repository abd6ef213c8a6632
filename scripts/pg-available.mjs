// Exit 0 when a PostgreSQL server answers at TEST_POSTGRES_URL (default: local, user postgres).
import process from "node:process";
import pg from "pg";

const url = process.env.TEST_POSTGRES_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
try {
  await client.connect();
  await client.query("SELECT 1");
  await client.end();
  process.exit(0);
} catch {
  process.exit(1);
}
