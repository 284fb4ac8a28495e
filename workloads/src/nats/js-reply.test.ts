import { describe, expect, it } from '@jest/globals';
import { replyCounts } from './js-reply.js';

describe('the counts of a JetStream reply subject', () => {
  // The layouts nats.js's parseInfo reads (jetstream/lib/jsmsg.js): without and with a domain.
  it.each([
    ['$JS.ACK.MARKET_TICKS.bridge-ticks.1.12345.12000.1796682341206000000.0', 1, 0],
    ['$JS.ACK.MARKET_TICKS_market_fx-a.bridge-ticks.3.7.5.1796682341206000000.4821', 3, 4821],
    ['$JS.ACK.hub.ACCHASH.MARKET_TICKS.bridge-ticks.2.99.98.1796682341206000000.17', 2, 17],
    ['$JS.ACK.hub.ACCHASH.MARKET_TICKS.bridge-ticks.1.99.98.1796682341206000000.0.r4nd0m', 1, 0],
    ['$JS.ACK._.ACCHASH.MARKET_BARS.bridge-bars.12.1.1.1796682341206000000.250.tok', 12, 250],
  ])('reads %s', (subject, delivered, pending) => {
    expect(replyCounts(subject)).toEqual({ delivered, pending });
  });

  it.each([
    '',
    '_INBOX.abc.1',
    '$JS.ACK.S.C.1.2.3.4',
    '$JS.ACK.S.C.x.2.3.4.5',
    '$JS.ACK.S.C.1.2.3.4.',
    '$JS.ACK.a.b.c.d.e.f.g.h.i.j.k.l',
  ])('is undefined for what is not one: %p', (subject) => {
    expect(replyCounts(subject)).toBeUndefined();
  });
});
