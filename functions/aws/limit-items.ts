import type { GcraParams } from "../core/limits/math";

/**
 * Limit state in the usage table, one partition per subject (the trailing `#` keeps
 * `acme` from matching `acme-corp`):
 *   pk LIMIT#<subject>#   sk RATE             tatUs   GCRA theoretical arrival time, epoch µs
 *                         sk TPM#<yyyy-mm-ddThh:mm>  tokens  tokens of a UTC minute (tokensPerMinute)
 *                         sk MONTH#<yyyy-mm>  requests, tokens   counters of a UTC month
 *                         sk CONC             leases  map requestId → lease end, epoch ms
 * Every item carries `expiresAt` (the table's TTL attribute) so idle subjects clean up.
 * Each limit is one item, so every check is a single conditional write.
 */
export const limitPk = (subject: string) => `LIMIT#${subject}#`;
export const RATE_SK = "RATE";
export const CONC_SK = "CONC";
export const monthSk = (period: string) => `MONTH#${period}`;
export const minuteSk = (period: string) => `TPM#${period}`;

export interface ItemKey {
  readonly pk: string;
  readonly sk: string;
}

export const limitKey = (subject: string, sk: string): ItemKey => ({ pk: limitPk(subject), sk });

const DAY_S = 86_400;

/** GCRA, TAT at or ahead of now and within the tolerance: take the next cell. */
export function rateAdvance(table: string, subject: string, nowUs: number, p: GcraParams) {
  return {
    TableName: table,
    Key: limitKey(subject, RATE_SK),
    UpdateExpression: "SET tatUs = tatUs + :interval, expiresAt = :expiresAt",
    ConditionExpression: "tatUs BETWEEN :now AND :latest",
    ExpressionAttributeValues: {
      ":interval": p.intervalUs,
      ":now": nowUs,
      ":latest": nowUs + p.toleranceUs,
      // The item is useless once its TAT has passed; keep a day of margin for clock skew.
      ":expiresAt": Math.ceil((nowUs + p.toleranceUs + p.intervalUs) / 1e6) + DAY_S,
    },
  };
}

/** GCRA, no TAT or one in the past (an idle subject): restart from now. */
export function rateRestart(table: string, subject: string, nowUs: number, p: GcraParams) {
  return {
    TableName: table,
    Key: limitKey(subject, RATE_SK),
    UpdateExpression: "SET tatUs = :tat, expiresAt = :expiresAt",
    ConditionExpression: "attribute_not_exists(tatUs) OR tatUs < :now",
    ExpressionAttributeValues: { ":tat": nowUs + p.intervalUs, ":now": nowUs, ":expiresAt": Math.ceil(nowUs / 1e6) + DAY_S },
  };
}

/** Gives one cell back (a cancelled admission). Never creates the item. */
export function rateRefund(table: string, subject: string, intervalUs: number) {
  return {
    TableName: table,
    Key: limitKey(subject, RATE_SK),
    UpdateExpression: "SET tatUs = tatUs - :interval",
    ConditionExpression: "attribute_exists(tatUs)",
    ExpressionAttributeValues: { ":interval": intervalUs },
  };
}

export interface MonthCharge {
  /** Monthly request quota, when one applies. */
  readonly requestQuota?: number;
  /** When a token quota applies: tokens to reserve, and the most already used that still admits. */
  readonly tokens?: { readonly reserve: number; readonly ceiling: number };
  readonly expiresAt: number;
}

/**
 * One conditional write charges the request and reserves the tokens of a month together, so
 * the two quotas never need compensating against each other.
 */
export function monthCharge(table: string, subject: string, period: string, c: MonthCharge) {
  const adds: string[] = [];
  const conditions: string[] = [];
  const values: Record<string, number> = { ":expiresAt": c.expiresAt };
  if (c.requestQuota !== undefined) {
    adds.push("requests :one");
    conditions.push("(attribute_not_exists(requests) OR requests < :requestQuota)");
    values[":one"] = 1;
    values[":requestQuota"] = c.requestQuota;
  }
  if (c.tokens) {
    adds.push("tokens :reserve");
    conditions.push("(attribute_not_exists(tokens) OR tokens <= :tokenCeiling)");
    values[":reserve"] = c.tokens.reserve;
    values[":tokenCeiling"] = c.tokens.ceiling;
  }
  return {
    TableName: table,
    Key: limitKey(subject, monthSk(period)),
    UpdateExpression: `SET expiresAt = :expiresAt ADD ${adds.join(", ")}`,
    ConditionExpression: conditions.join(" AND "),
    ExpressionAttributeValues: values,
  };
}

/**
 * Reserves tokens in a minute's window when no more than `ceiling` are used yet (see
 * tokenCeiling); creates the window's item on its first charge.
 */
export function minuteCharge(table: string, subject: string, period: string, c: { reserve: number; ceiling: number; expiresAt: number }) {
  return {
    TableName: table,
    Key: limitKey(subject, minuteSk(period)),
    UpdateExpression: "SET expiresAt = :expiresAt ADD tokens :reserve",
    ConditionExpression: "attribute_not_exists(tokens) OR tokens <= :ceiling",
    ExpressionAttributeValues: { ":expiresAt": c.expiresAt, ":reserve": c.reserve, ":ceiling": c.ceiling },
  };
}

/** Adds a delta to a minute's tokens (settlement, cancellation). Never creates the item. */
export function minuteAdjust(table: string, subject: string, period: string, tokens: number) {
  if (tokens === 0) return undefined;
  return {
    TableName: table,
    Key: limitKey(subject, minuteSk(period)),
    UpdateExpression: "ADD tokens :tokens",
    ConditionExpression: "attribute_exists(pk)",
    ExpressionAttributeValues: { ":tokens": tokens },
  };
}

/** Adds deltas to a month's counters (token settlement, cancellation). Never creates the item. */
export function monthAdjust(table: string, subject: string, period: string, delta: { requests?: number; tokens?: number }) {
  const adds: string[] = [];
  const values: Record<string, number> = {};
  if (delta.requests) {
    adds.push("requests :requests");
    values[":requests"] = delta.requests;
  }
  if (delta.tokens) {
    adds.push("tokens :tokens");
    values[":tokens"] = delta.tokens;
  }
  if (adds.length === 0) return undefined;
  return {
    TableName: table,
    Key: limitKey(subject, monthSk(period)),
    UpdateExpression: `ADD ${adds.join(", ")}`,
    ConditionExpression: "attribute_exists(pk)",
    ExpressionAttributeValues: values,
  };
}

/** Takes a slot when fewer than `max` leases are held (expired ones included: see leaseReclaim). */
export function leaseAdd(table: string, subject: string, requestId: string, until: number, max: number) {
  return {
    TableName: table,
    Key: limitKey(subject, CONC_SK),
    UpdateExpression: "SET leases.#id = :until, expiresAt = :expiresAt",
    ConditionExpression: "size(leases) < :max",
    ExpressionAttributeNames: { "#id": requestId },
    ExpressionAttributeValues: { ":until": until, ":max": max, ":expiresAt": Math.ceil(until / 1000) + DAY_S },
  };
}

/** The first slot ever (or after TTL removed the item): a nested SET needs the map to exist. */
export function leaseCreate(table: string, subject: string, requestId: string, until: number) {
  return {
    TableName: table,
    Key: limitKey(subject, CONC_SK),
    UpdateExpression: "SET leases = :leases, expiresAt = :expiresAt",
    ConditionExpression: "attribute_not_exists(leases)",
    ExpressionAttributeValues: { ":leases": { [requestId]: until }, ":expiresAt": Math.ceil(until / 1000) + DAY_S },
  };
}

/** Frees a slot; conditional so a repeated release neither fails nor touches a missing map. */
export function leaseRelease(table: string, subject: string, requestId: string) {
  return {
    TableName: table,
    Key: limitKey(subject, CONC_SK),
    UpdateExpression: "REMOVE leases.#id",
    ConditionExpression: "attribute_exists(leases.#id)",
    ExpressionAttributeNames: { "#id": requestId },
  };
}

/**
 * Removes leases whose holders never released them (a crashed process): only if each still
 * holds the end time we saw, so a lease is never removed on a stale read.
 */
export function leaseReclaim(table: string, subject: string, expired: readonly (readonly [string, number])[]) {
  const names: Record<string, string> = {};
  const values: Record<string, number> = {};
  const conditions: string[] = [];
  expired.forEach(([id, until], i) => {
    names[`#e${i}`] = id;
    values[`:e${i}`] = until;
    conditions.push(`leases.#e${i} = :e${i}`);
  });
  return {
    TableName: table,
    Key: limitKey(subject, CONC_SK),
    UpdateExpression: `REMOVE ${expired.map((_, i) => `leases.#e${i}`).join(", ")}`,
    ConditionExpression: conditions.join(" AND "),
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}

/** A number attribute, whether the document client unmarshalled it or not. */
export function num(v: unknown): number | undefined {
  if (typeof v === "number") return v;
  if (typeof v === "object" && v !== null && "N" in v) return Number((v as { N: string }).N);
  return undefined;
}

/** The error's item is raw AttributeValues (the document client does not unmarshall errors). */
export function unwrap(item: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(item)) {
    const av = v as { M?: Record<string, unknown> } | undefined;
    out[k] = av && typeof av === "object" && "M" in av && av.M ? unwrap(av.M) : (num(v) ?? v);
  }
  return out;
}

/** The concurrency leases of a CONC item as [requestId, lease end ms] pairs; undefined when the map is missing. */
export function leasesOf(item: Record<string, unknown> | undefined): [string, number][] | undefined {
  const leases = item?.leases;
  if (typeof leases !== "object" || leases === null) return undefined;
  return Object.entries(leases as Record<string, unknown>).map(([id, end]) => [id, num(end) ?? 0]);
}
