/**
 * The audit log over HTTP, in the C2SP `tlog-tiles` layout under the prefix `/v1/audit/`
 * (https://c2sp.org/tlog-tiles): `checkpoint` (the latest signed checkpoint note the host stored),
 * `tile/<L>/<N>[.p/<W>]` (hash tiles) and `tile/entries/<N>[.p/<W>]` (entry bundles: each record
 * as a big-endian u16 length and its canonical CBOR). Besides the layout: `log` (the origin, the
 * verifier key and the attestation document that commits to it, so a client can tie the key to
 * PCR0, and the key history of a log that restarted enclaves continued), `proof/:seq` (a C2SP
 * `tlog-proof` of one record) and `consistency` (an RFC 6962 consistency proof between two stored
 * checkpoint sizes).
 *
 * Everything here is read-only and proves itself: checkpoints are signed by the enclave's attested
 * audit key, tiles and proofs are checked against them. A host that serves something else is
 * caught by the client's check (`zcp audit verify --url`), not trusted.
 */
import { Type } from '@sinclair/typebox';

import { core } from '../../core.ts';
import { logKeys, signingKey } from '../../audit/log-info.ts';
import { SentinelError } from '../../errors.ts';
import type { ApiInstance, AuditLogView, RouteContext } from '../app.ts';
import { ERROR_RESPONSES } from '../schemas.ts';

const LogInfoResponse = Type.Object(
  {
    origin: Type.String({ description: 'the log origin, also the checkpoint key name: sentinel/log/<16 hex>' }),
    verifierKey: Type.String({ description: 'the checkpoint verifier key, Go sumdb/note text form <origin>+<id>+<base64>' }),
    attestation: Type.String({ description: "the boot attestation document (0x hex) whose public_key bytes 97..129 are the verifier key's Ed25519 key" }),
    keys: Type.Array(
      Type.Object(
        {
          verifierKey: Type.String({ description: 'a key that signed checkpoints of this log (same name: the origin)' }),
          attestation: Type.String({ description: 'the boot attestation document (0x hex) that commits to it' }),
          fromSeq: Type.Integer({ description: "the first record its enclave made (0, or its `log_resumed` record's seq)" }),
        },
        { additionalProperties: false },
      ),
      { description: 'the key history, oldest first: a restarted enclave continues the log under a new key (docs/audit.md, "Restart")' },
    ),
    size: Type.Integer({ description: 'records stored' }),
    durable: Type.Integer({ description: 'records known durable (fdatasync returned)' }),
    checkpointSize: Type.Union([Type.Integer(), Type.Null()], { description: 'tree size of the latest stored checkpoint' }),
    mode: Type.Union([Type.Literal('strict'), Type.Literal('latency')]),
  },
  { additionalProperties: false },
);

const SeqParams = Type.Object({ seq: Type.String({ pattern: '^[0-9]{1,15}$', description: 'record sequence number' }) }, { additionalProperties: false });
const ConsistencyQuery = Type.Object(
  {
    old: Type.String({ pattern: '^[0-9]{1,15}$', description: 'the older tree size' }),
    new: Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$', description: 'the newer tree size (default: the latest checkpoint)' })),
  },
  { additionalProperties: false },
);

function logOf(ctx: RouteContext): AuditLogView {
  const log = ctx.audit?.log?.() ?? null;
  if (log === null) throw new SentinelError('AUDIT_NOT_ENABLED', 'this API has no audit log (it was started without one)');
  return log;
}

function latest(log: AuditLogView): { size: number; note: Buffer } {
  const checkpoint = log.tiles.checkpoint();
  if (checkpoint === null) throw new SentinelError('AUDIT_TILE_NOT_FOUND', 'no checkpoint is stored yet');
  return checkpoint;
}

export function auditRoutes(app: ApiInstance, ctx: RouteContext): void {
  app.get(
    '/v1/audit/log',
    {
      schema: {
        tags: ['audit'],
        summary: "The audit log's identity and state",
        description: 'Origin, verifier key, the attestation document that commits to the key, and how much is stored (docs/audit.md).',
        response: { 200: LogInfoResponse, ...ERROR_RESPONSES },
      },
    },
    async () => {
      const log = logOf(ctx);
      return {
        origin: log.info.origin,
        verifierKey: log.info.verifier_key,
        attestation: `0x${Buffer.from(log.info.attestation, 'base64').toString('hex')}`,
        keys: logKeys(log.info).map((k) => ({
          verifierKey: k.verifier_key,
          attestation: `0x${Buffer.from(k.attestation, 'base64').toString('hex')}`,
          fromSeq: k.from_seq,
        })),
        size: log.store.size,
        durable: log.store.durable,
        checkpointSize: log.tiles.checkpoint()?.size ?? null,
        mode: log.store.mode,
      };
    },
  );

  app.get(
    '/v1/audit/checkpoint',
    {
      schema: {
        tags: ['audit'],
        summary: 'The latest signed checkpoint (tlog-tiles `checkpoint`)',
        description: 'A C2SP tlog-checkpoint signed as a C2SP signed note by the attested audit key; text/plain.',
        response: { ...ERROR_RESPONSES },
      },
    },
    async (_request, reply) => {
      const { note } = latest(logOf(ctx));
      return reply.type('text/plain; charset=utf-8').header('cache-control', 'no-store').send(Buffer.from(note) as never);
    },
  );

  app.get(
    '/v1/audit/tile/*',
    {
      schema: {
        tags: ['audit'],
        summary: 'A hash tile or an entry bundle (tlog-tiles)',
        description: '`tile/<L>/<N>[.p/<W>]` or `tile/entries/<N>[.p/<W>]`, for trees the latest checkpoint covers; application/octet-stream.',
        response: { ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      const log = logOf(ctx);
      const path = `tile/${(request.params as { '*': string })['*']}`;
      const bytes = await log.tiles.file(path);
      const full = !/\.p\//.test(path);
      // Full tiles never change; partial ones are replaced as the log grows.
      return reply
        .type('application/octet-stream')
        .header('cache-control', full ? 'public, max-age=31536000, immutable' : 'no-store')
        .send(bytes as never);
    },
  );

  app.get(
    '/v1/audit/proof/:seq',
    {
      schema: {
        tags: ['audit'],
        summary: 'A C2SP tlog-proof of one record',
        description: 'The record, its inclusion proof and the latest checkpoint, as a C2SP tlog-proof (text/plain); check it with `zcp audit prove --verify`.',
        params: SeqParams,
        response: { ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      const log = logOf(ctx);
      const seq = Number(request.params.seq);
      const checkpoint = latest(log);
      if (seq >= checkpoint.size) {
        throw new SentinelError('AUDIT_RECORD_NOT_FOUND', `record ${seq}: the latest checkpoint covers records 0 to ${checkpoint.size - 1}`);
      }
      const records = await log.store.read(0, checkpoint.size);
      // The key that signed that checkpoint: after a restart, until the new key's first checkpoint is stored, an earlier one.
      const key = signingKey(log.info, checkpoint.note)?.verifier_key ?? log.info.verifier_key;
      const proof = core.auditProve(records, seq, checkpoint.note, key);
      // A Buffer: sent as is, never through the JSON serializer.
      return reply.type('text/plain; charset=utf-8').send(Buffer.from(proof, 'utf8') as never);
    },
  );

  app.get(
    '/v1/audit/consistency',
    {
      schema: {
        tags: ['audit'],
        summary: 'An RFC 6962 consistency proof between two tree sizes',
        description: '`old` and `new` (default: the latest checkpoint) tree sizes; the proof hashes as 0x hex.',
        querystring: ConsistencyQuery,
        response: {
          200: Type.Object({ oldSize: Type.Integer(), newSize: Type.Integer(), proof: Type.Array(Type.String()) }, { additionalProperties: false }),
          ...ERROR_RESPONSES,
        },
      },
    },
    async (request) => {
      const log = logOf(ctx);
      const newSize = request.query.new === undefined ? latest(log).size : Number(request.query.new);
      const oldSize = Number(request.query.old);
      if (newSize > (log.tiles.checkpoint()?.size ?? 0)) {
        throw new SentinelError('AUDIT_RECORD_NOT_FOUND', `new: ${newSize} is beyond the latest checkpoint`);
      }
      const records = await log.store.read(0, newSize);
      return { oldSize, newSize, proof: core.auditConsistencyProof(records, oldSize, newSize) };
    },
  );
}
