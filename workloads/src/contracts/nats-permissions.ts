// The NATS permissions one pipeline needs, and nothing more: its own subjects, the
// JetStream API of its own four streams and their consumers, acks of its own streams, and
// replies on its own inbox prefix (contracts/subjects.ts). Given to the pipeline's NATS user
// (spec.nats.user / nkey / creds), they keep it off every other pipeline's subjects and
// streams: the server refuses the rest with "Permissions Violation". The README shows the
// rendered configuration; the permission test runs a nats-server with exactly this.
//
// JetStream API subjects (docs.nats.io, reference/jetstream/api): stream CREATE/UPDATE/INFO
// take the stream name as their last token; consumer CREATE/INFO/DELETE/MSG.NEXT take
// `<stream>.<consumer>` (CREATE may add `.<filter subject>`), DURABLE.CREATE the same after
// one more token; $JS.API.INFO is the account check the client makes. Deleting or purging
// a stream is deliberately not granted: a pipeline's workloads never do either.
import { relayConsumers, type PipelineNames } from './subjects.js';

export interface NatsPermissions {
  publish: { allow: string[] };
  subscribe: { allow: string[] };
}

type PermissionNames = Pick<PipelineNames, 'streams' | 'subjectPrefix' | 'inboxPrefix' | 'pipelineId'>;

/**
 * A relay's read-only grants on its source pipeline's streams (README "One Polygon key,
 * several pipelines"): stream info, and create/read/ack of its own three durables only. No
 * publish to the source's subjects, no other consumer, no stream create/update/delete.
 */
export function relayReadPermissions(
  source: Pick<PipelineNames, 'streams'>,
  relay: Pick<PipelineNames, 'pipelineId'>,
): string[] {
  return Object.values(relayConsumers(source, relay)).flatMap(({ stream: s, durable: d }) => [
    `$JS.API.STREAM.INFO.${s}`,
    `$JS.API.CONSUMER.CREATE.${s}.${d}`,
    `$JS.API.CONSUMER.CREATE.${s}.${d}.>`,
    `$JS.API.CONSUMER.DURABLE.CREATE.${s}.${d}`,
    `$JS.API.CONSUMER.INFO.${s}.${d}`,
    `$JS.API.CONSUMER.MSG.NEXT.${s}.${d}`,
    `$JS.ACK.${s}.${d}.>`,
  ]);
}

/** `relayFrom`: the source pipeline of a relay, whose streams it may read (relayReadPermissions). */
export function natsPermissions(
  names: PermissionNames,
  relayFrom?: Pick<PipelineNames, 'streams'>,
): NatsPermissions {
  const streams = Object.values(names.streams);
  const api = streams.flatMap(({ name: s }) => [
    `$JS.API.STREAM.CREATE.${s}`,
    `$JS.API.STREAM.UPDATE.${s}`,
    `$JS.API.STREAM.INFO.${s}`,
    `$JS.API.CONSUMER.CREATE.${s}`,
    `$JS.API.CONSUMER.CREATE.${s}.>`,
    `$JS.API.CONSUMER.DURABLE.CREATE.${s}.>`,
    `$JS.API.CONSUMER.INFO.${s}.>`,
    `$JS.API.CONSUMER.DELETE.${s}.>`,
    `$JS.API.CONSUMER.MSG.NEXT.${s}.>`,
    `$JS.ACK.${s}.>`,
  ]);
  return {
    publish: {
      allow: [
        ...streams.flatMap((s) => s.subjects),
        '$JS.API.INFO',
        ...api,
        ...(relayFrom ? relayReadPermissions(relayFrom, names) : []),
      ],
    },
    subscribe: { allow: [`${names.inboxPrefix}.>`] },
  };
}

/** The permissions as a nats-server configuration block (`permissions: {…}` of a user). */
export function natsPermissionsConfig(
  names: PermissionNames,
  indent = '',
  relayFrom?: Pick<PipelineNames, 'streams'>,
): string {
  const p = natsPermissions(names, relayFrom);
  const list = (items: string[]) => items.map((s) => `${indent}      "${s}"`).join('\n');
  return [
    `${indent}permissions: {`,
    `${indent}  publish: {`,
    `${indent}    allow: [`,
    list(p.publish.allow),
    `${indent}    ]`,
    `${indent}  }`,
    `${indent}  subscribe: {`,
    `${indent}    allow: [`,
    list(p.subscribe.allow),
    `${indent}    ]`,
    `${indent}  }`,
    `${indent}}`,
  ].join('\n');
}
