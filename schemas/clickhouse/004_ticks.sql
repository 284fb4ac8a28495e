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
-- as stored in that order (bench/clickhouse-ticks.ts measures the bytes per tick):
--   timestamp    DoubleDelta: consecutive quotes of a symbol are close in time;
--   prices       Gorilla (XOR of neighbouring floats): a price differs from the previous one
--                of its symbol in a few low bits;
--   exchange     T64 (bit-packing of a small integer);
--   ingested_at  Delta;
-- each followed by ZSTD(1) for what remains. mid and spread are stored, not derived: they
-- are what the collector computed (spread in pips of the symbol's configured pip size).
CREATE TABLE IF NOT EXISTS ticks
(
    tenant_id    LowCardinality(String),
    symbol       LowCardinality(String),
    timestamp    DateTime64(3, 'UTC') CODEC(DoubleDelta, ZSTD(1)),
    bid          Float64 CODEC(Gorilla, ZSTD(1)),
    ask          Float64 CODEC(Gorilla, ZSTD(1)),
    mid          Float64 CODEC(Gorilla, ZSTD(1)),
    spread       Float64 CODEC(Gorilla, ZSTD(1)),
    exchange     Int32 CODEC(T64, ZSTD(1)),
    ingested_at  DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1))
)
ENGINE = ReplacingMergeTree
-- Monthly partitions, as aggregates: dropped whole by the TTL.
PARTITION BY toYYYYMM(timestamp)
ORDER BY (tenant_id, symbol, timestamp, bid, ask, exchange)
-- 10 years; `migrate` changes it from CLICKHOUSE_TICKS_RETENTION_DAYS.
TTL toDateTime(timestamp) + INTERVAL 3650 DAY;
