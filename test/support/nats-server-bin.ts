// The nats-server binary the test environment runs: NATS_SERVER_BIN, which
// scripts/test-env/nats.sh writes to .test-env/env (its own build of the pinned version),
// never whatever nats-server happens to be on PATH (Debian's may be years older). Missing,
// a test fails here, loudly, whatever CI says.
export function natsServerBinary(): string {
  const bin = process.env.NATS_SERVER_BIN ?? '';
  if (bin === '') {
    throw new Error(
      'NATS_SERVER_BIN is not set: run `make test-env` (it builds nats-server and writes .test-env/env)',
    );
  }
  return bin;
}
