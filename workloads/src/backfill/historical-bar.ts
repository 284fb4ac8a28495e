// A Polygon aggregate as the pipeline's bar message (contracts/messages.ts barSchema):
// source polygon_historical, volume = Polygon's `v` (for forex the number of quote updates,
// like the live bars' tick count), vwap = `vw`. Polygon documents `vw` as optional; without
// it (or with a zero) the bar's mean price is estimated as the mean of open, high, low and close, which like
// a real vwap always lies within [low, high].
import { ohlcvBar, type Bar } from '../contracts/messages.js';
import type { PipSizes } from '../contracts/symbols.js';
import type { Timeframe } from '../contracts/timeframes.js';
import type { PolygonAggregate } from './polygon-page.js';

export const HISTORICAL_SOURCE = 'polygon_historical';

export interface HistoricalBarContext {
  /** The pipeline's tenant, carried in the bar message. */
  tenantId: string;
  symbol: string;
  timeframe: Timeframe;
  pipSizes: PipSizes;
  /** ingested_at: when this run downloaded the bar (the version within its rank). */
  downloadedAt: Date;
  /** The bar repairs a recorded feed gap and outranks live bars (messages.ts barVersion). */
  feedGapRepair: boolean;
}

/** Throws (zod) on a bar that breaks the contract, e.g. a high below the open. */
export function historicalBar(agg: PolygonAggregate, c: HistoricalBarContext): Bar {
  return ohlcvBar(
    {
      symbol: c.symbol,
      timeframe: c.timeframe,
      startMs: agg.t,
      open: agg.o,
      high: agg.h,
      low: agg.l,
      close: agg.c,
      volume: agg.v,
      vwap: agg.vw && agg.vw > 0 ? agg.vw : (agg.o + agg.h + agg.l + agg.c) / 4,
    },
    {
      tenantId: c.tenantId,
      source: HISTORICAL_SOURCE,
      ingestedAt: c.downloadedAt,
      pipSizes: c.pipSizes,
      feedGapRepair: c.feedGapRepair,
    },
  );
}
