// A small Dockerfile reader for the packaging tests: instructions (with line continuations
// and comments handled), grouped by build stage, with the ARG defaults substituted in FROM.
// Enough for the checks the tests make; not a full BuildKit parser.
import { readFileSync } from 'node:fs';

export interface Instruction {
  keyword: string;
  /** The text after the keyword, continuation lines joined. */
  value: string;
  /** `--from=build` and friends, for COPY. */
  flags: Record<string, string>;
  /** Arguments without the flags: JSON exec form parsed, else split on whitespace. */
  args: string[];
  /** Whether it was written in exec (JSON array) form. */
  execForm: boolean;
}

export interface Stage {
  /** The image it starts from, ARGs substituted. */
  from: string;
  name: string | undefined;
  instructions: Instruction[];
}

export interface Dockerfile {
  /** ARGs declared before the first FROM, with their defaults. */
  globalArgs: Record<string, string>;
  stages: Stage[];
  /** The leading `# syntax=` directive, if any. */
  syntax: string | undefined;
}

function parseInstruction(line: string): Instruction {
  const match = /^(\w+)\s+([\s\S]*)$/.exec(line.trim());
  if (!match) throw new Error(`not an instruction: ${line}`);
  const keyword = match[1]!.toUpperCase();
  let rest = match[2]!.trim();
  const flags: Record<string, string> = {};
  for (
    let flag = /^--([\w-]+)(?:=(\S+))?\s+/.exec(rest);
    flag;
    flag = /^--([\w-]+)(?:=(\S+))?\s+/.exec(rest)
  ) {
    flags[flag[1]!] = flag[2] ?? 'true';
    rest = rest.slice(flag[0].length);
  }
  let args: string[];
  let execForm = false;
  if (rest.startsWith('[')) {
    args = JSON.parse(rest) as string[];
    execForm = true;
  } else {
    args = rest.split(/\s+/).filter(Boolean);
  }
  return { keyword, value: match[2]!.trim(), flags, args, execForm };
}

/** Logical lines: comments dropped (outside continuations too), `\` continuations joined. */
function logicalLines(text: string): string[] {
  const lines: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    if (/^\s*#/.test(raw)) continue;
    if (raw.endsWith('\\')) {
      current += `${raw.slice(0, -1)} `;
      continue;
    }
    current += raw;
    if (current.trim()) lines.push(current.trim());
    current = '';
  }
  if (current.trim()) lines.push(current.trim());
  return lines;
}

export function parseDockerfile(text: string): Dockerfile {
  const syntax = /^#\s*syntax=(\S+)/.exec(text)?.[1];
  const globalArgs: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const line of logicalLines(text)) {
    const instruction = parseInstruction(line);
    if (instruction.keyword === 'FROM') {
      const [image, as, name] = instruction.args;
      const from = image!.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a: string, b: string) => {
        const value = globalArgs[a ?? b];
        if (value === undefined) throw new Error(`FROM uses an undeclared ARG: ${image}`);
        return value;
      });
      stages.push({ from, name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: [] });
    } else if (stages.length === 0) {
      if (instruction.keyword !== 'ARG') throw new Error(`only ARG may precede FROM: ${line}`);
      const [key, value] = instruction.args[0]!.split('=');
      globalArgs[key!] = value ?? '';
    } else {
      stages.at(-1)!.instructions.push(instruction);
    }
  }
  return { globalArgs, stages, syntax };
}

export function readDockerfile(file: string): Dockerfile {
  return parseDockerfile(readFileSync(file, 'utf8'));
}

/** Instructions of one keyword in a stage. */
export function instructions(stage: Stage, keyword: string): Instruction[] {
  return stage.instructions.filter((i) => i.keyword === keyword);
}

/** The stage's working directory after its WORKDIR instructions (absolute ones only). */
export function workdir(stage: Stage): string | undefined {
  return instructions(stage, 'WORKDIR').at(-1)?.args[0];
}
