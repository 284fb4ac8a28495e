-- TimescaleDB features, applied only where the extension can be installed:
-- hypertable (1-day chunks), compression after 7 days, retention of 90 days.
-- `migrate` then sets the two intervals from TIMESCALEDB_COMPRESS_AFTER_DAYS and
-- TIMESCALEDB_RETENTION_DAYS when they differ from these defaults.
--
-- On plain PostgreSQL nothing here runs. Retention is then done by the bridge: once an
-- hour, under an advisory lock so only one replica does it, it deletes ticks older than
-- the retention in small batches. There is no compression on plain PostgreSQL.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb') THEN
        CREATE EXTENSION IF NOT EXISTS timescaledb;
    END IF;
END
$$;

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN
        RETURN;
    END IF;
    PERFORM create_hypertable('market_ticks', by_range('time', INTERVAL '1 day'),
                              if_not_exists => TRUE, migrate_data => TRUE);
    -- Changing compression settings is refused once chunks are compressed: set them once.
    IF NOT EXISTS (SELECT 1 FROM timescaledb_information.hypertables
                   WHERE hypertable_name = 'market_ticks' AND compression_enabled) THEN
        EXECUTE 'ALTER TABLE market_ticks SET (timescaledb.compress, '
             || 'timescaledb.compress_segmentby = ''tenant_id, symbol'', '
             || 'timescaledb.compress_orderby = ''time'')';
    END IF;
    PERFORM add_compression_policy('market_ticks', INTERVAL '7 days', if_not_exists => TRUE);
    PERFORM add_retention_policy('market_ticks', INTERVAL '90 days', if_not_exists => TRUE);
END
$$;
