// Which tenant's messages a consumer of one pipeline accepts. Every producer writes its
// TENANT_ID into every message and event (tenant_id); a consumer (bridge, gap filler, tick
// archiver) acts only on its own tenant's. Messages without a tenant_id were published
// before tenants were carried: they are accepted only under the seed's names (no
// PIPELINE_ID), where they can be found after an upgrade of a pipeline run by hand and where
// they always were this pipeline's (README "Many pipelines on one set of servers", upgrade).
import type { PipelineNames } from './subjects.js';

/** Undefined when `carried` is the consumer's tenant, else why the message is not its own. */
export function foreignTenant(
  names: Pick<PipelineNames, 'tenantId' | 'pipelineId'>,
  carried: string | undefined,
): string | undefined {
  if (carried === undefined) {
    return names.pipelineId === undefined
      ? undefined
      : `the message carries no tenant_id (this pipeline, ${names.pipelineId}, serves tenant ${names.tenantId})`;
  }
  return carried === names.tenantId
    ? undefined
    : `the message is for tenant ${carried}; this pipeline serves tenant ${names.tenantId}`;
}
