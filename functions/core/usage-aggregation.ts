import { LATENCY_BUCKET_FIELDS, type LatencyBucketField } from "./latency-histogram";
import {
  type AggregateKey,
  addCounters,
  aggregateKeysOf,
  COUNTER_FIELDS,
  countersOf,
  emptyCounters,
  MAX_BILLED_TOKENS_PER_REQUEST,
  type UsageCounters,
  type UsageRecord,
} from "./usage";

/**
 * The aggregator's arithmetic: the stream of the usage table delivers packs of records (at
 * least once, in order per stream shard); each pack becomes aggregate deltas, applied in
 * transactions that also move the shard's checkpoint, so a pack redelivered changes nothing.
 */

/** Caps on what one record may add: anything above is a container's mistake, not usage. */
export const MAX_TOKENS_PER_RECORD = MAX_BILLED_TOKENS_PER_REQUEST;
export const MAX_BYTES_PER_RECORD = 10_000_000_000;
export const MAX_LATENCY_MS_PER_RECORD = 86_400_000;
/** 1e13 nano-units: 10,000 currency units for one request, far above any real one; keeps sums exact. */
export const MAX_COST_NANO_PER_RECORD = 10_000_000_000_000;

/** Each counter's cap; the request counts are 0 or 1 for one record. */
const CAPS: Readonly<Record<keyof UsageCounters, number>> = {
  requests: 1,
  errors: 1,
  refused: 1,
  shadowRequests: 1,
  shadowErrors: 1,
  bytesIn: MAX_BYTES_PER_RECORD,
  bytesOut: MAX_BYTES_PER_RECORD,
  latencyMs: MAX_LATENCY_MS_PER_RECORD,
  shadowLatencyMs: MAX_LATENCY_MS_PER_RECORD,
  inputTokens: MAX_TOKENS_PER_RECORD,
  outputTokens: MAX_TOKENS_PER_RECORD,
  shadowInputTokens: MAX_TOKENS_PER_RECORD,
  shadowOutputTokens: MAX_TOKENS_PER_RECORD,
  costNano: MAX_COST_NANO_PER_RECORD,
  ...(Object.fromEntries(LATENCY_BUCKET_FIELDS.map((f) => [f, 1])) as Record<LatencyBucketField, number>),
};

/**
 * The counters a record adds, with every count that is not a non-negative safe integer under
 * its cap left out (and named in `rejected`): a negative or 1e200 count from a container must
 * neither lower a bill nor poison an aggregate. The request itself still counts.
 */
export function checkedCountersOf(r: UsageRecord): { readonly counters: UsageCounters; readonly rejected: string[] } {
  const raw = countersOf(r);
  const counters = emptyCounters();
  const rejected: string[] = [];
  for (const f of COUNTER_FIELDS) {
    const v = raw[f];
    if (Number.isSafeInteger(v) && v >= 0 && v <= CAPS[f]) counters[f] = v;
    else rejected.push(f);
  }
  return { counters, rejected };
}

/** One change a transaction makes: counters added to an aggregate, or records counted as applied. */
export type Delta =
  | { readonly kind: "aggregate"; readonly key: AggregateKey; readonly counters: UsageCounters }
  | { readonly kind: "applied"; readonly tenantId: string; readonly minute: string; readonly records: number };

const deltaId = (d: Delta) =>
  d.kind === "aggregate"
    ? JSON.stringify(["a", d.key.tenantId, d.key.granularity, d.key.period, d.key.model, d.key.version, d.key.keyId, d.key.shard])
    : JSON.stringify(["f", d.tenantId, d.minute]);

function merge(into: Map<string, Delta>, d: Delta): void {
  const id = deltaId(d);
  const prev = into.get(id);
  if (!prev) into.set(id, d.kind === "aggregate" ? { ...d, counters: addCounters(emptyCounters(), d.counters) } : d);
  else if (prev.kind === "aggregate" && d.kind === "aggregate") addCounters(prev.counters, d.counters);
  else if (prev.kind === "applied" && d.kind === "applied") into.set(id, { ...prev, records: prev.records + d.records });
}

/** A pack as the stream delivered it. */
export interface StreamPack {
  /** The stream record's sequence number (digits). */
  readonly sequenceNumber: string;
  readonly tenantId: string;
  /** The minute of the pack's first record (its freshness count). */
  readonly minute: string;
  readonly records: readonly UsageRecord[];
}

/** A step of the stream: part `part` of a pack's deltas. Positions sort in stream order. */
export interface StreamUnit {
  readonly position: string;
  readonly sequenceNumber: string;
  readonly deltas: readonly Delta[];
}

/** Sequence numbers are decimal strings of varying length: padded, they compare as strings. */
export const positionOf = (sequenceNumber: string, part: number) => `${sequenceNumber.padStart(40, "0")}#${String(part).padStart(4, "0")}`;

/**
 * The units of one pack: its deltas (aggregates on `shard`, then its applied count) merged,
 * in a fixed order, cut into parts of at most `maxDeltas` so that any one pack fits in
 * transactions. Deterministic, so a redelivered pack yields the same units and positions.
 */
export function unitsOfPack(
  pack: StreamPack,
  shard: number,
  maxDeltas: number,
  onRejected: (r: UsageRecord, fields: string[]) => void,
): StreamUnit[] {
  const merged = new Map<string, Delta>();
  for (const r of pack.records) {
    const { counters, rejected } = checkedCountersOf(r);
    if (rejected.length > 0) onRejected(r, rejected);
    for (const key of aggregateKeysOf(r)) merge(merged, { kind: "aggregate", key: { ...key, shard }, counters });
  }
  const deltas = [...merged].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, d]) => d);
  deltas.push({ kind: "applied", tenantId: pack.tenantId, minute: pack.minute, records: pack.records.length });
  const units: StreamUnit[] = [];
  for (let i = 0; i < deltas.length; i += maxDeltas) {
    units.push({
      position: positionOf(pack.sequenceNumber, units.length),
      sequenceNumber: pack.sequenceNumber,
      deltas: deltas.slice(i, i + maxDeltas),
    });
  }
  return units;
}

/** One transaction: deltas merged over consecutive units, and the position it moves the checkpoint to. */
export interface AggregateTransaction {
  readonly position: string;
  /** The sequence number of its first unit's stream record (where a retry must resume). */
  readonly firstSequenceNumber: string;
  /** The sequence number of its last unit's stream record, as the stream spells it. */
  readonly lastSequenceNumber: string;
  readonly deltas: readonly Delta[];
}

/**
 * Groups consecutive units into transactions of at most `maxDeltas` merged deltas each, in
 * stream order. Every transaction ends at a unit boundary, so the checkpoint only ever holds a
 * position after which nothing has been applied.
 */
export function planTransactions(units: readonly StreamUnit[], maxDeltas: number): AggregateTransaction[] {
  const out: AggregateTransaction[] = [];
  let current = new Map<string, Delta>();
  let first: StreamUnit | undefined;
  let last: StreamUnit | undefined;
  const flush = () => {
    if (first && last)
      out.push({
        position: last.position,
        firstSequenceNumber: first.sequenceNumber,
        lastSequenceNumber: last.sequenceNumber,
        deltas: [...current.values()],
      });
    current = new Map();
    first = last = undefined;
  };
  for (const u of units) {
    const added = u.deltas.filter((d) => !current.has(deltaId(d))).length;
    if (current.size + added > maxDeltas) flush();
    for (const d of u.deltas) merge(current, d);
    first ??= u;
    last = u;
  }
  flush();
  return out;
}
