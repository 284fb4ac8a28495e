// Routing and validation of one message pulled from MARKET_TICKS or MARKET_BARS: either a
// typed tick/bar with the batch ("lane") it belongs to, or the reason it goes to the DLQ.
// Routing is on `source`, as in the seed: polygon_websocket ticks → PostgreSQL;
// live_aggregated bars (live lane) and polygon_historical bars (historical lane) → ClickHouse.
// A message is this pipeline's only on its own subject (names) and for its own tenant
// (contracts/tenancy.ts); anything else is a dead letter, never a row of the wrong tenant.
import type { z } from 'zod';
import {
  BAR_SOURCES,
  TICK_SOURCE,
  barSchema,
  parseTick,
  type Bar,
  type Tick,
} from '../contracts/messages.js';
import { SEED_NAMES, type PipelineNames } from '../contracts/subjects.js';
import { foreignTenant } from '../contracts/tenancy.js';
import { describeIssues } from '../contracts/zod-issues.js';

export type StreamKind = 'ticks' | 'bars';
export type Lane = 'live' | 'historical';

export const DEAD_LETTER_REASONS = [
  'invalid_json',
  'schema_violation',
  'unknown_timeframe',
  'wrong_source',
  'subject_mismatch',
  'wrong_tenant',
  'rejected_by_database',
] as const;
export type DeadLetterReason = (typeof DEAD_LETTER_REASONS)[number];

export type Routed =
  | { ok: true; kind: 'tick'; lane: 'live'; tick: Tick }
  | { ok: true; kind: 'bar'; lane: Lane; bar: Bar }
  | { ok: false; reason: DeadLetterReason; detail: string };

const decoder = new TextDecoder();

/**
 * Latest time a row may carry: ClickHouse's DateTime64 ends in 2299 and silently clamps
 * beyond it, and JavaScript dates end in 275760; anything this far out is a bad message.
 */
export const MAX_TIMESTAMP_MS = Date.UTC(2200, 0, 1);

type RouteNames = Pick<PipelineNames, 'tickSubject' | 'barSubject' | 'tenantId' | 'pipelineId'>;

export function routeMessage(
  stream: StreamKind,
  subject: string,
  data: Uint8Array,
  names: RouteNames = SEED_NAMES,
): Routed {
  let payload: unknown;
  try {
    payload = JSON.parse(decoder.decode(data));
  } catch (error) {
    return { ok: false, reason: 'invalid_json', detail: (error as Error).message };
  }
  const source = (payload as { source?: unknown } | null)?.source;
  if (stream === 'ticks' && (BAR_SOURCES as readonly unknown[]).includes(source)) {
    return { ok: false, reason: 'wrong_source', detail: `a bar (source ${String(source)}) on ${subject}` };
  }
  if (stream === 'bars' && source === TICK_SOURCE) {
    return { ok: false, reason: 'wrong_source', detail: `a tick (source ${TICK_SOURCE}) on ${subject}` };
  }
  return stream === 'ticks' ? routeTick(subject, payload, names) : routeBar(subject, payload, names);
}

function wrongTenant(carried: string | undefined, names: RouteNames): Routed | undefined {
  const detail = foreignTenant(names, carried);
  return detail === undefined ? undefined : { ok: false, reason: 'wrong_tenant', detail };
}

function routeTick(subject: string, payload: unknown, names: RouteNames): Routed {
  const parsed = parseTick(payload);
  if (!parsed.success) return invalid(parsed.error);
  if (parsed.data.timestamp_ms >= MAX_TIMESTAMP_MS) return outOfRange(parsed.data.timestamp_ms);
  const expected = names.tickSubject(parsed.data.symbol);
  if (subject !== expected) {
    return {
      ok: false,
      reason: 'subject_mismatch',
      detail: `${subject} carries ${parsed.data.symbol} (expected ${expected})`,
    };
  }
  return (
    wrongTenant(parsed.data.tenant_id, names) ?? { ok: true, kind: 'tick', lane: 'live', tick: parsed.data }
  );
}

function routeBar(subject: string, payload: unknown, names: RouteNames): Routed {
  const parsed = barSchema.safeParse(payload);
  if (!parsed.success) return invalid(parsed.error);
  const bar = parsed.data;
  if (bar.timestamp_ms >= MAX_TIMESTAMP_MS) return outOfRange(bar.timestamp_ms);
  const expected = names.barSubject(bar.symbol, bar.timeframe);
  if (subject !== expected) {
    return {
      ok: false,
      reason: 'subject_mismatch',
      detail: `${subject} carries ${bar.symbol} ${bar.timeframe} (expected ${expected})`,
    };
  }
  return (
    wrongTenant(bar.tenant_id, names) ?? {
      ok: true,
      kind: 'bar',
      lane: bar.source === 'polygon_historical' ? 'historical' : 'live',
      bar,
    }
  );
}

function outOfRange(timestampMs: number): Routed {
  return {
    ok: false,
    reason: 'schema_violation',
    detail: `timestamp_ms: ${timestampMs} is after the year 2200`,
  };
}

function invalid(error: z.ZodError): Routed {
  const detail = describeIssues(error);
  const reason = error.issues.some((i) => i.path[0] === 'timeframe')
    ? 'unknown_timeframe'
    : 'schema_violation';
  return { ok: false, reason, detail };
}
