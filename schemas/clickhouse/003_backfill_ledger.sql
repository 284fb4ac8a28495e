-- The backfill's own bookkeeping (market-pipeline backfill, workloads/src/backfill/ledger.ts).
-- Bars themselves only ever reach `aggregates` through NATS and the bridge; these three small
-- tables are written by the backfill directly, because they describe its work, not market data.
-- Times are Unix ms of bar boundaries, like aggregates.timestamp_ms.

-- Ranges of bars that Polygon answered without a bar (no quotes at all in those windows:
-- thin hours, holidays). Gap detection skips them, so they are not asked for again on every
-- run. [start_ms, end_ms): first bar start to last bar end. Only bars that had settled
-- (BACKFILL_SETTLE_MINUTES) are recorded, so "not published yet" is never taken for "empty".
CREATE TABLE IF NOT EXISTS backfill_empty_ranges
(
    tenant_id  LowCardinality(String),
    symbol     LowCardinality(String),
    timeframe  LowCardinality(String),
    start_ms   UInt64,
    end_ms     UInt64,
    checked_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(checked_at)
ORDER BY (tenant_id, symbol, timeframe, start_ms, end_ms);

-- What the completed default-window runs have checked, per symbol and timeframe: one row,
-- [from_ms, to_ms) of bar starts (the newest row wins). No row, or one that does not reach
-- back to the start of BACKFILL_WINDOW_DAYS, makes the next run a first run (whole window);
-- otherwise a run checks BACKFILL_RECENT_DAYS, or back to to_ms if that is older.
CREATE TABLE IF NOT EXISTS backfill_coverage
(
    tenant_id  LowCardinality(String),
    symbol     LowCardinality(String),
    timeframe  LowCardinality(String),
    from_ms    UInt64,
    to_ms      UInt64,
    updated_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY (tenant_id, symbol, timeframe);

-- Repairs of recorded feed gaps (events.feed_gap), one row per gap, symbol and timeframe:
-- [start_ms, end_ms) covers every bar that overlaps the gap. Written as done = 0 when the
-- event is read (before it is acked) and again as done = 1 once the repaired bars were
-- published; the version column keeps done = 1. A repair waits while its last bar has not
-- settled (a 1w bar up to a week), which is why it is kept here and not in the event.
CREATE TABLE IF NOT EXISTS backfill_feed_gap_repairs
(
    tenant_id   LowCardinality(String),
    symbol      LowCardinality(String),
    timeframe   LowCardinality(String),
    gap_id      String,
    kind        LowCardinality(String),
    start_ms    UInt64,
    end_ms      UInt64,
    detected_at DateTime64(3, 'UTC'),
    done        UInt8,
    updated_at  DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(done)
ORDER BY (tenant_id, symbol, timeframe, gap_id)
TTL toDateTime(updated_at) + INTERVAL 400 DAY;
