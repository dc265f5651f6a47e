import { LIMIT_PK_PREFIX } from "../contract/usage-keys";
import type { CounterBounds, CounterKey, Counts, LeaseReturn, QuotaLease, SpendKey, TatStep } from "../core/limits/cells";

/**
 * Limit state in the usage table, one partition per subject (the trailing `#` keeps
 * `acme` from matching `acme-corp`):
 *   pk LIMIT#<subject>#   sk RATE             tatUs   GCRA theoretical arrival time, epoch µs
 *                         sk TPM#<yyyy-mm-ddThh:mm>  tokens  tokens of a UTC minute (tokensPerMinute)
 *                         sk MONTH#<yyyy-mm>  requests, tokens   counters of a UTC month
 *                                             leases  map lease id → { r, t, from, until, reclaim }:
 *                                                     quota leases, counted in requests/tokens until they end
 *                         sk CONC             leases  map requestId → lease end, epoch ms
 *                         sk BUDGET#<yyyy-mm> spentNano  money spent and reserved in a UTC month, nano-units
 *                                                        (monthlyBudget; its own item, apart from the leased quotas)
 *                                             alert<t>   epoch ms threshold t (percent) was announced: one
 *                                                        attribute per threshold, claimed by one writer
 * Every item carries `expiresAt` (the table's TTL attribute) so idle subjects clean up.
 * Each limit is one item, so every check is a single conditional write.
 */
export const limitPk = (subject: string) => `${LIMIT_PK_PREFIX}${subject}#`;
export const RATE_SK = "RATE";
export const CONC_SK = "CONC";
export const monthSk = (period: string) => `MONTH#${period}`;
export const minuteSk = (period: string) => `TPM#${period}`;
export const budgetSk = (period: string) => `BUDGET#${period}`;

export interface ItemKey {
  readonly pk: string;
  readonly sk: string;
}

export const limitKey = (subject: string, sk: string): ItemKey => ({ pk: limitPk(subject), sk });

const DAY_S = 86_400;

/** GCRA, TAT at or ahead of now and within the tolerance: take the next cell. */
export function rateAdvance(table: string, subject: string, s: TatStep) {
  return {
    TableName: table,
    Key: limitKey(subject, RATE_SK),
    UpdateExpression: "SET tatUs = tatUs + :interval, expiresAt = :expiresAt",
    ConditionExpression: "tatUs BETWEEN :now AND :latest",
    ExpressionAttributeValues: {
      ":interval": s.intervalUs,
      ":now": s.nowUs,
      ":latest": s.latestUs,
      // The item is useless once its TAT has passed; keep a day of margin for clock skew.
      ":expiresAt": Math.ceil((s.latestUs + s.intervalUs) / 1e6) + DAY_S,
    },
  };
}

/** GCRA, no TAT or one in the past (an idle subject): restart from now. */
export function rateRestart(table: string, subject: string, s: TatStep) {
  return {
    TableName: table,
    Key: limitKey(subject, RATE_SK),
    UpdateExpression: "SET tatUs = :tat, expiresAt = :expiresAt",
    ConditionExpression: "attribute_not_exists(tatUs) OR tatUs < :now",
    ExpressionAttributeValues: { ":tat": s.nowUs + s.intervalUs, ":now": s.nowUs, ":expiresAt": Math.ceil(s.nowUs / 1e6) + DAY_S },
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

/** The item of a minute's or a month's counter. */
export const counterKey = (k: CounterKey): ItemKey => limitKey(k.subject, k.window === "minute" ? minuteSk(k.period) : monthSk(k.period));

/**
 * Adds deltas to a counter when it is within bounds, creating it on its first charge; one
 * conditional write, so a month's request and tokens never need compensating against each other.
 */
export function counterCharge(table: string, key: CounterKey, delta: Partial<Counts>, bounds: CounterBounds, expiresAt: number) {
  const adds: string[] = [];
  const conditions: string[] = [];
  const values: Record<string, number> = { ":expiresAt": expiresAt };
  for (const field of ["requests", "tokens"] as const) {
    const d = delta[field];
    if (d === undefined) continue;
    adds.push(`${field} :${field}`);
    values[`:${field}`] = d;
  }
  if (bounds.requestsBelow !== undefined) {
    conditions.push("(attribute_not_exists(requests) OR requests < :requestsBelow)");
    values[":requestsBelow"] = bounds.requestsBelow;
  }
  if (bounds.tokensAtMost !== undefined) {
    conditions.push("(attribute_not_exists(tokens) OR tokens <= :tokensAtMost)");
    values[":tokensAtMost"] = bounds.tokensAtMost;
  }
  return {
    TableName: table,
    Key: counterKey(key),
    UpdateExpression: `SET expiresAt = :expiresAt${adds.length > 0 ? ` ADD ${adds.join(", ")}` : ""}`,
    ...(conditions.length > 0 ? { ConditionExpression: conditions.join(" AND ") } : {}),
    ExpressionAttributeValues: values,
  };
}

/** A quota lease as stored on a month's counter (short names: every write is billed by the item's size). */
const leaseEntry = (l: QuotaLease) => ({ r: l.requests, t: l.tokens, from: l.fromMs, until: l.untilMs, reclaim: l.reclaimAtMs });

/**
 * Takes a quota lease and, with `back`, ends the previous one, in one conditional write:
 * within `bounds` before the write, and `back` still recorded. `mapExists` picks the form: a
 * nested SET needs the map, and the map cannot be created in the same expression.
 */
export function quotaLeaseTake(
  table: string,
  key: CounterKey,
  lease: QuotaLease,
  bounds: CounterBounds,
  back: LeaseReturn | undefined,
  mapExists: boolean,
  expiresAt: number,
) {
  const charge = counterCharge(
    table,
    key,
    { requests: lease.requests - (back?.requests ?? 0), tokens: lease.tokens - (back?.tokens ?? 0) },
    bounds,
    expiresAt,
  );
  const values: Record<string, unknown> = { ...charge.ExpressionAttributeValues };
  const names: Record<string, string> = {};
  const conditions = charge.ConditionExpression ? [charge.ConditionExpression] : [];
  let set: string;
  if (mapExists) {
    names["#new"] = lease.id;
    values[":lease"] = leaseEntry(lease);
    set = "leases.#new = :lease";
    conditions.push("attribute_exists(leases)");
  } else {
    values[":leases"] = { [lease.id]: leaseEntry(lease) };
    set = "leases = :leases";
    conditions.push("attribute_not_exists(leases)");
  }
  let remove = "";
  if (back) {
    names["#old"] = back.id;
    remove = " REMOVE leases.#old";
    conditions.push("attribute_exists(leases.#old)");
  }
  const [setClause, addClause] = charge.UpdateExpression.split(" ADD ");
  return {
    TableName: table,
    Key: charge.Key,
    UpdateExpression: `${setClause}, ${set}${remove}${addClause ? ` ADD ${addClause}` : ""}`,
    ConditionExpression: conditions.join(" AND "),
    ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
    ExpressionAttributeValues: values,
  };
}

/** Ends a quota lease: gives back its unused part and removes it, if still recorded (and still ending at `untilMs`). */
export function quotaLeaseEnd(table: string, key: CounterKey, back: LeaseReturn) {
  const values: Record<string, number> = { ":r": -back.requests, ":t": -back.tokens };
  let condition = "attribute_exists(leases.#id)";
  if (back.untilMs !== undefined) {
    condition += " AND leases.#id.#until = :until";
    values[":until"] = back.untilMs;
  }
  return {
    TableName: table,
    Key: counterKey(key),
    UpdateExpression: "REMOVE leases.#id ADD requests :r, tokens :t",
    ConditionExpression: condition,
    ExpressionAttributeNames: { "#id": back.id, ...(back.untilMs !== undefined ? { "#until": "until" } : {}) },
    ExpressionAttributeValues: values,
  };
}

/** The quota leases of a MONTH item; empty when it has none. */
export function quotaLeasesOf(item: Record<string, unknown> | undefined): QuotaLease[] {
  const leases = item?.leases;
  if (typeof leases !== "object" || leases === null) return [];
  return Object.entries(leases as Record<string, Record<string, unknown>>).map(([id, e]) => ({
    id,
    requests: num(e?.r) ?? 0,
    tokens: num(e?.t) ?? 0,
    fromMs: num(e?.from) ?? 0,
    untilMs: num(e?.until) ?? 0,
    reclaimAtMs: num(e?.reclaim) ?? 0,
  }));
}

/** Adds deltas to a counter (token settlement, cancellation). Never creates the item. */
export function counterAdjust(table: string, key: CounterKey, delta: Partial<Counts>) {
  const adds: string[] = [];
  const values: Record<string, number> = {};
  for (const field of ["requests", "tokens"] as const) {
    const d = delta[field];
    if (!d) continue;
    adds.push(`${field} :${field}`);
    values[`:${field}`] = d;
  }
  if (adds.length === 0) return undefined;
  return {
    TableName: table,
    Key: counterKey(key),
    UpdateExpression: `ADD ${adds.join(", ")}`,
    ConditionExpression: "attribute_exists(pk)",
    ExpressionAttributeValues: values,
  };
}

/** The item of a month's budget spend. */
export const spendKey = (k: SpendKey): ItemKey => limitKey(k.subject, budgetSk(k.period));

/** The attribute recording that threshold `t` (percent) was announced. */
export const alertAttribute = (t: number) => `alert${t}`;

/**
 * Reserves against a budget: adds `delta` if nothing is spent yet or the spend is at most
 * `ceiling` (spent + reserve ≤ budget), creating the item. One conditional write.
 */
export function spendReserve(table: string, key: SpendKey, delta: number, ceiling: number, expiresAt: number) {
  return {
    TableName: table,
    Key: spendKey(key),
    UpdateExpression: "SET expiresAt = :expiresAt ADD spentNano :d",
    ConditionExpression: "attribute_not_exists(spentNano) OR spentNano <= :ceiling",
    ExpressionAttributeValues: { ":d": delta, ":ceiling": ceiling, ":expiresAt": expiresAt },
  };
}

/** Settles or gives back a reservation: adds `delta` unconditionally (creating the item if TTL removed it). */
export function spendAdjust(table: string, key: SpendKey, delta: number, expiresAt: number) {
  return {
    TableName: table,
    Key: spendKey(key),
    UpdateExpression: "SET expiresAt = if_not_exists(expiresAt, :expiresAt) ADD spentNano :d",
    ExpressionAttributeValues: { ":d": delta, ":expiresAt": expiresAt },
  };
}

/** Claims the announcement of threshold `t`: only the first writer's condition holds. */
export function alertClaim(table: string, key: SpendKey, t: number, atMs: number, expiresAt: number) {
  return {
    TableName: table,
    Key: spendKey(key),
    UpdateExpression: "SET #a = :at, expiresAt = if_not_exists(expiresAt, :expiresAt)",
    ConditionExpression: "attribute_not_exists(#a)",
    ExpressionAttributeNames: { "#a": alertAttribute(t) },
    ExpressionAttributeValues: { ":at": atMs, ":expiresAt": expiresAt },
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
