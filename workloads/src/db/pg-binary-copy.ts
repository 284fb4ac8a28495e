// Rows in PostgreSQL's binary COPY format ("COPY … FROM STDIN (FORMAT binary)", see the
// PostgreSQL manual, COPY, "Binary Format"): a fixed header, then per row a 16-bit field
// count and each field as a 32-bit length and the type's binary ("send") representation,
// then a -1 trailer; all integers big-endian.
//
// Why binary: the database then parses no text (float8in and timestamptz_in are much of
// what a text COPY costs it), and the writer formats no numbers or dates (a
// Date.toISOString is ~1.6 µs here, a float ~0.3 µs): less CPU on both sides for the
// bridge's hottest path (bench/bridge-ingest.ts).
//
// A value the format would change is refused with NotRepresentable instead of being
// written differently (a wrapped integer, a date that rolls over): the caller then writes
// that batch another way and lets the database judge the value.

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
/** PostgreSQL's epoch for timestamps, 2000-01-01T00:00:00Z, in Unix milliseconds. */
const PG_EPOCH_MS = 946_684_800_000;
const TWO_32 = 4_294_967_296;
const INT32_MIN = -2_147_483_648;
const INT32_MAX = 2_147_483_647;

/** A value the binary format cannot carry exactly as given. */
export class NotRepresentable extends Error {
  override name = 'NotRepresentable';
}

/** An ISO-8601 UTC time as Date.toISOString() writes it: Date.parse reads it exactly. */
const TO_ISO_STRING_FORM = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/**
 * Milliseconds of an ISO-8601 time, only when they say exactly what the text says: in
 * Date.toISOString()'s form and naming a real date (Date.parse rolls 02-30 over into
 * March, where PostgreSQL refuses it). Anything else is NotRepresentable.
 */
export function exactIsoMs(text: string): number {
  const ms = TO_ISO_STRING_FORM.test(text) ? Date.parse(text) : Number.NaN;
  if (!Number.isFinite(ms) || new Date(ms).toISOString() !== text) {
    throw new NotRepresentable(`time "${text}" is not in the exact form of Date.toISOString()`);
  }
  return ms;
}

export class BinaryCopyBuilder {
  private buf: Buffer;
  private pos = 0;
  /** Encoded text fields by value: the same few strings (tenant, symbol, source) repeat in every row. */
  private readonly textCache = new Map<string, Buffer>();

  constructor(initialBytes = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(Math.max(initialBytes, 64));
    this.pos = SIGNATURE.copy(this.buf, 0);
    this.pos = this.buf.writeInt32BE(0, this.pos); // flags: no OIDs
    this.pos = this.buf.writeInt32BE(0, this.pos); // no header extension
  }

  /** Starts a row of `fields` fields; exactly that many field calls must follow. */
  row(fields: number): this {
    this.ensure(2);
    this.pos = this.buf.writeInt16BE(fields, this.pos);
    return this;
  }

  float8(value: number): this {
    if (!Number.isFinite(value)) throw new NotRepresentable(`float8 ${value} is not a finite number`);
    this.ensure(12);
    this.pos = this.buf.writeInt32BE(8, this.pos);
    this.pos = this.buf.writeDoubleBE(value, this.pos);
    return this;
  }

  int4(value: number): this {
    if (!Number.isInteger(value) || value < INT32_MIN || value > INT32_MAX) {
      throw new NotRepresentable(`integer ${value} does not fit in 32 bits`);
    }
    this.ensure(8);
    this.pos = this.buf.writeInt32BE(4, this.pos);
    this.pos = this.buf.writeInt32BE(value, this.pos);
    return this;
  }

  int8(value: number): this {
    if (!Number.isSafeInteger(value)) throw new NotRepresentable(`bigint ${value} is not a safe integer`);
    this.ensure(12);
    this.pos = this.buf.writeInt32BE(8, this.pos);
    this.writeInt64(value);
    return this;
  }

  /** timestamptz from Unix milliseconds: binary, it is the int8 of microseconds since 2000-01-01 UTC. */
  timestamptzMs(ms: number): this {
    // Exact while the microseconds stay below 2^53 (past the year 2200); int8 refuses beyond.
    return this.int8((ms - PG_EPOCH_MS) * 1000);
  }

  text(value: string): this {
    let bytes = this.textCache.get(value);
    if (!bytes) {
      // PostgreSQL text cannot hold NUL; a text COPY or INSERT refuses it with its own message.
      if (value.includes('\0')) throw new NotRepresentable('text contains a NUL character');
      bytes = Buffer.from(value, 'utf8');
      if (this.textCache.size < 1024) this.textCache.set(value, bytes);
    }
    this.ensure(4 + bytes.length);
    this.pos = this.buf.writeInt32BE(bytes.length, this.pos);
    this.pos += bytes.copy(this.buf, this.pos);
    return this;
  }

  /** The whole COPY payload, trailer included; the builder must not be used afterwards. */
  finish(): Buffer {
    this.ensure(2);
    this.pos = this.buf.writeInt16BE(-1, this.pos);
    return this.buf.subarray(0, this.pos);
  }

  /** A signed 64-bit integer from a safe integer, as two 32-bit halves (no BigInt per value). */
  private writeInt64(value: number): void {
    const high = Math.floor(value / TWO_32);
    this.pos = this.buf.writeInt32BE(high, this.pos);
    this.pos = this.buf.writeUInt32BE(value - high * TWO_32, this.pos);
  }

  private ensure(bytes: number): void {
    if (this.pos + bytes <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + bytes));
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
  }
}
