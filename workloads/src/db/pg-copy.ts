// COPY … FROM STDIN through node-postgres, without another package. pg runs
// any object with a submit() method as a query (its "Submittable" interface, the one
// pg-cursor and pg-copy-streams build on) and hands it the protocol messages of its
// statement; a COPY needs only a few of them. The whole payload goes in one CopyData
// message: the bridge copies one batch at a time, a few hundred kB at most.
import type pg from 'pg';

/** The part of pg's Connection a COPY FROM STDIN uses (@types/pg leaves the COPY methods out). */
interface CopyConnection {
  query(text: string): void;
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
}

type Callback = (error: Error | null, rows?: number) => void;

class CopyFromStdin implements pg.Submittable {
  /** Ours, wrapped by pg with its query_timeout timer; called exactly once. */
  callback: Callback | undefined;
  private rows = 0;

  constructor(
    private readonly statement: string,
    private readonly data: Buffer,
    callback: Callback,
  ) {
    this.callback = callback;
  }

  submit(connection: pg.Connection): void {
    connection.query(this.statement);
  }

  handleCopyInResponse(connection: CopyConnection): void {
    if (this.data.length > 0) connection.sendCopyFromChunk(this.data);
    connection.endCopyFrom();
  }

  handleCommandComplete(message: { text?: string }): void {
    this.rows = Number(/^COPY (\d+)$/.exec(message.text ?? '')?.[1] ?? 0);
  }

  handleReadyForQuery(): void {
    this.finish(null, this.rows);
  }

  /** pg calls this instead of handleReadyForQuery when the statement (or the connection) fails. */
  handleError(error: Error): void {
    this.finish(error);
  }

  // Messages of other statements; a COPY FROM STDIN never receives them.
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  handleCopyData(): void {}

  private finish(error: Error | null, rows?: number): void {
    const callback = this.callback;
    this.callback = undefined;
    callback?.(error, rows);
  }
}

/**
 * Runs a `COPY <table> (<columns>) FROM STDIN` statement with `data`, already in the
 * format the statement names (pg-binary-copy.ts writes the binary one). Resolves with the
 * rows copied; a COPY is one statement, so in autocommit it either stores every row or none.
 */
export function copyFrom(client: pg.ClientBase, statement: string, data: Buffer): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    client.query(
      new CopyFromStdin(statement, data, (error, rows) => (error ? reject(error) : resolve(rows ?? 0))),
    );
  });
}
