#!/usr/bin/env node
// npm bin entry: runs the compiled operator (build it first with `npm run build`).
import { runFromBin } from './run-from-bin.js';

await runFromBin('operator/src/main.js');
