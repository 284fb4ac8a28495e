// The end-to-end scenario, kept in this one place: the local runner (e2e/local: the test
// servers with the process kubelet) and the kind runner (e2e/kind: a real cluster) both run
// exactly these steps, through a ScenarioTarget that says where kubectl points and how to
// query the two databases.
//
//   1. apply the simulator example (examples/secrets.yaml + examples/simulator.yaml, adapted
//      to where it runs) → the MarketPipeline becomes Ready;
//   2. ticks of every symbol reach PostgreSQL (simulator → collector → NATS → bridge);
//   3. 5m bars reach ClickHouse (aggregator Job from the CronJob → NATS → bridge), and they
//      agree with the ticks they were built from;
//   4. change the MarketPipeline (add a symbol, drop a timeframe) → the rollout completes,
//      the dropped timeframe's CronJob is gone, the new symbol's ticks arrive, the others
//      keep flowing;
//   5. nothing failed on the way (no crash, restart, non-zero exit or config error).
//
// Side by side with the example runs a second MarketPipeline (SIBLING), made from the example
// as adapted to the target: same NATS, same databases, its own tenant, one symbol in common
// and one of its own (README "Many pipelines on one set of servers"). Every query of the
// steps above reads the example's tenant only; a last step checks that neither pipeline's
// ticks or bars appear under the other's tenant and that both collected the shared symbol.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { V1CronJob, V1Job, V1Pod } from '@kubernetes/client-node';
import { parseAllDocuments, stringify } from 'yaml';
import { barStart, TIMEFRAME_MS, type Timeframe } from '../workloads/src/contracts/timeframes.js';
import type { Kubectl } from './kubectl.js';

export const EXAMPLE_FILES = ['examples/secrets.yaml', 'examples/simulator.yaml'];

/** The symbol the scenario adds; not in the example. */
export const ADDED_SYMBOL = 'USD/CHF';

/** The second pipeline: its name suffix, tenant, and the symbol only it collects. */
export const SIBLING = { suffix: '-b', tenantId: 'e2e-sibling', ownSymbol: 'NZD/USD' } as const;

/**
 * The sibling of the (adapted) example pipeline: the same servers and Secrets, its own name
 * and tenant, the example's first symbol (the same feed, collected twice) and one of its own,
 * one timeframe, and a simulator of its own (a Polygon key serves one connection).
 */
export function siblingPipeline(example: PipelineObject): PipelineObject {
  const { resourceVersion: _rv, uid: _uid, ...metadata } = example.metadata;
  return {
    ...example,
    metadata: { ...metadata, name: `${example.metadata.name}${SIBLING.suffix}` },
    spec: {
      ...example.spec,
      symbols: [example.spec.symbols[0]!, SIBLING.ownSymbol],
      timeframes: ['5m'],
      tenantId: SIBLING.tenantId,
    },
  };
}

export interface ManifestObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [key: string]: unknown };
  [field: string]: unknown;
}

export interface PipelineObject extends ManifestObject {
  spec: {
    symbols: string[];
    timeframes: Timeframe[];
    backfill?: Record<string, unknown>;
    [field: string]: unknown;
  };
}

export interface ScenarioTarget {
  kubectl: Kubectl;
  /** The example's objects adapted to where the scenario runs (addresses, passwords, image). */
  adaptExample(objects: ManifestObject[]): ManifestObject[];
  /** Rows of a query on the pipeline's PostgreSQL database. */
  postgres<T>(sql: string): Promise<T[]>;
  /** Rows of a query on the pipeline's ClickHouse database. */
  clickhouse<T>(sql: string): Promise<T[]>;
  /** The tail of a container's output (previous: the run before its last restart). */
  containerOutput(pod: string, container: string, previous: boolean): Promise<string>;
  /**
   * Failures only the runner can see (local: every process exit, also of pods already
   * deleted, and the operator process); `pod`/`container` when it is a container's.
   */
  runnerFailures(): Promise<RunnerFailure[]>;
  log(message: string): void;
}

export interface RunnerFailure {
  pod?: string;
  container?: string;
  message: string;
}

export interface ScenarioStep {
  title: string;
  timeoutMs: number;
  run(): Promise<void>;
}

/** Reads the example files (relative to the repository root) as objects. */
export function readExample(root: string): ManifestObject[] {
  return EXAMPLE_FILES.flatMap((file) =>
    parseAllDocuments(readFileSync(path.join(root, file), 'utf8'))
      .map((doc) => doc.toJS() as ManifestObject | null)
      .filter((obj): obj is ManifestObject => obj !== null),
  );
}

const isPipeline = (o: ManifestObject): o is PipelineObject => o.kind === 'MarketPipeline';

/**
 * Where both runners depart from the example on purpose: the scheduled backfill (a REST
 * crawl of `windowDays` = two years of history) is not part of this scenario, and a run
 * starting at :15 would flood the databases while the scenario measures the live flow.
 */
export function scenarioManifest(objects: ManifestObject[]): ManifestObject[] {
  return objects.map((o) =>
    isPipeline(o) ? { ...o, spec: { ...o.spec, backfill: { ...o.spec.backfill, suspend: true } } } : o,
  );
}

const BAD_WAITING_REASONS = new Set([
  'CreateContainerConfigError',
  'CreateContainerError',
  'CrashLoopBackOff',
  'ErrImagePull',
  'ImagePullBackOff',
  'ErrImageNeverPull',
  'InvalidImageName',
  'RunContainerError',
]);

export class Scenario {
  /** The example's MarketPipeline as written (the target adapts addresses, never these fields). */
  readonly pipeline: PipelineObject;
  private readonly example: ManifestObject[];
  /** Tick counts per 5m window at the moment the aggregator was started (step 3). */
  private ticksAtTrigger: WindowTicks[] = [];
  private failed: string | undefined;

  /**
   * `connect` gives the target once the runner has set it up (test frameworks collect the
   * steps before their setup runs).
   */
  constructor(
    root: string,
    private readonly connect: () => ScenarioTarget,
  ) {
    this.example = scenarioManifest(readExample(root));
    const pipeline = this.example.find(isPipeline);
    if (!pipeline) throw new Error(`no MarketPipeline in ${EXAMPLE_FILES.join(', ')}`);
    if (pipeline.spec.symbols.includes(ADDED_SYMBOL) || !pipeline.spec.timeframes.includes('5m'))
      throw new Error(`the example must have the 5m timeframe and not ${ADDED_SYMBOL}`);
    if (pipeline.spec.symbols.includes(SIBLING.ownSymbol) || pipeline.spec.tenantId === SIBLING.tenantId)
      throw new Error(`the example must not have ${SIBLING.ownSymbol} or tenant ${SIBLING.tenantId}`);
    this.pipeline = pipeline;
  }

  /** The example's tenant: every query of the steps reads its rows only. */
  get tenant(): string {
    return (this.pipeline.spec.tenantId as string | undefined) ?? 'system';
  }

  get siblingName(): string {
    return `${this.name}${SIBLING.suffix}`;
  }

  /** Selects the pods of both pipelines (what a runner must run). */
  get podSelector(): string {
    return `app.kubernetes.io/instance in (${this.name},${this.siblingName})`;
  }

  private get target(): ScenarioTarget {
    return this.connect();
  }

  private get k(): Kubectl {
    return this.target.kubectl;
  }

  get name(): string {
    return this.pipeline.metadata.name;
  }

  /** The timeframe step 4 drops: one the example has besides 5m. */
  get droppedTimeframe(): Timeframe {
    const tf = this.pipeline.spec.timeframes.find((t) => t !== '5m');
    if (!tf) throw new Error('the example needs a second timeframe for the scenario to drop');
    return tf;
  }

  get steps(): ScenarioStep[] {
    return [
      {
        title: 'the simulator example is applied and its MarketPipeline becomes Ready',
        timeoutMs: 180_000,
        run: () => this.applyExample(),
      },
      {
        title: 'ticks of every symbol reach PostgreSQL',
        timeoutMs: 90_000,
        run: () => this.waitForTicks(this.pipeline.spec.symbols, 0),
      },
      {
        title: 'a second MarketPipeline on the same servers gets its ticks, under its own tenant',
        timeoutMs: 90_000,
        run: () =>
          this.waitForTicks([this.pipeline.spec.symbols[0]!, SIBLING.ownSymbol], 0, SIBLING.tenantId),
      },
      {
        title: '5m bars built by the aggregator Job reach ClickHouse and agree with the ticks',
        timeoutMs: 120_000,
        run: () => this.aggregateFiveMinuteBars(),
      },
      {
        title: `adding ${ADDED_SYMBOL} and dropping a timeframe: the pipeline follows`,
        timeoutMs: 180_000,
        run: () => this.changePipeline(),
      },
      {
        title: 'neither pipeline’s ticks or bars appear under the other’s tenant',
        timeoutMs: 30_000,
        run: () => this.assertTenantsApart(),
      },
      {
        title: 'no workload crashed, restarted, exited non-zero or failed to start',
        timeoutMs: 30_000,
        run: () => this.assertHealthy(),
      },
    ].map((step) => ({ ...step, run: () => this.once(step.title, step.run) }));
  }

  /** A step after a failed one fails at once, naming the first failure (no cascade of timeouts). */
  private async once(title: string, run: () => Promise<void>): Promise<void> {
    if (this.failed) throw new Error(`skipped: an earlier step failed (${this.failed})`);
    this.target.log(`step: ${title}`);
    try {
      await run();
    } catch (error) {
      this.failed = title;
      throw error;
    }
  }

  // --- step 1 ------------------------------------------------------------------------------

  private async applyExample(): Promise<void> {
    const manifest = this.target.adaptExample(this.example);
    const adapted = manifest.find(isPipeline)!;
    const yaml = [...manifest, siblingPipeline(adapted)].map((o) => stringify(o)).join('---\n');
    await this.k.run(['apply', '-f', '-'], { input: yaml });
    await this.kubectlWait(['mpl/' + this.name, 'mpl/' + this.siblingName, '--for=condition=Ready'], 170);
  }

  // --- step 2 ------------------------------------------------------------------------------

  /** Waits until each symbol has ticks of `tenant` in PostgreSQL newer than `afterMs`. */
  private async waitForTicks(symbols: string[], afterMs: number, tenant = this.tenant): Promise<void> {
    await this.until(
      `ticks of ${symbols.join(', ')} (tenant ${tenant}) after ${new Date(afterMs).toISOString()} in PostgreSQL`,
      async () => {
        const rows = await this.target.postgres<{ symbol: string; ticks: number }>(
          `SELECT symbol, count(*)::int AS ticks FROM market_ticks
            WHERE tenant_id = '${tenant}' AND timestamp_ms > ${afterMs} GROUP BY symbol`,
        );
        const counts = Object.fromEntries(rows.map((r) => [r.symbol, Number(r.ticks)]));
        return { done: symbols.every((s) => (counts[s] ?? 0) > 0), last: counts };
      },
      85_000,
    );
  }

  // --- step 3 ------------------------------------------------------------------------------

  /**
   * 5m bars without waiting for the schedule: a Job made from the CronJob exactly as
   * `kubectl create job --from=cronjob/…` makes it (same pod template, command, env), with
   * one extra argument, `--now <end of the current 5m window>`. The simulator streams live
   * quotes only, so the first closed 5m window would otherwise be up to five minutes away;
   * with --now the aggregator treats the running window as closed and builds its bar from
   * the ticks that reached PostgreSQL so far. The scheduled run at the window's end builds
   * it again with every tick, as a newer version of the same bar (aggregator README).
   */
  private async aggregateFiveMinuteBars(): Promise<void> {
    const cronJob = `${this.name}-aggregator-5m`;
    const triggerMs = Date.now();
    const windowEnd = barStart('5m', triggerMs) + TIMEFRAME_MS['5m'];
    // The aggregator's scheduled window: the last closed bar and AGGREGATE_LOOKBACK_BARS (2) before it.
    this.ticksAtTrigger = await this.windowTicks(windowEnd - 3 * TIMEFRAME_MS['5m'], windowEnd);
    const without = this.pipeline.spec.symbols.filter(
      (s) => !this.ticksAtTrigger.some((w) => w.symbol === s),
    );
    if (without.length) throw new Error(`no ticks to aggregate for ${without.join(', ')}`);

    const jobName = `${cronJob}-e2e`;
    const job = JSON.parse(
      await this.k.run([
        'create',
        'job',
        jobName,
        `--from=cronjob/${cronJob}`,
        '--dry-run=client',
        '-o',
        'json',
      ]),
    ) as V1Job;
    const container = job.spec!.template.spec!.containers[0]!;
    container.args = [...(container.args ?? []), '--now', new Date(windowEnd).toISOString()];
    // The window is still running, so the collector's coverage cannot reach its end: do not
    // wait for it (the bars come out partial, ranked below any complete or downloaded bar;
    // README "Coverage, watermark and precedence").
    container.env = [...(container.env ?? []), { name: 'AGGREGATE_WATERMARK_WAIT_SECONDS', value: '0' }];
    this.target.log(`aggregating with --now ${new Date(windowEnd).toISOString()}`);
    await this.k.run(['create', '-f', '-'], { input: JSON.stringify(job) });
    await this.kubectlWait([`job/${jobName}`, '--for=condition=Complete'], 100);

    // Wait for the bar of every window that had ticks (not just one bar per symbol): the
    // bridge writes them in batches, so the last window's bars may arrive a batch later.
    const windows = this.ticksAtTrigger.map((w) => `${w.symbol} ${w.windowMs}`);
    await this.until(
      `5m bars of ${windows.length} windows in ClickHouse`,
      async () => {
        const have = new Set((await this.bars('5m')).map((b) => `${b.symbol} ${b.windowMs}`));
        const missing = windows.filter((w) => !have.has(w));
        return { done: missing.length === 0, last: missing };
      },
      60_000,
    );
    await this.assertBarsMatchTicks();
  }

  private async windowTicks(fromMs: number, toMs: number): Promise<WindowTicks[]> {
    const rows = await this.target.postgres<WindowTicks>(
      `SELECT symbol, (timestamp_ms / 300000) * 300000 AS "windowMs", count(*)::int AS ticks,
              (array_agg(mid ORDER BY time, bid, ask, exchange))[1] AS open
         FROM market_ticks
        WHERE tenant_id = '${this.tenant}' AND timestamp_ms >= ${fromMs} AND timestamp_ms < ${toMs}
        GROUP BY 1, 2`,
    );
    return rows.map((r) => ({
      symbol: r.symbol,
      windowMs: Number(r.windowMs),
      ticks: Number(r.ticks),
      open: Number(r.open),
    }));
  }

  private async bars(timeframe: Timeframe): Promise<Bar[]> {
    const rows = await this.target.clickhouse<Bar>(
      `SELECT symbol, timestamp_ms AS windowMs, open, high, low, close, volume
         FROM aggregates FINAL WHERE tenant_id = '${this.tenant}' AND timeframe = '${timeframe}'
         ORDER BY symbol, timestamp_ms`,
    );
    return rows.map((r) => ({
      symbol: r.symbol,
      windowMs: Number(r.windowMs),
      open: Number(r.open),
      high: Number(r.high),
      low: Number(r.low),
      close: Number(r.close),
      volume: Number(r.volume),
    }));
  }

  /**
   * Every window that had ticks when the aggregator started has a bar: its open is the
   * window's first tick, it counts at least the ticks stored then (nothing lost on the
   * way to ClickHouse) and at most those stored now (nothing invented or doubled).
   */
  private async assertBarsMatchTicks(): Promise<void> {
    const bars = await this.bars('5m');
    const first = Math.min(...this.ticksAtTrigger.map((w) => w.windowMs));
    const ticksNow = await this.windowTicks(first, first + 3 * TIMEFRAME_MS['5m']);
    const problems: string[] = [];
    for (const before of this.ticksAtTrigger) {
      const where = `${before.symbol} ${new Date(before.windowMs).toISOString()}`;
      const bar = bars.find((b) => b.symbol === before.symbol && b.windowMs === before.windowMs);
      const now = ticksNow.find((w) => w.symbol === before.symbol && w.windowMs === before.windowMs);
      if (!bar) {
        problems.push(`${where}: no 5m bar (${before.ticks} ticks)`);
        continue;
      }
      if (bar.open !== before.open)
        problems.push(`${where}: open ${bar.open}, first tick's mid ${before.open}`);
      if (bar.volume < before.ticks || bar.volume > (now?.ticks ?? 0))
        problems.push(`${where}: volume ${bar.volume} outside [${before.ticks}, ${now?.ticks}] ticks`);
      if (!(bar.low <= Math.min(bar.open, bar.close) && bar.high >= Math.max(bar.open, bar.close)))
        problems.push(`${where}: inconsistent OHLC ${JSON.stringify(bar)}`);
    }
    if (problems.length) throw new Error(`5m bars do not match the ticks:\n${problems.join('\n')}`);
  }

  // --- step 4 ------------------------------------------------------------------------------

  private async changePipeline(): Promise<void> {
    const dropped = this.droppedTimeframe;
    const symbols = [...this.pipeline.spec.symbols, ADDED_SYMBOL];
    const timeframes = this.pipeline.spec.timeframes.filter((t) => t !== dropped);
    const live = await this.k.json<{ metadata: { generation: number } }>(['get', 'mpl', this.name]);
    const changedAt = Date.now();
    await this.k.run([
      'patch',
      'mpl',
      this.name,
      '--type=merge',
      '-p',
      JSON.stringify({ spec: { symbols, timeframes } }),
    ]);
    const generation = live.metadata.generation + 1;
    await this.kubectlWait(
      [`mpl/${this.name}`, `--for=jsonpath={.status.observedGeneration}=${generation}`],
      60,
    );
    await this.kubectlWait([`cronjob/${this.name}-aggregator-${dropped}`, '--for=delete'], 60);
    const cronJobs = await this.k.json<{ items: V1CronJob[] }>([
      'get',
      'cronjobs',
      '-l',
      `app.kubernetes.io/instance=${this.name},app.kubernetes.io/component=aggregator`,
    ]);
    const left = cronJobs.items.map((c) => c.metadata!.name!).sort();
    const expected = timeframes.map((tf) => `${this.name}-aggregator-${tf}`).sort();
    if (JSON.stringify(left) !== JSON.stringify(expected))
      throw new Error(`aggregator CronJobs ${left.join(', ')}; expected ${expected.join(', ')}`);

    // The ConfigMap changed, so the Deployments roll (a new ReplicaSet each).
    for (const component of ['simulator', 'collector', 'bridge']) {
      await this.guard((signal) =>
        this.k.run(['rollout', 'status', `deployment/${this.name}-${component}`, '--timeout=120s'], {
          signal,
        }),
      );
    }
    await this.kubectlWait([`mpl/${this.name}`, '--for=condition=Ready'], 60);
    await this.waitForTicks(symbols, changedAt);
  }

  // --- two pipelines ------------------------------------------------------------------------

  /**
   * Each tenant holds only the symbols its pipeline collects, in both databases, and both
   * hold the symbol they share (the same feed collected twice: neither copy was dropped).
   */
  private async assertTenantsApart(): Promise<void> {
    const mainSymbols = [...this.pipeline.spec.symbols, ADDED_SYMBOL];
    const siblingSymbols = [this.pipeline.spec.symbols[0]!, SIBLING.ownSymbol];
    const ticks = await this.target.postgres<{ tenant_id: string; symbol: string }>(
      `SELECT DISTINCT tenant_id, symbol FROM market_ticks WHERE tenant_id IN ('${this.tenant}', '${SIBLING.tenantId}')`,
    );
    const bars = await this.target.clickhouse<{ tenant_id: string; symbol: string }>(
      `SELECT DISTINCT tenant_id, symbol FROM aggregates WHERE tenant_id IN ('${this.tenant}', '${SIBLING.tenantId}')`,
    );
    const problems: string[] = [];
    for (const [where, rows] of [
      ['market_ticks', ticks],
      ['aggregates', bars],
    ] as const) {
      for (const r of rows) {
        const own = r.tenant_id === this.tenant ? mainSymbols : siblingSymbols;
        if (!own.includes(r.symbol)) problems.push(`${where}: ${r.symbol} under tenant ${r.tenant_id}`);
      }
    }
    const shared = this.pipeline.spec.symbols[0]!;
    for (const tenant of [this.tenant, SIBLING.tenantId]) {
      if (!ticks.some((r) => r.tenant_id === tenant && r.symbol === shared))
        problems.push(`market_ticks: no ${shared} ticks of tenant ${tenant}`);
    }
    if (problems.length) throw new Error(`the pipelines' data crossed:\n${problems.join('\n')}`);
  }

  // --- health --------------------------------------------------------------------------------

  /** Fails, with the container's output, on any sign that a workload did not run as configured. */
  async assertHealthy(): Promise<void> {
    const runnerFailures = await this.target.runnerFailures();
    const problems = runnerFailures.map((f) => f.message);
    const reported = (pod: string, container: string) =>
      runnerFailures.some((f) => f.pod === pod && f.container === container);
    const pods = await this.k.json<{ items: V1Pod[] }>(['get', 'pods', '-l', this.podSelector]);
    for (const pod of pods.items) {
      if (pod.metadata!.deletionTimestamp) continue;
      for (const status of pod.status?.containerStatuses ?? []) {
        const waiting = status.state?.waiting;
        const terminated = status.state?.terminated ?? status.lastState?.terminated;
        const what = `pod ${pod.metadata!.name} container ${status.name}`;
        if (reported(pod.metadata!.name!, status.name)) continue;
        if (waiting && BAD_WAITING_REASONS.has(waiting.reason ?? '')) {
          problems.push(`${what}: ${waiting.reason}: ${waiting.message ?? ''}`);
        } else if (status.restartCount > 0 || (terminated && terminated.exitCode !== 0)) {
          const output = await this.target
            .containerOutput(pod.metadata!.name!, status.name, status.restartCount > 0)
            .catch((e: Error) => `(no output: ${e.message})`);
          problems.push(
            `${what}: exit code ${terminated?.exitCode ?? '?'} (${terminated?.reason ?? ''}), ` +
              `${status.restartCount} restarts; output:\n${output}`,
          );
        }
      }
    }
    if (problems.length) throw new Error(`workload failure:\n${problems.join('\n\n')}`);
  }

  // --- waiting -------------------------------------------------------------------------------

  /** `kubectl wait`, failing early when a workload fails meanwhile. */
  private kubectlWait(args: string[], timeoutSeconds: number): Promise<string> {
    return this.guard((signal) => this.k.run(['wait', ...args, `--timeout=${timeoutSeconds}s`], { signal }));
  }

  /** Races `work` against the health check, so a crash fails the step now, not at its timeout. */
  private async guard<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const abort = new AbortController();
    const running = work(abort.signal);
    const watch = (async () => {
      while (!abort.signal.aborted) {
        await this.assertHealthy();
        // Abortable, so the pause ends with the work and leaves no timer to hold jest open.
        await sleep(2000, undefined, { signal: abort.signal }).catch(() => undefined);
      }
    })();
    try {
      return await Promise.race([running, watch.then(() => running)]);
    } finally {
      abort.abort();
      running.catch(() => undefined);
      watch.catch(() => undefined);
    }
  }

  /** Polls `probe` (each round after a health check) until it is done; bounded. */
  private async until(
    what: string,
    probe: () => Promise<{ done: boolean; last: unknown }>,
    timeoutMs: number,
  ): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    for (;;) {
      await this.assertHealthy();
      try {
        const result = await probe();
        if (result.done) return;
        last = result.last;
      } catch (error) {
        last = error instanceof Error ? error.message : error;
      }
      if (Date.now() > deadline)
        throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${JSON.stringify(last)}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

interface WindowTicks {
  symbol: string;
  windowMs: number;
  ticks: number;
  open: number;
}

interface Bar {
  symbol: string;
  windowMs: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}
