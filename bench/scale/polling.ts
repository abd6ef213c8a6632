import type { Table } from "../report";
import type { Context } from "./context";
export async function pollingTable(_ctx: Context, _n: unknown, _log: (line: string) => void): Promise<Table> {
  throw new Error("not yet");
}
