-- market_ticks: one row per distinct quote received by the collector.
-- Applies on plain PostgreSQL (>= 14) and on TimescaleDB; 002 adds the TimescaleDB parts.
--
-- Idempotency: a quote is identified by (tenant, symbol, time, bid, ask, exchange), the same
-- identity as the tick message id. The bridge inserts with ON CONFLICT DO NOTHING, so a
-- redelivered or re-published tick never makes a second row, while two different quotes
-- in the same millisecond are both kept.
CREATE TABLE IF NOT EXISTS market_ticks (
    time         timestamptz      NOT NULL,
    tenant_id    text             NOT NULL DEFAULT 'system',
    symbol       text             NOT NULL,
    bid          double precision NOT NULL,
    ask          double precision NOT NULL,
    mid          double precision NOT NULL,
    spread       double precision NOT NULL,
    timestamp_ms bigint           NOT NULL,
    exchange     integer          NOT NULL,
    source       text             NOT NULL DEFAULT 'polygon_websocket',
    ingested_at  timestamptz      NOT NULL,
    CONSTRAINT market_ticks_quote_key UNIQUE (tenant_id, symbol, time, bid, ask, exchange)
);

-- The aggregator reads time ranges across all symbols of a tenant.
CREATE INDEX IF NOT EXISTS market_ticks_tenant_time_idx ON market_ticks (tenant_id, time);
