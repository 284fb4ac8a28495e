-- Planner statistics for the aggregator's query (workloads/src/aggregator/bar-query.ts),
-- which groups the ticks by symbol and 5-minute bucket. Without them PostgreSQL guesses
-- the number of groups from the row count (hundreds of thousands instead of ~300 per
-- symbol and day), and so never picks the parallel partial hash aggregate and turns JIT on.
-- The expression must match the query's exactly. Applies on PostgreSQL >= 14 and on
-- TimescaleDB (which copies nothing to chunks but plans per chunk anyway).
CREATE STATISTICS IF NOT EXISTS market_ticks_symbol_5m_buckets (ndistinct)
    ON symbol, date_bin('5 minutes', time, timestamptz 'epoch')
    FROM market_ticks;
