// What a benchmark reports, and the two ways it is shown: a table on the terminal (also
// pasted into the README) and one JSON file per run under bench/results/.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { MachineInfo } from './machine.js';

/** One line of the results table: the product's figure next to its baseline's. */
export interface ResultRow {
  measure: string;
  unit: string;
  /** Median over the rounds (or the single figure of a run that has no rounds). */
  product: number;
  baseline?: number;
  baselineName?: string;
  /**
   * The product relative to the baseline, oriented so that the target reads naturally:
   * speed for throughput and run time (product ÷ baseline speed), latency and memory as
   * product ÷ baseline.
   */
  ratio?: number;
  target?: string;
  met?: boolean;
  /** Every round's figure, product and baseline, in the order they ran. */
  rounds?: { product: number[]; baseline?: number[] };
}

export interface BenchmarkResult {
  id: string;
  title: string;
  rows: ResultRow[];
  /** Conditions a reader needs to interpret the figures (sizes, settings, caveats). */
  notes: string[];
  /** Anything else measured (per-round raw data, CPU use, RSS), for the JSON file. */
  details: Record<string, unknown>;
  /** Set when the benchmark failed; the run goes on with the next one. */
  error?: string;
}

export interface RunReport {
  schema: 1;
  date: string;
  command: string;
  options: Record<string, unknown>;
  machine: MachineInfo;
  benchmarks: BenchmarkResult[];
}

export function formatNumber(value: number | undefined, unit = ''): string {
  if (value === undefined || Number.isNaN(value)) return '–';
  const abs = Math.abs(value);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : 2;
  const text = value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
  return unit ? `${text} ${unit}` : text;
}

function cells(b: BenchmarkResult, r: ResultRow): string[] {
  return [
    b.id,
    r.measure,
    formatNumber(r.product, r.unit),
    r.baseline === undefined ? '–' : `${formatNumber(r.baseline, r.unit)} (${r.baselineName ?? 'baseline'})`,
    r.ratio === undefined ? '–' : `${formatNumber(r.ratio)}×`,
    r.target ?? '',
    r.met === undefined ? '' : r.met ? 'yes' : 'NO',
  ];
}

const HEADER = ['benchmark', 'measure', 'product (median)', 'baseline (median)', 'ratio', 'target', 'met'];

function rowsOf(report: RunReport): string[][] {
  return report.benchmarks.flatMap((b) =>
    b.error
      ? [[b.id, `FAILED: ${b.error.split('\n')[0]}`, '', '', '', '', '']]
      : b.rows.map((r) => cells(b, r)),
  );
}

/** The table as aligned plain text, for the terminal. */
export function textTable(report: RunReport): string {
  const rows = [HEADER, ...rowsOf(report)];
  const widths = HEADER.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

/** The table as Markdown, for the README. */
export function markdownTable(report: RunReport): string {
  const esc = (c: string) => c.replace(/\|/g, '\\|');
  const rows = rowsOf(report);
  return [
    `| ${HEADER.join(' | ')} |`,
    `| ${HEADER.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');
}

export function machineLine(m: MachineInfo): string {
  return (
    `${m.cores} × ${m.cpuModel}, ${Math.round(m.memoryMb / 1024)} GB RAM, ${m.os}; Node ${m.node}, ` +
    `PostgreSQL ${m.postgres}, nats-server ${m.nats}, ClickHouse ${m.clickhouse}`
  );
}

export function notesText(report: RunReport): string {
  return report.benchmarks
    .filter((b) => b.notes.length > 0)
    .map((b) => `${b.id}:\n${b.notes.map((n) => `  - ${n}`).join('\n')}`)
    .join('\n');
}

/** Writes the run's JSON file and returns its path. */
export function writeReport(report: RunReport, dir: string): string {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${report.date.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  return file;
}
