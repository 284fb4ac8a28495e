import { describe, expect, it } from '@jest/globals';
import { pipelineNames, pipelineIdSchema, SEED_NAMES, STREAMS, tenantIdSchema } from './subjects.js';

/** True when a message on `subject` would match NATS subject filter `filter`. */
function matches(filter: string, subject: string): boolean {
  const f = filter.split('.');
  const s = subject.split('.');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '>') return s.length > i;
    if (i >= s.length || (f[i] !== '*' && f[i] !== s[i])) return false;
  }
  return f.length === s.length;
}

describe('pipeline names', () => {
  it("keeps the seed's names without a pipeline id", () => {
    expect(SEED_NAMES.tickSubject('EUR/USD')).toBe('ticks.EURUSD');
    expect(SEED_NAMES.barSubject('XAU/USD', '1h')).toBe('bars.XAUUSD.1h');
    expect(SEED_NAMES.dlqSubject('ticks.EURUSD')).toBe('dlq.ticks.EURUSD');
    expect(SEED_NAMES.feedGapSubject).toBe('events.feed_gap');
    expect(STREAMS.ticks).toEqual({ name: 'MARKET_TICKS', subjects: ['ticks.>'] });
    expect(Object.values(STREAMS).map((s) => s.name)).toEqual([
      'MARKET_TICKS',
      'MARKET_BARS',
      'MARKET_DLQ',
      'MARKET_EVENTS',
    ]);
    expect(SEED_NAMES.inboxPrefix).toBe('_INBOX');
  });

  it('gives a pipeline its own prefix, streams, inboxes and id scope', () => {
    const a = pipelineNames({ pipelineId: 'market_fx-a', tenantId: 'acme' });
    expect(a.tickSubject('EUR/USD')).toBe('mp.market_fx-a.ticks.EURUSD');
    expect(a.barSubject('EUR/USD', '5m')).toBe('mp.market_fx-a.bars.EURUSD.5m');
    expect(a.barFilter('5m')).toBe('mp.market_fx-a.bars.*.5m');
    expect(a.dlqSubject(a.tickSubject('EUR/USD'))).toBe('mp.market_fx-a.dlq.ticks.EURUSD');
    expect(a.feedGapSubject).toBe('mp.market_fx-a.events.feed_gap');
    expect(a.streams.ticks).toEqual({
      name: 'MARKET_TICKS_market_fx-a',
      subjects: ['mp.market_fx-a.ticks.>'],
    });
    expect(a.inboxPrefix).toBe('_INBOX_market_fx-a');
    expect(a.idScope).toBe('market_fx-a/acme');
  });

  it("never lets one pipeline's stream take another's (or the seed's) subjects", () => {
    const all = [
      SEED_NAMES,
      pipelineNames({ pipelineId: 'a', tenantId: 't' }),
      pipelineNames({ pipelineId: 'a-b', tenantId: 't' }),
      pipelineNames({ pipelineId: 'ticks', tenantId: 't' }),
    ];
    const symbol = 'EUR/USD';
    for (const owner of all) {
      const subjects = [
        owner.tickSubject(symbol),
        owner.barSubject(symbol, '5m'),
        owner.dlqSubject(owner.tickSubject(symbol)),
        owner.feedGapSubject,
      ];
      for (const other of all) {
        const caught = Object.values(other.streams).some((s) =>
          s.subjects.some((f) => subjects.some((subject) => matches(f, subject))),
        );
        expect([owner.pipelineId, other.pipelineId, caught]).toEqual([
          owner.pipelineId,
          other.pipelineId,
          owner === other,
        ]);
      }
    }
  });

  it('accepts only ids that are one subject token and safe in stream names and JSON', () => {
    expect(pipelineIdSchema.safeParse('market_fx-majors').success).toBe(true);
    for (const bad of ['a.b', 'a*', 'a>', 'a b', 'A', '-a', 'a/b', '']) {
      expect(pipelineIdSchema.safeParse(bad).success).toBe(false);
    }
    expect(tenantIdSchema.safeParse('system').success).toBe(true);
    for (const bad of ['a"b', 'a\\b', 'a b', '', 'a|b'])
      expect(tenantIdSchema.safeParse(bad).success).toBe(false);
  });
});
