// The end-to-end scenario (e2e/scenario.ts) on the kind cluster that e2e/kind/run.sh set up:
// the images built from this checkout, the chart installed with its dev servers, the
// example applied in the release namespace. Run through `make e2e-kind`, never directly.
import { describe, it } from '@jest/globals';
import { kubectl } from '../kubectl.js';
import { Scenario } from '../scenario.js';
import { KindTarget } from './kind-target.js';

function setting(name: string): string {
  const value = process.env[name];
  if (!value)
    throw new Error(`${name} is unset: run the kind e2e through \`make e2e-kind\` (e2e/kind/run.sh)`);
  return value;
}

let target: KindTarget | undefined;
const scenario: Scenario = new Scenario(process.cwd(), (): KindTarget => {
  target ??= new KindTarget(
    kubectl(setting('E2E_NAMESPACE')),
    { repository: setting('E2E_WORKLOADS_REPOSITORY'), tag: setting('E2E_IMAGE_TAG') },
    scenario.name,
  );
  return target;
});

describe(`end-to-end run of examples/simulator.yaml on kind (${scenario.name})`, () => {
  for (const step of scenario.steps) it(step.title, step.run, step.timeoutMs);
});
