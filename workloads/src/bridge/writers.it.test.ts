// The tick writer against a real PostgreSQL: the COPY fast path, the fall-back to
// INSERT … ON CONFLICT DO NOTHING when a batch holds ticks already stored, and errors.
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
