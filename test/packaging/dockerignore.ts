// .dockerignore semantics, enough for the packaging tests: patterns in order, the last one
// that matches a path (or one of its parent folders) decides, `!` re-includes.
import { readFileSync } from 'node:fs';

interface Rule {
  include: boolean;
  pattern: RegExp;
}

function globToRegExp(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      // `**/` matches zero or more folders.
      source += glob[i + 2] === '/' ? '(?:.*/)?' : '.*';
      i += glob[i + 2] === '/' ? 2 : 1;
    } else if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else source += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

export function readDockerignore(file: string): (path: string) => boolean {
  const rules: Rule[] = readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const include = l.startsWith('!');
      const glob = (include ? l.slice(1) : l).replace(/^\/+|\/+$/g, '');
      return { include, pattern: globToRegExp(glob) };
    });
  /** Whether `path` (relative to the context, no leading ./) is sent to the builder. */
  return (path: string) => {
    const parts = path.replace(/^\.\/|\/+$/g, '').split('/');
    const candidates = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
    let included = true;
    for (const rule of rules) {
      if (candidates.some((c) => rule.pattern.test(c))) included = rule.include;
    }
    return included;
  };
}
