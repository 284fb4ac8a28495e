// Test hooks under /admin/ (kept apart from the Polygon API; disabled with
// SIMULATOR_ADMIN=false). They let integration tests break things from the outside:
//   POST /admin/disconnect[?mode=terminate|force_disconnect]  drop every WebSocket client
//   POST /admin/rest-failures?count=N[&status=503]           fail the next N REST requests
//   GET  /admin/state                                         connections, replay progress
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import type { Logger } from '../runtime/logger.js';
import type { FaultInjector } from './faults.js';
import type { ReplayPlayer } from './replay.js';
import type { ForexSocketServer } from './ws-server.js';

export const ADMIN_PREFIX = '/admin/';

export interface AdminApiOptions {
  sockets: ForexSocketServer;
  faults: FaultInjector;
  replay: ReplayPlayer | undefined;
  log: Logger;
}

const disconnectQuery = z.object({
  mode: z.enum(['terminate', 'force_disconnect']).default('terminate'),
});
const restFailuresQuery = z.object({
  count: z.coerce.number().int().min(0),
  status: z.coerce.number().int().min(500).max(599).default(503),
});

export class AdminApi {
  constructor(private readonly options: AdminApiOptions) {}

  handle(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const reply = (status: number, body: unknown): void =>
      void res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
    const query = Object.fromEntries(url.searchParams);
    const route = `${req.method} ${url.pathname}`;
    const { sockets, faults, replay, log } = this.options;
    switch (route) {
      case 'POST /admin/disconnect': {
        const parsed = disconnectQuery.safeParse(query);
        if (!parsed.success) return reply(400, { error: parsed.error.issues[0]!.message });
        const disconnected = sockets.disconnectAll(parsed.data.mode);
        log.info({ disconnected, mode: parsed.data.mode }, 'admin: disconnected all clients');
        return reply(200, { disconnected });
      }
      case 'POST /admin/rest-failures': {
        const parsed = restFailuresQuery.safeParse(query);
        if (!parsed.success)
          return reply(400, {
            error: `${String(parsed.error.issues[0]!.path[0])}: ${parsed.error.issues[0]!.message}`,
          });
        faults.failNextRestRequests(parsed.data.count, parsed.data.status);
        log.info(parsed.data, 'admin: next REST requests will fail');
        return reply(200, { pending: faults.pendingRestFailures, status: parsed.data.status });
      }
      case 'GET /admin/state':
        return reply(200, {
          connections: sockets.list().map((s) => ({
            id: s.id,
            authenticated: s.authenticatedKey !== undefined,
            allPairs: s.allPairs,
            pairs: [...s.pairs],
            closing: s.closing,
          })),
          restFailuresPending: faults.pendingRestFailures,
          replay: replay?.state() ?? null,
        });
      default:
        return reply(404, { error: `no admin endpoint ${route}` });
    }
  }
}
