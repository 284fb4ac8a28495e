// ClickHouse HTTP client from the CLICKHOUSE_* settings.
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import type { z } from 'zod';
import type { clickhouseEnv } from '../contracts/env.js';

export type ClickHouseSettings = z.infer<typeof clickhouseEnv>;

export function clickhouseUrl(s: ClickHouseSettings): string {
  return `${s.CLICKHOUSE_PROTOCOL}://${s.CLICKHOUSE_HOST}:${s.CLICKHOUSE_PORT}`;
}

export function createClickHouse(s: ClickHouseSettings, applicationName: string): ClickHouseClient {
  return createClient({
    url: clickhouseUrl(s),
    username: s.CLICKHOUSE_USER,
    password: s.CLICKHOUSE_PASSWORD,
    database: s.CLICKHOUSE_DATABASE,
    application: applicationName,
    request_timeout: 60_000,
    clickhouse_settings: {
      // Inserts are acknowledged only once written (the bridge acks NATS after this).
      wait_end_of_query: 1,
    },
  });
}
