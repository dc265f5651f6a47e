import { argumentError } from "./errors";

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** `90s`, `10m`, `12h`, `30d` (or a bare number of seconds) → seconds. */
export function parseDuration(text: string, flag: string): number {
  const m = /^(\d+)([smhd]?)$/.exec(text.trim());
  if (!m?.[1]) throw argumentError(`${flag} must be a duration like 90s, 10m, 12h or 30d, got '${text}'`);
  return Number(m[1]) * (UNIT_SECONDS[m[2] || "s"] ?? 1);
}

/** An ISO date-time, or a duration from now (`30d`) → ISO date-time. */
export function parseExpiry(text: string, flag: string, now = Date.now()): string {
  if (/^\d+[smhd]$/.test(text.trim())) return new Date(now + parseDuration(text, flag) * 1000).toISOString();
  const t = Date.parse(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(t))
    throw argumentError(`${flag} must be an ISO date-time or a duration like 30d, got '${text}'`);
  return new Date(t).toISOString();
}

/** `a,b , c` → ["a","b","c"]. */
export const parseList = (text: string) =>
  text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
