// ClickHouse's error contract over HTTP, for the chDB test adapter (server.mjs): the body
// `Code: <n>. DB::Exception: <message>. (<NAME>) (version <v>)`, the X-ClickHouse-Exception-Code
// header and the HTTP status that ClickHouse derives from the code
// (ClickHouse src/Server/HTTP/exceptionCodeToHTTPStatus.cpp; numbers from errorCodeToName()).

/** @type {[number, number[]][]} */
const STATUS_CODES = [
  [401, [194]], // REQUIRED_PASSWORD
  [403, [192, 193, 497, 512, 516]], // UNKNOWN_USER, WRONG_PASSWORD, ACCESS_DENIED, ..., AUTHENTICATION_FAILED
  // BAD_ARGUMENTS, CANNOT_PARSE_*, SYNTAX_ERROR, TYPE_MISMATCH, INCORRECT_DATA, ...
  [
    400,
    [
      6, 8, 15, 25, 26, 27, 36, 37, 38, 41, 44, 53, 62, 72, 117, 123, 167, 168, 223, 321, 376, 427, 441, 675,
      676,
    ],
  ],
  // UNKNOWN_TABLE, UNKNOWN_FUNCTION, UNKNOWN_IDENTIFIER, UNKNOWN_DATABASE, UNKNOWN_SETTING, UNKNOWN_FORMAT, ...
  [404, [46, 47, 50, 56, 60, 63, 73, 78, 81, 115, 152, 336, 511]],
  [413, [229]], // QUERY_IS_TOO_LARGE
  [501, [48]], // NOT_IMPLEMENTED
  [503, [76, 209, 439]], // CANNOT_OPEN_FILE, SOCKET_TIMEOUT, CANNOT_SCHEDULE_TASK
  [411, [381]], // HTTP_LENGTH_REQUIRED
  [408, [159]], // TIMEOUT_EXCEEDED
  [415, [779]], // UNSUPPORTED_MEDIA_TYPE
];
const STATUS = new Map(STATUS_CODES.flatMap(([status, codes]) => codes.map((code) => [code, status])));

/** @param {number} code a ClickHouse exception code @returns {number} the HTTP status ClickHouse replies with */
export function httpStatus(code) {
  return STATUS.get(code) ?? 500;
}

/** An error shaped like the engine's own: `Code: <n>. DB::Exception: <message>. (<NAME>)`. */
export function clickHouseError(
  /** @type {number} */ code,
  /** @type {string} */ message,
  /** @type {string} */ name,
) {
  return new Error(`Code: ${code}. DB::Exception: ${message}. (${name})`);
}

/**
 * The response body and code for any error: engine errors keep their text; anything else becomes
 * UNKNOWN_EXCEPTION (1002). ClickHouse ends the body with the server version and a newline.
 * @param {unknown} error @param {string} version
 */
export function formatError(error, version) {
  const message = error instanceof Error ? error.message : String(error);
  const match = /Code: (\d+)\. /.exec(message);
  const text = match
    ? message.slice(match.index)
    : `Code: 1002. DB::Exception: ${message}. (UNKNOWN_EXCEPTION)`;
  const suffix = /\(version [^()]*(\([^()]*\))?\)\s*$/.test(text) ? '' : ` (version ${version})`;
  return { code: match ? Number(match[1]) : 1002, text: `${text.trimEnd()}${suffix}\n` };
}
