// Times for people: a date in UTC (the same on the server and in the browser, so server and client
// renders agree) and how far from now.

const FORMAT = new Intl.DateTimeFormat("en-GB", { timeZone: "UTC", dateStyle: "medium", timeStyle: "short" });

/** Seconds or an ISO string as "22 Nov 2026, 14:05 UTC"; null for anything else. */
export function formatTime(value: unknown): string | null {
  const ms = typeof value === "number" ? value * 1000 : typeof value === "string" && /^\d{4}-\d\d-\d\dT/.test(value) ? Date.parse(value) : NaN;
  return Number.isFinite(ms) ? `${FORMAT.format(new Date(ms))} UTC` : null;
}

/** "in 29 days", "3 min ago", from seconds since the epoch. */
export function fromNow(seconds: number, nowMs: number = Date.now()): string {
  const delta = Math.round(seconds - nowMs / 1000);
  const abs = Math.abs(delta);
  const [n, unit] = abs < 90 ? [abs, "s"] : abs < 5400 ? [Math.round(abs / 60), "min"] : abs < 129_600 ? [Math.round(abs / 3600), "h"] : [Math.round(abs / 86_400), abs < 172_800 ? "day" : "days"];
  return delta >= 0 ? `in ${n} ${unit}` : `${n} ${unit} ago`;
}

/** Minutes are enough for lists of sessions and events (coarse on purpose): "just now", "3 min ago", "2 h ago". */
export function ago(seconds: number, nowMs: number = Date.now()): string {
  const minutes = Math.max(0, Math.round((nowMs / 1000 - seconds) / 60));
  return minutes < 1 ? "just now" : minutes < 60 ? `${minutes} min ago` : `${Math.round(minutes / 60)} h ago`;
}
