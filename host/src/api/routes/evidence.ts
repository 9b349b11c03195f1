/**
 * `GET /v1/evidence`: what a client needs to check receipts itself: the boot
 * attestation document (it binds the receipt, session and import keys and
 * the configuration hash), its hash, and the signed configuration in force.
 *
 * Relayed as the enclave gave it; the host's word adds nothing. A client
 * verifies the document against its own root and PCR0 (and, if it knows it,
 * the configuration hash) before trusting any key in it.
 */
import type { ApiInstance, RouteContext } from '../app.ts';
import { hex0x } from '../wire-json.ts';

export function evidenceRoutes(app: ApiInstance, ctx: RouteContext): void {
  app.get('/v1/evidence', async () => {
    const e = await ctx.enclave.request({ op: 'evidence' }, { timeoutMs: ctx.timeoutMs });
    return {
      attestation: hex0x(e.attestation),
      attestationHash: hex0x(e.attestation_hash),
      signedConfig: hex0x(e.signed_config),
      configHash: hex0x(e.config_hash),
      configVersion: Number(e.config_version),
    };
  });
}
