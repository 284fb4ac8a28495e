// `npm run gen:crd`: writes the CRD YAML generated from spec.ts into crds/. A unit test
// (generate.test.ts) fails when the checked-in file differs, so CI catches a forgotten run.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { CRD_FILE, crdYaml } from './generate.js';

const root = process.argv[2] ?? process.cwd();
const target = path.join(root, CRD_FILE);
writeFileSync(target, crdYaml());
console.log(`wrote ${path.relative(process.cwd(), target)}`);
