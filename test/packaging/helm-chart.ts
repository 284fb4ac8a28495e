// Helpers of the chart's integration tests: render the chart, apply with a server-side dry
// run, and ask the API server what a ServiceAccount may do.
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { runTool, tool, type ToolResult } from '../support/cli-tools.js';

export const CHART = path.join(process.cwd(), 'helm/market-pipeline');

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [field: string]: unknown;
}

/** `helm template` of the chart; `values` are ci/ file names, `set` are --set pairs. */
export async function renderChart(
  release: string,
  namespace: string,
  options: { values?: string[]; set?: string[] } = {},
): Promise<string> {
  return tool('helm', [
    'template',
    release,
    CHART,
    '--namespace',
    namespace,
    ...(options.values ?? []).flatMap((v) => ['--values', path.join(CHART, 'ci', v)]),
    ...(options.set ?? []).flatMap((s) => ['--set', s]),
  ]);
}

export function manifests(yaml: string): Manifest[] {
  return parseAllDocuments(yaml)
    .map((d) => d.toJS() as Manifest | null)
    .filter((m): m is Manifest => m !== null);
}

/** `kubectl apply --server-side --dry-run=server`: the API server validates, defaults and admits every object, stores none. */
export function serverDryRun(yaml: string): Promise<ToolResult> {
  // --force-conflicts: the shared CRD is owned by other field managers; a dry run changes nothing.
  return runTool(
    'kubectl',
    [
      'apply',
      '--server-side',
      '--dry-run=server',
      '--force-conflicts',
      '--field-manager=market-pipeline-chart-test',
      '-f',
      '-',
    ],
    yaml,
  );
}

export interface AccessCheck {
  verb: string;
  /** resource[.group][/name], as kubectl auth can-i takes it. */
  resource: string;
  namespace?: string;
  subresource?: string;
  allNamespaces?: boolean;
}

export function describeCheck(c: AccessCheck): string {
  const sub = c.subresource ? `/${c.subresource}` : '';
  const where = c.allNamespaces ? ' (all namespaces)' : c.namespace ? ` in ${c.namespace}` : ' (cluster)';
  return `${c.verb} ${c.resource}${sub}${where}`;
}

/** `kubectl auth can-i … --as=system:serviceaccount:<ns>:<name>` for each check, a few at a time. */
export async function canI(serviceAccount: string, checks: AccessCheck[]): Promise<Map<string, boolean>> {
  const results = new Map<string, boolean>();
  const queue = [...checks];
  const worker = async () => {
    for (let c = queue.shift(); c; c = queue.shift()) {
      const args = ['auth', 'can-i', c.verb, c.resource, `--as=${serviceAccount}`];
      if (c.subresource) args.push(`--subresource=${c.subresource}`);
      if (c.allNamespaces) args.push('--all-namespaces');
      else if (c.namespace) args.push('--namespace', c.namespace);
      const result = await runTool('kubectl', args);
      const answer = result.stdout.trim();
      if (answer !== 'yes' && answer !== 'no') {
        throw new Error(`kubectl ${args.join(' ')} answered neither yes nor no: ${result.stderr || answer}`);
      }
      results.set(describeCheck(c), answer === 'yes');
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  return results;
}
