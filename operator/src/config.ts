// The operator's own configuration, from environment variables (validated like the
// workloads': a wrong value stops the process at start and names the variable).
import { z } from 'zod';
import { opsEnv } from '../../workloads/src/contracts/env.js';
import { env } from '../../workloads/src/runtime/config.js';
import { DEFAULT_WORKLOAD_IMAGE } from './render/pod.js';

const namespaceList = env.list(
  z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'each entry is a namespace name'),
);

export const operatorEnv = z
  .object({
    /** Empty or unset: every namespace; otherwise one namespace or a comma-separated list. */
    WATCH_NAMESPACE: namespaceList.default([]),
    LEADER_ELECTION: env.boolean().default(true),
    /** Where the Lease lives; defaults to the operator's own namespace. */
    LEADER_ELECTION_NAMESPACE: z.string().optional(),
    LEADER_ELECTION_ID: env.string().default('market-pipeline-operator'),
    LEADER_ELECTION_LEASE_DURATION_SECONDS: env.positiveInt().default(15),
    LEADER_ELECTION_RENEW_DEADLINE_SECONDS: env.positiveInt().default(10),
    LEADER_ELECTION_RETRY_PERIOD_SECONDS: env.positiveInt().default(2),
    /** Set from the downward API in the Deployment. */
    POD_NAMESPACE: z.string().optional(),
    POD_NAME: z.string().optional(),
    METRICS_PORT: env.port().default(8080),
    WORKERS: env.positiveInt().default(2),
    /** Every MarketPipeline is reconciled at least this often, whatever the watches say. */
    RESYNC_SECONDS: env.positiveInt().default(600),
    /** How often a MarketPipeline waiting for a missing Secret looks again. */
    SECRET_RECHECK_SECONDS: env.positiveInt().default(30),
    /**
     * The workload image of pipelines whose spec.image does not name one (the chart sets
     * these from workloadImage, by default its appVersion). A digest pins it by content.
     */
    WORKLOAD_IMAGE_REPOSITORY: env.string().default(DEFAULT_WORKLOAD_IMAGE.repository),
    WORKLOAD_IMAGE_TAG: env
      .string()
      .regex(/^[\w][\w.-]*$/, 'an image tag')
      .default(DEFAULT_WORKLOAD_IMAGE.tag),
    WORKLOAD_IMAGE_DIGEST: z
      .string()
      .regex(/^(sha256:[a-f0-9]{64})?$/, 'empty or sha256: and 64 lowercase hex digits')
      .optional(),
    /** The workload image's entry point (space-separated), prefixed to each command. */
    WORKLOAD_COMMAND: env.string().default('market-pipeline'),
    LOG_LEVEL: opsEnv.shape.LOG_LEVEL,
  })
  .refine((c) => c.LEADER_ELECTION_RENEW_DEADLINE_SECONDS < c.LEADER_ELECTION_LEASE_DURATION_SECONDS, {
    path: ['LEADER_ELECTION_RENEW_DEADLINE_SECONDS'],
    message: 'must be less than LEADER_ELECTION_LEASE_DURATION_SECONDS',
  })
  .refine((c) => c.LEADER_ELECTION_RETRY_PERIOD_SECONDS < c.LEADER_ELECTION_RENEW_DEADLINE_SECONDS, {
    path: ['LEADER_ELECTION_RETRY_PERIOD_SECONDS'],
    message: 'must be less than LEADER_ELECTION_RENEW_DEADLINE_SECONDS',
  });

export type OperatorConfig = z.output<typeof operatorEnv>;
