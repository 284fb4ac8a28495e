// ClickHouse's HTTP interface runs ONE statement per request, so a schema file is split
// into statements here. A small scanner, not a parser: it splits on `;` except inside
// '...' strings (with \' and '' escapes), "..." and `...` identifiers, -- and # line
// comments and /* */ block comments. Comments are dropped from the output, so a
// statement's text is exactly what is sent; empty statements (trailing `;`) vanish.
export function splitSqlStatements(sql: string): string[] {
  const statements: string[] = [];
  let current = '';
  let i = 0;
  const flush = () => {
    const statement = current.trim();
    if (statement) statements.push(statement);
    current = '';
  };
  while (i < sql.length) {
    const c = sql[i]!;
    const next = sql[i + 1];
    if ((c === '-' && next === '-') || c === '#') {
      const end = sql.indexOf('\n', i);
      i = end === -1 ? sql.length : end; // keep the newline as whitespace
    } else if (c === '/' && next === '*') {
      const end = sql.indexOf('*/', i + 2);
      if (end === -1) throw new Error('unterminated /* comment in SQL');
      current += ' ';
      i = end + 2;
    } else if (c === "'" || c === '"' || c === '`') {
      const end = quotedEnd(sql, i);
      current += sql.slice(i, end);
      i = end;
    } else if (c === ';') {
      flush();
      i++;
    } else {
      current += c;
      i++;
    }
  }
  flush();
  return statements;
}

/** Index just past the quoted token starting at `start` (backslash and doubled-quote escapes). */
function quotedEnd(sql: string, start: number): number {
  const quote = sql[start];
  let i = start + 1;
  while (i < sql.length) {
    if (sql[i] === '\\') i += 2;
    else if (sql[i] === quote && sql[i + 1] === quote) i += 2;
    else if (sql[i] === quote) return i + 1;
    else i++;
  }
  throw new Error(`unterminated ${quote} quote in SQL`);
}
