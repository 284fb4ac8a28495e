import { describe, expect, it } from '@jest/globals';
import { encode, makeBar, makeTick } from '../../../test/support/market-messages.js';
import { pipelineNames } from '../contracts/subjects.js';
import { routeMessage } from './route.js';

describe('routing and validating bridge messages', () => {
  it('routes ticks to the live lane and bars by source', () => {
    expect(routeMessage('ticks', 'ticks.EURUSD', encode(makeTick()))).toMatchObject({
      ok: true,
      kind: 'tick',
      lane: 'live',
    });
    expect(routeMessage('bars', 'bars.EURUSD.5m', encode(makeBar()))).toMatchObject({
      ok: true,
      kind: 'bar',
      lane: 'live',
    });
    const historical = makeBar({ source: 'polygon_historical', timeframe: '1h' });
    expect(routeMessage('bars', 'bars.EURUSD.1h', encode(historical))).toMatchObject({
      ok: true,
      lane: 'historical',
    });
  });

  it('names the dead-letter reason of every kind of bad message', () => {
    const cases: [Parameters<typeof routeMessage>, string, RegExp][] = [
      [['ticks', 'ticks.EURUSD', new TextEncoder().encode('{"symbol": "EUR/USD",')], 'invalid_json', /JSON/],
      [['ticks', 'ticks.EURUSD', encode(null)], 'schema_violation', /\(message\)/],
      [['ticks', 'ticks.EURUSD', encode({ ...makeTick(), bid: 'x' })], 'schema_violation', /^bid: /],
      [['ticks', 'ticks.EURUSD', encode({ ...makeTick(), extra: 1 })], 'schema_violation', /extra/],
      [
        ['ticks', 'ticks.EURUSD', encode(makeBar())],
        'wrong_source',
        /a bar \(source live_aggregated\) on ticks.EURUSD/,
      ],
      [['bars', 'bars.EURUSD.5m', encode(makeTick())], 'wrong_source', /a tick/],
      [
        ['ticks', 'ticks.EURUSD', encode(makeTick({ symbol: 'GBP/USD' }))],
        'subject_mismatch',
        /ticks.EURUSD carries GBP\/USD/,
      ],
      [['ticks', 'ticks.EURUSD.x', encode(makeTick())], 'subject_mismatch', /expected ticks.EURUSD/],
      [
        ['bars', 'bars.EURUSD.5m', encode(makeBar({ timeframe: '15m' }))],
        'subject_mismatch',
        /carries EUR\/USD 15m/,
      ],
      [['bars', 'bars.GBPUSD.5m', encode(makeBar())], 'subject_mismatch', /expected bars.EURUSD.5m/],
      [
        ['bars', 'bars.EURUSD.2m', encode({ ...makeBar(), timeframe: '2m' })],
        'unknown_timeframe',
        /^timeframe: /,
      ],
      [['bars', 'bars.EURUSD.5m', encode(makeBar({ low: 2 }))], 'schema_violation', /OHLC out of order/],
      [
        ['ticks', 'ticks.EURUSD', encode(makeTick({ timestamp_ms: 9e15 }))],
        'schema_violation',
        /after the year 2200/,
      ],
    ];
    for (const [args, reason, detail] of cases) {
      const routed = routeMessage(...args);
      expect({ args, routed }).toMatchObject({ routed: { ok: false, reason } });
      expect(routed.ok === false && routed.detail).toMatch(detail);
    }
  });

  describe('tenant and pipeline', () => {
    const a = pipelineNames({ pipelineId: 'market_fx-a', tenantId: 'acme' });
    const b = pipelineNames({ pipelineId: 'market_fx-b', tenantId: 'globex' });

    it("accepts its own tenant's messages on its own subjects", () => {
      const tick = makeTick({ tenant_id: 'acme' });
      expect(routeMessage('ticks', a.tickSubject('EUR/USD'), encode(tick), a)).toMatchObject({
        ok: true,
        tick,
      });
      const bar = makeBar({ tenant_id: 'acme' });
      expect(routeMessage('bars', a.barSubject('EUR/USD', '5m'), encode(bar), a)).toMatchObject({
        ok: true,
        bar,
      });
    });

    it("refuses another tenant's message, and one without a tenant, naming both tenants", () => {
      const foreign = routeMessage(
        'ticks',
        a.tickSubject('EUR/USD'),
        encode(makeTick({ tenant_id: 'globex' })),
        a,
      );
      expect(foreign).toMatchObject({ ok: false, reason: 'wrong_tenant' });
      expect(!foreign.ok && foreign.detail).toMatch(/tenant globex; this pipeline serves tenant acme/);
      const bar = routeMessage(
        'bars',
        a.barSubject('EUR/USD', '5m'),
        encode(makeBar({ tenant_id: 'globex' })),
        a,
      );
      expect(bar).toMatchObject({ ok: false, reason: 'wrong_tenant' });
      const none = routeMessage('ticks', a.tickSubject('EUR/USD'), encode(makeTick()), a);
      expect(none).toMatchObject({ ok: false, reason: 'wrong_tenant' });
      expect(!none.ok && none.detail).toMatch(/no tenant_id/);
    });

    it("refuses a message on another pipeline's subject", () => {
      const tick = makeTick({ tenant_id: 'acme' });
      expect(routeMessage('ticks', b.tickSubject('EUR/USD'), encode(tick), a)).toMatchObject({
        ok: false,
        reason: 'subject_mismatch',
      });
    });

    it('under the seed names accepts messages without a tenant (published before tenants were carried)', () => {
      const seed = pipelineNames({ tenantId: 'system' });
      expect(routeMessage('ticks', 'ticks.EURUSD', encode(makeTick()), seed)).toMatchObject({ ok: true });
      expect(
        routeMessage('ticks', 'ticks.EURUSD', encode(makeTick({ tenant_id: 'acme' })), seed),
      ).toMatchObject({
        ok: false,
        reason: 'wrong_tenant',
      });
    });
  });
});
