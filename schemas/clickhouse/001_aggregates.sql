-- aggregates: OHLCV bars of the seven timeframes, live (aggregator) and historical
-- (gap filler), keyed by (tenant, symbol, timeframe, bar start).
--
-- Re-writing a bar replaces it: ReplacingMergeTree keeps, per key, the row with the
-- highest `version`. The bridge computes it from the message (see barVersion and BAR_RANK
-- in workloads/src/contracts/messages.ts): version = rank * 10^15 + build time in ms, with
-- rank 1 polygon_historical (historical data only fills gaps), 2 live_aggregated, and
-- 3 a polygon_historical bar marked feed_gap_repair: the backfill's re-download of a window
-- in which the collector recorded a feed gap (events.feed_gap), whose live bar lacks the
-- missed quotes and must be replaced by it, whichever was written first. Within one rank the
-- most recently built bar wins. `intDiv(version, 1000000000000000)` is the rank (`source`
-- says polygon_historical for ranks 1 and 3). Read with FINAL (or argMax by version) to see
-- exactly one row per bar before background merges have run.
CREATE TABLE IF NOT EXISTS aggregates
(
    tenant_id    LowCardinality(String),
    symbol       LowCardinality(String),
    timeframe    LowCardinality(String),
    timestamp    DateTime64(3, 'UTC'),
    timestamp_ms UInt64,
    open         Float64,
    high         Float64,
    low          Float64,
    close        Float64,
    volume       Float64,
    vwap         Float64,
    range_pips   Float64,
    body_pips    Float64,
    start_time   DateTime64(3, 'UTC'),
    end_time     DateTime64(3, 'UTC'),
    source       LowCardinality(String),
    ingested_at  DateTime64(3, 'UTC'),
    version      UInt64
)
ENGINE = ReplacingMergeTree(version)
-- Monthly partitions: small enough to drop by TTL, few enough for years of history
-- (symbol x month partitions would make too many small parts).
PARTITION BY toYYYYMM(timestamp)
ORDER BY (tenant_id, symbol, timeframe, timestamp)
-- 10 years; `migrate` changes it from CLICKHOUSE_RETENTION_DAYS.
TTL toDateTime(timestamp) + INTERVAL 3650 DAY;
