-- Coverage and commit time: what the aggregator needs to build a bar only from covered,
-- committed ticks (README "Coverage, watermark and precedence").
--
-- feed_coverage: the collector's coverage segments (one process, one unbroken subscription),
-- from its markers on events.coverage, written by the bridge. A segment has one row per
-- minute of marker time (`piece` = to_ms / 60000), each [from_ms, to_ms] from the segment's
-- start with the tick_seq of the newest marker of that minute: the aggregator counts a row
-- only once the bridge's tick consumer acked through its tick_seq, so a segment is committed
-- up to its newest such row, to the minute, while the bridge catches up. Redelivered or
-- reordered markers only move a row's to_ms forward (GREATEST). Time not inside any row
-- during forex hours is not covered: the collector was down, restarting, disconnected,
-- dropping ticks, or not yet started.
CREATE TABLE IF NOT EXISTS feed_coverage (
    tenant_id  text        NOT NULL,
    segment_id text        NOT NULL,
    piece      bigint      NOT NULL,
    symbols    text[]      NOT NULL,
    from_ms    bigint      NOT NULL,
    to_ms      bigint      NOT NULL,
    -- The ticks stream's sequence that covers every tick up to to_ms: the row counts once
    -- the bridge's tick consumer has acked through it.
    tick_seq   bigint      NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, segment_id, piece)
);

CREATE INDEX IF NOT EXISTS feed_coverage_tenant_to_idx ON feed_coverage (tenant_id, to_ms);

-- When the row was committed (the bridge's transaction; the column is not in the bridge's
-- COPY, so the default fills it). The aggregator finds the ticks committed since its last
-- run here, and re-aggregates every bar they fall into, however old (late ticks). BRIN: rows
-- arrive in commit order, so a block range summary is tiny and costs inserts nearly nothing.
-- Added without a default and then given one: TimescaleDB refuses a non-constant default in
-- ADD COLUMN on a hypertable with compression, and rows stored before stay NULL (they were
-- committed before any bar could miss them).
ALTER TABLE market_ticks ADD COLUMN IF NOT EXISTS committed_at timestamptz;
ALTER TABLE market_ticks ALTER COLUMN committed_at SET DEFAULT now();
CREATE INDEX IF NOT EXISTS market_ticks_committed_at_brin ON market_ticks USING brin (committed_at);

-- The aggregator's own cursor per tenant and timeframe: ticks committed up to here have had
-- their bars rebuilt. Bookkeeping of the aggregator's work (like the backfill's ledger), not
-- market data.
CREATE TABLE IF NOT EXISTS aggregator_late_cursor (
    tenant_id      text        NOT NULL,
    timeframe      text        NOT NULL,
    committed_upto timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, timeframe)
);

-- Bars the aggregator published partial, per tenant, timeframe and bar start (all symbols of
-- the run). Each scheduled run of the timeframe builds them again: once the coverage and the
-- watermark have caught up (markers that were still on their way, a bridge that lagged) the
-- bar is published complete and its row goes. Rows older than a day are no longer retried:
-- a window that really was not covered never becomes complete, and the gap filler replaces
-- that bar with Polygon's.
CREATE TABLE IF NOT EXISTS aggregator_partial_bars (
    tenant_id text        NOT NULL,
    timeframe text        NOT NULL,
    start_ms  bigint      NOT NULL,
    built_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, timeframe, start_ms)
);
