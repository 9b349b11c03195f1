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

export type InitInput = RequestInfo | URL | Response | BufferSource | WebAssembly.Module;

export interface InitOutput {
    readonly memory: WebAssembly.Memory;
    readonly awsNitroRootG1: () => [number, number];
    readonly verifyAttestation: (a: number, b: number, c: any) => [number, number, number];
    readonly __wbindgen_malloc: (a: number, b: number) => number;
    readonly __wbindgen_realloc: (a: number, b: number, c: number, d: number) => number;
    readonly __wbindgen_free: (a: number, b: number, c: number) => void;
    readonly __wbindgen_exn_store: (a: number) => void;
    readonly __externref_table_alloc: () => number;
    readonly __wbindgen_externrefs: WebAssembly.Table;
    readonly __externref_table_dealloc: (a: number) => void;
    readonly __wbindgen_start: () => void;
}

export type SyncInitInput = BufferSource | WebAssembly.Module;

/**
 * Instantiates the given `module`, which can either be bytes or
 * a precompiled `WebAssembly.Module`.
 *
 * @param {{ module: SyncInitInput }} module - Passing `SyncInitInput` directly is deprecated.
 *
 * @returns {InitOutput}
 */
export function initSync(module: { module: SyncInitInput } | SyncInitInput): InitOutput;

/**
 * If `module_or_path` is {RequestInfo} or {URL}, makes a request and
 * for everything else, calls `WebAssembly.instantiate` directly.
 *
 * @param {{ module_or_path: InitInput | Promise<InitInput> }} module_or_path - Passing `InitInput` directly is deprecated.
 *
 * @returns {Promise<InitOutput>}
 */
export default function __wbg_init (module_or_path?: { module_or_path: InitInput | Promise<InitInput> } | InitInput | Promise<InitInput>): Promise<InitOutput>;
