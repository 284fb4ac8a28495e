// The nats-server binary the test environment uses: NATS_SERVER_BIN from .test-env/env when
// scripts/test-env/nats.sh writes it (its own build), else the nats-server on PATH (the one
// nats.sh installs from Debian). Missing, a test fails here, loudly, whatever CI says.
import { execFileSync } from 'node:child_process';

export function natsServerBinary(): string {
  const fromEnv = process.env.NATS_SERVER_BIN;
  if (fromEnv) return fromEnv;
  try {
    return execFileSync('sh', ['-c', 'command -v nats-server'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(
      'no nats-server: NATS_SERVER_BIN is unset and none is on PATH (run `make test-env`, then source .test-env/env)',
    );
  }
}
