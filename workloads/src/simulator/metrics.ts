// Prometheus metrics of the simulator, registered on the ops server's registry.
import { Counter, Gauge, type Registry } from 'prom-client';

export interface SimulatorMetrics {
  connections: Gauge;
  auths: Counter<'result'>;
  disconnects: Counter<'reason'>;
  quotesGenerated: Counter;
  quotesSent: Counter;
  framesSent: Counter;
  streamLagSeconds: Gauge;
  quotesSkipped: Counter;
  restRequests: Counter<'status'>;
  restBars: Counter;
  replayFramesSent: Counter;
}

export function createSimulatorMetrics(registry: Registry): SimulatorMetrics {
  const registers = [registry];
  return {
    connections: new Gauge({
      name: 'simulator_ws_connections',
      help: 'Open WebSocket connections',
      registers,
    }),
    auths: new Counter({
      name: 'simulator_ws_auth_total',
      help: 'WebSocket authentication attempts by result',
      labelNames: ['result'],
      registers,
    }),
    disconnects: new Counter({
      name: 'simulator_ws_disconnects_total',
      help: 'WebSocket connections ended, by reason',
      labelNames: ['reason'],
      registers,
    }),
    quotesGenerated: new Counter({
      name: 'simulator_quotes_generated_total',
      help: 'Quotes generated for the live stream',
      registers,
    }),
    quotesSent: new Counter({
      name: 'simulator_quotes_sent_total',
      help: 'Quote events sent, summed over clients',
      registers,
    }),
    framesSent: new Counter({
      name: 'simulator_frames_sent_total',
      help: 'WebSocket data frames sent, summed over clients',
      registers,
    }),
    streamLagSeconds: new Gauge({
      name: 'simulator_stream_lag_seconds',
      help: 'How far the live stream is behind the clock after its last batch',
      registers,
    }),
    quotesSkipped: new Counter({
      name: 'simulator_quotes_skipped_total',
      help: 'Grid slots skipped because the stream fell too far behind the clock',
      registers,
    }),
    restRequests: new Counter({
      name: 'simulator_rest_requests_total',
      help: 'REST requests by HTTP status',
      labelNames: ['status'],
      registers,
    }),
    restBars: new Counter({
      name: 'simulator_rest_bars_total',
      help: 'Bars returned by the REST aggregates endpoint',
      registers,
    }),
    replayFramesSent: new Counter({
      name: 'simulator_replay_frames_sent_total',
      help: 'Frames sent from the replay file',
      registers,
    }),
  };
}
