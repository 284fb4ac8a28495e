#!/usr/bin/env node
// npm bin entry: runs the compiled workload CLI (build it first with `npm run build`).
import { runFromBin } from './run-from-bin.js';

await runFromBin('workloads/src/cli.js');
