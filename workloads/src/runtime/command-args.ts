// Command-line arguments of the one-shot commands (aggregate, backfill, simulate): a usage
// error the command reports with exit code 2, `--name value` / `--name=value` options, and
// the --from/--to span both jobs take.

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * The values of `--name value` or `--name=value` options, each at most once; `help` when
 * --help or -h is among them. Anything else is a UsageError.
 */
export function readOptions<N extends string>(
  args: readonly string[],
  names: readonly N[],
): { help: true } | { help: false; values: Partial<Record<N, string>> } {
  const values: Partial<Record<N, string>> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--help' || arg === '-h') return { help: true };
    const match = /^--([a-z]+)(?:=(.*))?$/.exec(arg);
    const name = match?.[1] as N | undefined;
    if (!match || !names.includes(name!)) throw new UsageError(`unknown argument '${arg}'`);
    const value = match[2] ?? args[++i];
    if (value === undefined || value === '') throw new UsageError(`--${name} needs a value`);
    if (values[name!] !== undefined) throw new UsageError(`--${name} given twice`);
    values[name!] = value;
  }
  return { help: false, values };
}

/** --from/--to as instants: --to only with --from, and after it. */
export function parseSpan(values: { from?: string; to?: string }): { fromMs?: number; toMs?: number } {
  const fromMs = values.from === undefined ? undefined : parseInstant('--from', values.from);
  const toMs = values.to === undefined ? undefined : parseInstant('--to', values.to);
  if (toMs !== undefined && fromMs === undefined) throw new UsageError('--to needs --from');
  if (fromMs !== undefined && toMs !== undefined && toMs <= fromMs) {
    throw new UsageError(`--to (${values.to}) must be after --from (${values.from})`);
  }
  return { fromMs, toMs };
}

// A calendar date (taken as UTC midnight) or a date-time with Z or an explicit offset: a
// date-time without a zone would be read in the machine's local time zone.
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2}))?$/;

export function parseInstant(option: string, value: string): number {
  const ms = ISO_INSTANT.test(value) && isCalendarDate(value.slice(0, 10)) ? Date.parse(value) : NaN;
  if (!Number.isFinite(ms)) {
    throw new UsageError(
      `${option} '${value}' is not an ISO-8601 date or date-time with a zone (e.g. 2024-01-25T10:00:00Z)`,
    );
  }
  return ms;
}

/** Date.parse rolls 2024-02-30 over into March; refuse it instead. */
function isCalendarDate(ymd: string): boolean {
  const [y, m, d] = ymd.split('-').map(Number) as [number, number, number];
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}
