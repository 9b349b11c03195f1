/* tslint:disable */
/* eslint-disable */

export interface AttestationExpectations {
    pcrs?: Record<string, string>; nonce?: string; userData?: string; publicKey?: string; maxAgeMs?: number;
}
export interface AttestationOptions {
    /** Trusted root certificate (DER). Defaults to the embedded AWS Nitro Root-G1. */
    root?: Uint8Array;
    /** Verification time, Unix ms (required: the verifier never reads a clock). */
    atMs: number;
    /** Accept an all-zero PCR0 (debug-mode enclave). Defaults to `false`. */
    allowDebug?: boolean;
    expect?: AttestationExpectations;
}
export interface VerifiedAttestation {
    moduleId: string; digest: string; timestampMs: number; pcrs: Record<string, string>;
    publicKey: string | null; userData: string | null; nonce: string | null;
    certificate: string; rootFingerprint: string; rootKind: 'aws-nitro' | 'other';
}



/**
 * The embedded AWS Nitro Enclaves Root-G1 certificate (DER).
 */
export function awsNitroRootG1(): Uint8Array;

/**
 * Verifies a Nitro attestation document (and the expectations, if given).
 */
export function verifyAttestation(document: Uint8Array | number[], options: AttestationOptions): VerifiedAttestation;
