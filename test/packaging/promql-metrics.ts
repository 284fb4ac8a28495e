// The metric names a PromQL expression selects, for checking alert rules against the
// metrics the product exports. A small lexer, not a full parser: strings, label matchers,
// range and offset durations, grouping label lists and function calls are removed; what
// remains as a bare identifier is a metric name. The alert test asserts the exact set found
// in the chart's rules, so anything this misses shows up there as a difference.

const KEYWORDS = new Set([
  'and',
  'or',
  'unless',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'offset',
  'bool',
  'atan2',
  'inf',
  'nan',
]);

export function metricNames(expr: string): Set<string> {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ') // strings
    .replace(/\{[^}]*\}/g, ' ') // label matchers
    .replace(/\[[^\]]*\]/g, ' ') // ranges and subqueries
    .replace(/\boffset\s+-?[0-9a-z]+/g, ' ') // offset durations
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' '); // label lists
  const names = new Set<string>();
  for (const match of stripped.matchAll(/(?<![A-Za-z0-9_:.])[A-Za-z_:][A-Za-z0-9_:]*(?=\s*(\()?)/g)) {
    const [word, call] = [match[0], match[1]];
    if (call || KEYWORDS.has(word.toLowerCase())) continue;
    names.add(word);
  }
  return names;
}
