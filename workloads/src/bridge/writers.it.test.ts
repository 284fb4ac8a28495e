// The tick writer against a real PostgreSQL: the binary COPY fast path (values stored
// exactly), the fall-back to INSERT … ON CONFLICT DO NOTHING when a batch holds ticks
// already stored or a value the binary format cannot carry, and errors.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { migrateInto, tickCount } from '../../../test/support/bridge-harness.js';
import { createTestDatabases, type TestDatabases } from '../../../test/support/databases.js';
import { makeTick } from '../../../test/support/market-messages.js';
import { tickRow, type TickRow } from './rows.js';
import { tickWriter } from './writers.js';

const DAY = 86_400_000;
const t0 = Math.floor(Date.now() / DAY) * DAY - 2 * DAY;
const rowsAt = (from: number, n: number, tenant = 'system'): TickRow[] =>
  Array.from({ length: n }, (_, i) => tickRow(makeTick({ timestamp_ms: t0 + from + i }), tenant));

describe('tick writer', () => {
  let dbs: TestDatabases;

  beforeAll(async () => {
    dbs = await createTestDatabases();
    await migrateInto(dbs.env);
  }, 60_000);

  afterAll(async () => {
    await dbs?.drop();
  });

  it('copies new ticks, and writes a batch with stored ones again without doubling any', async () => {
    const query = jest.spyOn(dbs.pg, 'query');
    const inserts = () => query.mock.calls.filter(([sql]) => String(sql).includes('INSERT INTO')).length;
    const writer = tickWriter(dbs.pg);

    expect(await writer.write(rowsAt(0, 100))).toBe(100);
    expect(inserts()).toBe(0); // the COPY took it

    // 50 stored (a redelivery) and 50 new: the COPY is refused, the INSERT skips the 50.
    expect(await writer.write(rowsAt(50, 100))).toBe(50);
    expect(inserts()).toBe(1);
    expect(await tickCount(dbs)).toBe(150);

    // Right after duplicates the next batch goes to the INSERT; without duplicates there,
    // the one after is copied again.
    expect(await writer.write(rowsAt(150, 10))).toBe(10);
    expect(inserts()).toBe(2);
    expect(await writer.write(rowsAt(160, 10))).toBe(10);
    expect(inserts()).toBe(2);
    expect(await tickCount(dbs)).toBe(170);
    query.mockRestore();
  });

  it('stores every value exactly as the message carried it, through COPY and through INSERT alike', async () => {
    const ticks = [
      makeTick({ timestamp_ms: 946684799999, bid: 0.1 + 0.2, ask: 0.30000000000000016, mid: 1 / 3 }),
      makeTick({ timestamp_ms: t0 + 5000, bid: 151.2, ask: 151.223, mid: 151.2115, spread: 2.3 }),
      makeTick({ timestamp_ms: t0 + 5001, exchange: -7, ingested_at: '2024-02-29T23:59:59.999Z' }),
    ];
    const matching = async (tenant: string) => {
      let n = 0;
      for (const t of ticks) {
        n += await tickCount(
          dbs,
          `tenant_id = $1 AND time = $2::timestamptz AND symbol = $3 AND bid = $4::float8 AND ask = $5::float8
             AND mid = $6::float8 AND spread = $7::float8 AND timestamp_ms = $8 AND exchange = $9
             AND source = $10 AND ingested_at = $11::timestamptz`,
          [
            tenant,
            new Date(t.timestamp_ms).toISOString(),
            t.symbol,
            t.bid,
            t.ask,
            t.mid,
            t.spread,
            t.timestamp_ms,
            t.exchange,
            t.source,
            t.ingested_at,
          ],
        );
      }
      return n;
    };
    const query = jest.spyOn(dbs.pg, 'query');
    const copied = tickWriter(dbs.pg);
    expect(await copied.write(ticks.map((t) => tickRow(t, 'exact-copy')))).toBe(3);
    expect(query.mock.calls.some(([sql]) => String(sql).includes('INSERT INTO'))).toBe(false);
    query.mockRestore();
    expect(await matching('exact-copy')).toBe(3);

    // A receipt time the binary format does not take as given sends the batch to the INSERT.
    const offset = {
      ...tickRow(ticks[0]!, 'exact-insert'),
      timestamp_ms: t0 + 5002,
      ingested_at: '2026-01-05T12:00:00.25+02:00',
    };
    const inserted = tickWriter(dbs.pg);
    expect(await inserted.write([...ticks.map((t) => tickRow(t, 'exact-insert')), offset])).toBe(4);
    expect(await matching('exact-insert')).toBe(3);
    expect(
      await tickCount(dbs, "tenant_id = 'exact-insert' AND ingested_at = '2026-01-05T10:00:00.25Z'"),
    ).toBe(1);
  });

  it('stores a quote that appears twice in one batch once', async () => {
    const writer = tickWriter(dbs.pg);
    const [row] = rowsAt(1000, 1);
    expect(await writer.write([row!, row!])).toBe(1);
    expect(await tickCount(dbs, 'timestamp_ms = $1', [row!.timestamp_ms])).toBe(1);
  });

  it('keeps text exactly as given (tabs, backslashes) through COPY', async () => {
    const writer = tickWriter(dbs.pg);
    expect(await writer.write(rowsAt(2000, 3, 'acme\tlabs\\eu'))).toBe(3);
    expect(await tickCount(dbs, 'tenant_id = $1', ['acme\tlabs\\eu'])).toBe(3);
  });

  it('reports a value the table cannot hold as a data error, and stays usable', async () => {
    const writer = tickWriter(dbs.pg);
    const [bad] = rowsAt(3000, 1);
    const error = await writer.write([{ ...bad!, exchange: 2 ** 40 }]).catch((e: unknown) => e);
    expect((error as { code?: string }).code).toBe('22003');
    expect(writer.isDataError(error)).toBe(true);
    expect(await writer.write(rowsAt(3001, 5))).toBe(5);
  });
});
