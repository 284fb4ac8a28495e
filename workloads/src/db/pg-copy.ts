// COPY … FROM STDIN through pg-copy-streams, node-postgres's companion library for COPY
// (maintained with it, and tested against each pg release). This used to be our own
// pg "Submittable" reaching into pg's connection (sendCopyFromChunk, endCopyFrom, the
// handle* protocol hooks), which @types/pg does not declare and pg does not promise to
// keep. Measured on the test PostgreSQL, one binary COPY of a 500-tick batch (30 kB) costs
// the client 235 µs of CPU either way (239 with pg-copy-streams, within the noise), so
// the public library costs nothing.
//
// The whole payload goes in one write: the bridge copies one batch at a time, a few
// hundred kB at most.
import type pg from 'pg';
import { from as copyFromStdin } from 'pg-copy-streams';

/**
 * Runs a `COPY <table> (<columns>) FROM STDIN` statement with `data`, already in the
 * format the statement names (pg-binary-copy.ts writes the binary one). Resolves with the
 * rows copied once the server has committed them (pg-copy-streams emits 'finish' only
 * after ReadyForQuery); a COPY is one statement, so in autocommit it either stores every
 * row or none. Rejects with the server's error (with its SQLSTATE `code`) when refused.
 */
export function copyFrom(client: pg.ClientBase, statement: string, data: Buffer): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const copy = client.query(copyFromStdin(statement));
    copy.once('error', reject);
    copy.once('finish', () => resolve(copy.rowCount));
    if (data.length > 0) copy.end(data);
    else copy.end();
  });
}
