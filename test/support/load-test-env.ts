// Loaded before every integration test file: reads the connection settings that
// `make test-env` wrote to .test-env/env (export KEY='value' lines) into process.env,
// without overriding variables the caller set explicitly.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

const envFile = process.env.TEST_ENV_FILE ?? path.resolve(process.cwd(), '.test-env/env');

if (existsSync(envFile)) {
  for (const line of readFileSync(envFile, 'utf8').split('\n')) {
    const match = /^export ([A-Z_][A-Z0-9_]*)='(.*)'$/.exec(line.trim());
    if (match && process.env[match[1]!] === undefined) process.env[match[1]!] = match[2];
  }
}

// The env file puts the built kubectl and helm first on PATH; do the same here.
const k8sBin = process.env.K8S_BIN_DIR;
if (k8sBin && !(process.env.PATH ?? '').split(path.delimiter).includes(k8sBin)) {
  process.env.PATH = `${k8sBin}${path.delimiter}${process.env.PATH ?? ''}`;
}
