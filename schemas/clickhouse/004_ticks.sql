-- ticks: the optional long-term tick store (seed: clickhouse/01_ticks.sql, "research only").
-- PostgreSQL keeps ticks for 90 days; this table keeps them for years, for backtesting. The
-- bridge writes it only when CLICKHOUSE_TICKS_ENABLED (MarketPipeline
-- spec.clickhouse.ticks.enabled), through a durable consumer of its own; migrate creates it
-- either way (empty, it costs nothing) and sets its TTL from CLICKHOUSE_TICKS_RETENTION_DAYS.
--
-- Idempotent under redelivery: the sorting key is market_ticks' unique key (quote identity:
-- tenant, symbol, time, bid, ask, exchange), and ReplacingMergeTree keeps one row per key
-- (the rows of a redelivered tick are identical). Read with FINAL for exact counts before
-- background merges have run.
--
-- Laid out for per-symbol time-range scans: (tenant_id, symbol, timestamp) lead the sorting
-- key, so a symbol's range is one contiguous slice of each monthly part. Codecs, per column
-- as stored in that order (measured with bench/clickhouse-ticks.ts on a random-walk feed of
-- 10 symbols, 200k ticks, merged: 6.5 bytes per tick, against 15.5 with the default LZ4 and
-- 17.0 with the textbook DoubleDelta/Gorilla choice):
--   timestamp, ingested_at  Delta + ZSTD(1): consecutive quotes of a symbol are close in time
--                           (Delta beat DoubleDelta: the gaps between quotes are irregular);
--   prices, spread          ZSTD(1) alone: Gorilla (XOR of neighbouring doubles) made them
--                           larger, as decimal prices such as 1.08123 differ from their
--                           neighbours in most mantissa bits;
--   exchange                ZSTD(1) (one value per feed: almost nothing).
-- mid and spread are stored, not derived: they are what the collector computed (spread in
-- pips of the symbol's configured pip size).
CREATE TABLE IF NOT EXISTS ticks
(
    tenant_id    LowCardinality(String),
    symbol       LowCardinality(String),
    timestamp    DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    bid          Float64 CODEC(ZSTD(1)),
    ask          Float64 CODEC(ZSTD(1)),
    mid          Float64 CODEC(ZSTD(1)),
    spread       Float64 CODEC(ZSTD(1)),
    exchange     Int32 CODEC(ZSTD(1)),
    ingested_at  DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1))
)
ENGINE = ReplacingMergeTree
-- Monthly partitions, as aggregates: dropped whole by the TTL.
PARTITION BY toYYYYMM(timestamp)
ORDER BY (tenant_id, symbol, timestamp, bid, ask, exchange)
-- 10 years; `migrate` changes it from CLICKHOUSE_TICKS_RETENTION_DAYS.
TTL toDateTime(timestamp) + INTERVAL 3650 DAY;
