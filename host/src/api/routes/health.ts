/**
 * `GET /v1/health`: the API is up and the enclave answers.
 *
 * What it reports about the enclave comes from the untrusted host and is for
 * operators only; clients establish trust with an attestation document
 * (`zcp verify`), never with this.
 */
import type { ApiInstance, RouteContext } from '../app.ts';
import { toHex } from '../hex.ts';

export function healthRoutes(app: ApiInstance, ctx: RouteContext): void {
  app.get('/v1/health', async () => {
    const described = await ctx.enclave.request({ op: 'describe' }, { timeoutMs: ctx.timeoutMs });
    return {
      status: 'ok',
      enclave: {
        moduleId: described.module_id,
        protocolVersion: described.protocol_version,
        pcr0: described.pcrs[0] ? toHex(described.pcrs[0]) : null,
        pcrs: described.pcrs.map(toHex),
        attestedKeys: toHex(described.attested_keys),
      },
      ...(ctx.devRoot ? { attestationRoot: { kind: 'development', path: ctx.devRoot.path, sha256: ctx.devRoot.sha256 } } : {}),
    };
  });
}
