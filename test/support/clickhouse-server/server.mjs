// ClickHouse's HTTP interface served by chDB (the ClickHouse engine in-process), for TESTS ONLY.
// Production talks to a real ClickHouse server; this stands in for one because Debian ships only
// ClickHouse 18.16 and no registry ships a modern server binary. @clickhouse/client talks to it
// exactly as to a server: same URLs, headers, formats, parameters, settings and error bodies.
//
// Supported: GET /ping and GET / ("Ok."); queries in ?query=, in the POST body, or both (ClickHouse
// appends the body to the URL query, which is how INSERT ... FORMAT X carries its rows);
// param_<name> bound by the engine ({name:Type}); database=; other URL parameters as settings;
// session_id (SET and temporary tables last for the session; URL settings apply to one request and
// are then reset to their defaults, not to an earlier SET); request bodies compressed
// with gzip/deflate/br; gzip/deflate/br responses with enable_http_compression=1; multipart params;
// Basic auth, X-ClickHouse-User/Key or user=/password=; ClickHouse's error bodies, HTTP status codes
// and X-ClickHouse-Exception-Code; X-ClickHouse-Summary/Query-Id/Format/Timezone headers.
// Not supported: streaming (results are buffered), progress headers, the native compress=/decompress=
// protocol, external tables, zstd bodies, query cancellation. The engine is clickhouse-local-like:
// it accepts several ;-separated statements in one request (a real server refuses them), the
// `default` database is an Overlay database, and `system` tables are in-memory.
//
// Usage: node server.mjs   (env CLICKHOUSE_PORT=18123, CLICKHOUSE_DATA_DIR, CLICKHOUSE_USER=default,
// CLICKHOUSE_PASSWORD='', CLICKHOUSE_LISTEN_HOST=127.0.0.1: the container stand-in of
// scripts/images/dev-servers sets 0.0.0.0). One JSON line per failed request on stderr.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { clearTimeout, setTimeout } from 'node:timers';
import zlib from 'node:zlib';
import { Session } from 'chdb';
import { clickHouseError, formatError, httpStatus } from './errors.mjs';

const port = Number(process.env.CLICKHOUSE_PORT ?? 18123);
const dataDir = path.resolve(process.env.CLICKHOUSE_DATA_DIR ?? '.test-env/clickhouse/data');
const user = process.env.CLICKHOUSE_USER ?? 'default';
const password = process.env.CLICKHOUSE_PASSWORD ?? '';
const listenHost = process.env.CLICKHOUSE_LISTEN_HOST ?? '127.0.0.1';

// chdb's native binding (internal API of chdb 3.4, pinned by package-lock): Session.queryBind would
// TSV-escape parameter values a second time, but HTTP clients send them already in ClickHouse's
// parameter text form, which the engine must get as is; and raw inserts take the body as bytes.
const chdbDir = path.dirname(fileURLToPath(import.meta.resolve('chdb')));
const native = (await import(pathToFileURL(path.join(chdbDir, 'dist/loader.js')).href)).loadNative();

/** URL parameters that are part of the HTTP protocol, not settings. */
const RESERVED = new Set(
  [
    'query database default_format query_id session_id session_timeout session_check close_session role',
    'user password quota_key compress decompress buffer_size wait_end_of_query stacktrace client_protocol_version',
  ]
    .join(' ')
    .split(' '),
);

// One engine per process: every engine call runs through this queue, one at a time.
let tail = Promise.resolve();
/** @template T @param {() => Promise<T>} fn @returns {Promise<T>} */
function serialised(fn) {
  const result = tail.then(fn);
  tail = result.catch(() => undefined);
  return result;
}

/** @param {Session} session @param {string} sql @param {Record<string, string>} [params] */
async function run(session, sql, format = 'TabSeparated', params = {}) {
  const args = Object.keys(params).length > 0 ? [params] : [];
  const r = await native.QueryAsyncConnection(session.connection, sql, format, ...args);
  return { body: r.bytes, readRows: r.rowsRead, readBytes: r.bytesRead, writtenRows: 0, elapsed: r.elapsed };
}

// chDB changes these from a server's defaults (system.settings WHERE changed); put them back.
const serverDefaults = { connectionArgs: ['--implicit_select=0', '--allow_introspection_functions=0'] };
const newSession = () => new Session(dataDir, serverDefaults);
const main = newSession(); // keeps the engine (and its data directory) open
const version = (await run(main, 'SELECT version()')).body.toString().trim();
const timezone = (await run(main, 'SELECT timezone()')).body.toString().trim();

/** Sessions named by session_id; a request without one gets a fresh context, as on a server. */
const sessions = new Map();
/** @param {string | null} id @param {number} timeoutSeconds */
function openSession(id, timeoutSeconds) {
  if (!id) return { session: newSession(), temporary: true };
  let entry = sessions.get(id);
  if (!entry) sessions.set(id, (entry = { session: newSession(), timer: undefined }));
  clearTimeout(entry.timer);
  entry.timer = setTimeout(() => {
    void serialised(async () => {
      if (sessions.get(id) !== entry) return;
      sessions.delete(id);
      entry.session.close();
    });
  }, timeoutSeconds * 1000).unref();
  return { session: entry.session, temporary: false };
}

const quote = (/** @type {string} */ s) => `'${s.replace(/[\\']/g, '\\$&')}'`;

/** Runs one HTTP request's query in the engine. */
async function execute(/** @type {Request} */ r) {
  const settings = [...r.settings];
  for (const [k] of settings) {
    if (!/^[A-Za-z_]\w*$/.test(k)) throw clickHouseError(115, `Unknown setting '${k}'`, 'UNKNOWN_SETTING');
  }
  if (r.urlQuery && r.body.length === 0) settings.unshift(['throw_if_no_data_to_insert', '0']); // as HTTP does
  if (r.readonly && !r.sessionId && !settings.some(([k]) => k === 'readonly'))
    settings.push(['readonly', '2']);
  const { session, temporary } = openSession(r.sessionId, r.sessionTimeout);
  try {
    if (r.database) await run(session, `USE \`${r.database.replace(/[\\`]/g, '\\$&')}\``);
    if (settings.length > 0)
      await run(session, `SET ${settings.map(([k, v]) => `${k} = ${quote(v)}`).join(', ')}`);
    if (r.urlQuery && r.body.length > 0 && Object.keys(r.params).length === 0) {
      // INSERT ... FORMAT X with the rows in the body: handed to the engine as bytes (binary-safe).
      const w = await native.InsertRawAsyncConnection(session.connection, r.urlQuery, r.body, false);
      const { rowsWritten: rows, bytesWritten: bytes, elapsed } = w;
      return { body: Buffer.alloc(0), readRows: rows, readBytes: bytes, writtenRows: rows, elapsed };
    }
    const sql = [r.urlQuery, r.body.toString()].filter((s) => s.length > 0).join('\n');
    if (sql.trim() === '') throw clickHouseError(62, 'Empty query', 'SYNTAX_ERROR');
    return await run(session, sql, r.format, r.params);
  } finally {
    if (temporary) session.close();
    // URL settings apply to one query, not to the session (ClickHouse sets them on the query context).
    else if (settings.length > 0)
      await run(session, `SET ${settings.map(([k]) => `${k} = DEFAULT`).join(', ')}`).catch(() => undefined);
  }
}

/** @typedef {ReturnType<typeof parseRequest>} Request */
function parseRequest(/** @type {URL} */ url, /** @type {Buffer} */ body, /** @type {boolean} */ readonly) {
  const q = url.searchParams;
  const params = /** @type {Record<string, string>} */ ({});
  const settings = /** @type {[string, string][]} */ ([]);
  for (const [k, v] of q) {
    if (k.startsWith('param_')) params[k.slice(6)] = v;
    else if (!RESERVED.has(k)) settings.push([k, v]);
  }
  return {
    urlQuery: q.get('query') ?? '',
    body,
    params,
    settings,
    readonly,
    database: q.get('database'),
    format: q.get('default_format') ?? 'TabSeparated',
    sessionId: q.get('session_id'),
    sessionTimeout: Number(q.get('session_timeout') ?? 60),
    queryId: q.get('query_id') || randomUUID(),
    compress: ['1', 'true'].includes(q.get('enable_http_compression') ?? ''),
  };
}

const DECOMPRESS = new Map([
  ['gzip', zlib.gunzipSync],
  ['deflate', zlib.inflateSync],
  ['br', zlib.brotliDecompressSync],
]);

/** Request body: decompressed per Content-Encoding; multipart parts become the query and params. */
function decodeBody(/** @type {import('node:http').IncomingMessage} */ req, /** @type {Buffer} */ raw, url) {
  const encoding = (req.headers['content-encoding'] ?? '').toLowerCase();
  const decompress = DECOMPRESS.get(encoding);
  if (!decompress && encoding !== '' && encoding !== 'identity')
    throw clickHouseError(48, `Content-Encoding ${encoding} is not supported here`, 'NOT_IMPLEMENTED');
  let body = raw;
  try {
    if (decompress) body = decompress(raw);
  } catch (error) {
    throw clickHouseError(354, `inflate failed: ${String(error)}`, 'ZLIB_INFLATE_FAILED');
  }
  const boundary = /^multipart\/form-data;.*boundary="?([^";]+)"?/i.exec(
    req.headers['content-type'] ?? '',
  )?.[1];
  if (!boundary) return body;
  let query = '';
  for (const part of body.toString().split(`--${boundary}`).slice(1, -1)) {
    const [head = '', ...rest] = part.split('\r\n\r\n');
    const name = /name="([^"]+)"/.exec(head)?.[1] ?? '';
    const value = rest.join('\r\n\r\n').replace(/\r\n$/, '');
    if (name === 'query') query = value;
    else if (name.startsWith('param_')) url.searchParams.set(name, value);
    else
      throw clickHouseError(48, `multipart part ${name} (external data) is not supported`, 'NOT_IMPLEMENTED');
  }
  return Buffer.from(query);
}

function authenticate(/** @type {import('node:http').IncomingMessage} */ req, /** @type {URL} */ url) {
  let [u, p] = [url.searchParams.get('user') ?? 'default', url.searchParams.get('password') ?? ''];
  const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
  if (basic) [u = '', p = ''] = Buffer.from(basic, 'base64').toString().split(/:(.*)/s);
  else if (req.headers['x-clickhouse-user'])
    [u, p] = [String(req.headers['x-clickhouse-user']), String(req.headers['x-clickhouse-key'] ?? '')];
  else if (req.headers.authorization) u = '';
  if (u !== user || p !== password)
    throw clickHouseError(
      516,
      `${u}: Authentication failed: password is incorrect, or there is no user with such name`,
      'AUTHENTICATION_FAILED',
    );
}

function compressed(/** @type {string} */ acceptEncoding, /** @type {Buffer} */ body) {
  if (/\bgzip\b/.test(acceptEncoding)) return ['gzip', zlib.gzipSync(body)];
  if (/\bdeflate\b/.test(acceptEncoding)) return ['deflate', zlib.deflateSync(body)];
  if (/\bbr\b/.test(acceptEncoding)) return ['br', zlib.brotliCompressSync(body)];
  return [undefined, body];
}

const log = (/** @type {Record<string, unknown>} */ fields) =>
  console.error(JSON.stringify({ time: new Date().toISOString(), ...fields }));

let closing = false;
const server = createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  /** @type {Request | undefined} */ let request;
  try {
    if (closing) throw clickHouseError(210, 'The server is shutting down', 'NETWORK_ERROR');
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    if (
      url.pathname === '/ping' ||
      (url.pathname === '/' && req.method === 'GET' && !url.searchParams.has('query'))
    ) {
      return void res.writeHead(200, { 'Content-Type': 'text/html; charset=UTF-8' }).end('Ok.\n');
    }
    if (url.pathname !== '/') return void res.writeHead(404).end(`There is no handle ${url.pathname}\n`);
    authenticate(req, url);
    const body = decodeBody(req, Buffer.concat(chunks), url);
    request = parseRequest(url, body, req.method === 'GET');
    const r = request;
    const result = await serialised(() => execute(r));
    const format = /\bFORMAT\s+(\w+)\s*;?\s*$/i.exec(r.urlQuery || r.body.toString())?.[1] ?? r.format;
    const [encoding, out] = r.compress
      ? compressed(String(req.headers['accept-encoding'] ?? ''), result.body)
      : [undefined, result.body];
    const { readRows: rows, readBytes: bytes, writtenRows: written } = result;
    const summary = {
      read_rows: `${rows}`,
      read_bytes: `${bytes}`,
      written_rows: `${written}`,
      written_bytes: `${written ? bytes : 0}`,
      total_rows_to_read: '0',
      result_rows: `${written ? 0 : rows}`,
      result_bytes: `${written ? 0 : bytes}`,
      elapsed_ns: `${Math.round(result.elapsed * 1e9)}`,
    };
    res.writeHead(200, {
      'Content-Type': format.startsWith('JSON')
        ? 'application/json; charset=UTF-8'
        : 'text/plain; charset=UTF-8',
      ...(encoding ? { 'Content-Encoding': encoding } : {}),
      'X-ClickHouse-Query-Id': r.queryId,
      'X-ClickHouse-Format': format,
      'X-ClickHouse-Timezone': timezone,
      'X-ClickHouse-Summary': JSON.stringify(summary),
    });
    res.end(out);
  } catch (error) {
    const { code, text } = formatError(error, version);
    const status = httpStatus(code);
    const sql = request && `${request.urlQuery}\n${request.body.subarray(0, 300)}`.trim().slice(0, 300);
    log({
      level: 'error',
      method: req.method,
      status,
      code,
      message: text.trim(),
      query: sql,
      query_id: request?.queryId,
    });
    if (!res.headersSent)
      res.writeHead(status, {
        'Content-Type': 'text/plain; charset=UTF-8',
        'X-ClickHouse-Exception-Code': String(code),
        ...(closing ? { Connection: 'close' } : {}),
      });
    res.end(text);
  }
});
server.keepAliveTimeout = 10_000; // sent as Keep-Alive: timeout=10, as ClickHouse does

function shutdown(/** @type {string} */ signal) {
  if (closing) return;
  closing = true;
  log({ level: 'info', message: `${signal}: shutting down` });
  setTimeout(() => process.exit(1), 10_000).unref();
  server.close();
  server.closeIdleConnections();
  void serialised(async () => {
    for (const { session } of sessions.values()) session.close();
    main.close();
  }).finally(() => process.exit(0));
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));

server.on('error', (error) => {
  log({ level: 'fatal', message: error.message });
  process.exit(1);
});
server.listen(port, listenHost, () => {
  log({ level: 'info', message: 'listening', host: listenHost, port, dataDir, version, timezone });
});
