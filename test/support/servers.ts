// Integration tests call these to get a server's settings. A missing setting fails the
// test with the server's name and how to start it: nothing is ever skipped silently.

export type TestServer = 'NATS' | 'PostgreSQL' | 'Kafka' | 'ClickHouse' | 'Redis' | 'Kubernetes API server';

export function requireEnv(server: TestServer, name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') {
    throw new Error(
      `${server} test server is not configured: ${name} is unset. ` +
        'Run `make test-env` (it starts every test server and writes .test-env/env).',
    );
  }
  return value;
}

/** Wraps the first contact with a server so that a refused connection names the server. */
export async function reach<T>(server: TestServer, where: string, attempt: () => Promise<T>): Promise<T> {
  try {
    return await attempt();
  } catch (error) {
    const reason = (error instanceof Error ? error.message : String(error)).replace(/\.+$/, '');
    throw new Error(`${server} test server at ${where} is not reachable: ${reason}. Run \`make test-env\`.`, {
      cause: error,
    });
  }
}

/** A short random suffix so that parallel test files never share a stream, table or namespace. */
export function uniqueSuffix(): string {
  return `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
}
