-- daily_stats and monthly_stats: per tenant, symbol, timeframe and day (or month), the
-- number of bars, open, high, low, close and volume, maintained by materialized views as
-- bars are inserted into `aggregates`.
--
-- They stay right when the same bar is written twice (redelivery, re-publication) because
-- every state is idempotent per bar: bars are counted distinct by start time, high/low are
-- max/min, open/close are the first/last bar's value taking the newest version of that
-- bar, and volume is summed over a map of bar start -> largest volume seen for it.
-- A re-aggregated bar that picked up late ticks only grows, so it stays exact too.
-- (When a live bar replaces a historical one with different prices, high/low/volume of
-- that day keep the wider of the two until the state is rebuilt; see the README.)
--
-- Query `daily_stats` / `monthly_stats` (views with final values); the *_state tables
-- hold the partial aggregates.
CREATE TABLE IF NOT EXISTS daily_stats_state
(
    tenant_id LowCardinality(String),
    symbol    LowCardinality(String),
    timeframe LowCardinality(String),
    day       Date,
    bars      AggregateFunction(uniqExact, UInt64),
    open      AggregateFunction(argMin, Float64, Tuple(UInt64, Int64)),
    high      SimpleAggregateFunction(max, Float64),
    low       SimpleAggregateFunction(min, Float64),
    close     AggregateFunction(argMax, Float64, Tuple(UInt64, UInt64)),
    volume    AggregateFunction(maxMap, Array(UInt64), Array(Float64))
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (tenant_id, symbol, timeframe, day)
TTL day + INTERVAL 3650 DAY;

CREATE MATERIALIZED VIEW IF NOT EXISTS daily_stats_mv TO daily_stats_state AS
SELECT
    tenant_id,
    symbol,
    timeframe,
    toDate(timestamp) AS day,
    uniqExactState(timestamp_ms) AS bars,
    argMinState(open, tuple(timestamp_ms, -toInt64(version))) AS open,
    max(high) AS high,
    min(low) AS low,
    argMaxState(close, tuple(timestamp_ms, version)) AS close,
    maxMapState([timestamp_ms], [volume]) AS volume
FROM aggregates
GROUP BY tenant_id, symbol, timeframe, day;

CREATE VIEW IF NOT EXISTS daily_stats AS
SELECT
    tenant_id,
    symbol,
    timeframe,
    day,
    uniqExactMerge(bars) AS bars,
    argMinMerge(open) AS open,
    max(high) AS high,
    min(low) AS low,
    argMaxMerge(close) AS close,
    arraySum(maxMapMerge(volume).2) AS volume
FROM daily_stats_state
GROUP BY tenant_id, symbol, timeframe, day;

CREATE TABLE IF NOT EXISTS monthly_stats_state
(
    tenant_id LowCardinality(String),
    symbol    LowCardinality(String),
    timeframe LowCardinality(String),
    month     Date,
    bars      AggregateFunction(uniqExact, UInt64),
    open      AggregateFunction(argMin, Float64, Tuple(UInt64, Int64)),
    high      SimpleAggregateFunction(max, Float64),
    low       SimpleAggregateFunction(min, Float64),
    close     AggregateFunction(argMax, Float64, Tuple(UInt64, UInt64)),
    volume    AggregateFunction(maxMap, Array(UInt64), Array(Float64))
)
ENGINE = AggregatingMergeTree
PARTITION BY toYear(month)
ORDER BY (tenant_id, symbol, timeframe, month)
TTL month + INTERVAL 3650 DAY;

CREATE MATERIALIZED VIEW IF NOT EXISTS monthly_stats_mv TO monthly_stats_state AS
SELECT
    tenant_id,
    symbol,
    timeframe,
    toStartOfMonth(timestamp) AS month,
    uniqExactState(timestamp_ms) AS bars,
    argMinState(open, tuple(timestamp_ms, -toInt64(version))) AS open,
    max(high) AS high,
    min(low) AS low,
    argMaxState(close, tuple(timestamp_ms, version)) AS close,
    maxMapState([timestamp_ms], [volume]) AS volume
FROM aggregates
GROUP BY tenant_id, symbol, timeframe, month;

CREATE VIEW IF NOT EXISTS monthly_stats AS
SELECT
    tenant_id,
    symbol,
    timeframe,
    month,
    uniqExactMerge(bars) AS bars,
    argMinMerge(open) AS open,
    max(high) AS high,
    min(low) AS low,
    argMaxMerge(close) AS close,
    arraySum(maxMapMerge(volume).2) AS volume
FROM monthly_stats_state
GROUP BY tenant_id, symbol, timeframe, month;
