// Configuration from environment variables, validated with zod. A wrong or missing value
// stops the process at start with a message that names the variable.
import { z } from 'zod';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses `env` with a schema whose keys are the variable names. */
export function loadConfig<S extends z.ZodObject>(
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
): z.infer<S> {
  // Treat empty strings as unset, as Kubernetes does for an env var with an empty value.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = schema.safeParse(present);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? '(environment)');
      const value = present[name];
      const shown =
        value === undefined ? 'unset' : /PASSWORD|KEY|SECRET|TOKEN/.test(name) ? 'set' : `'${value}'`;
      const item = typeof issue.path[1] === 'number' ? `item ${issue.path[1] + 1}: ` : '';
      // A custom (cross-variable) rule may name a variable left at its default.
      const reason = value === undefined && issue.code !== 'custom' ? 'required' : issue.message;
      return `${name} (${shown}): ${item}${reason}`;
    }),
  );
}

// Reusable field types for environment variables.

export const env = {
  string: () => z.string().min(1),
  port: () => z.coerce.number().int().min(1).max(65535),
  positiveInt: () => z.coerce.number().int().positive(),
  /** Seconds as a decimal (the seed writes LIVE_BATCH_TIMEOUT=5.0), returned in ms. */
  secondsAsMs: () =>
    z.coerce
      .number()
      .positive()
      .max(24 * 3600)
      .transform((s) => Math.round(s * 1000)),
  /** Comma-separated list with blanks removed. */
  list: <T extends z.ZodType<unknown, string>>(item: T) =>
    z
      .string()
      .transform((s) =>
        s
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean),
      )
      .pipe(z.array(item).min(1)),
  boolean: () =>
    z
      .enum(['true', 'false', '1', '0', 'yes', 'no'])
      .transform((v) => v === 'true' || v === '1' || v === 'yes'),
  url: (protocols: string[]) =>
    z.string().refine(
      (s) => {
        try {
          return protocols.includes(new URL(s).protocol.replace(':', ''));
        } catch {
          return false;
        }
      },
      `must be a URL with scheme ${protocols.join(' or ')}`,
    ),
};
