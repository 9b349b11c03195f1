/**
 * The most recent receipts, by receipt id, for `GET /v1/receipts/:id`.
 *
 * Bounded (least recently used goes first) and in memory only: a receipt
 * verifies on its own against the enclave's attestation, so keeping it here
 * is a convenience for a client that lost an answer, not a record. The audit
 * log (its own issue) persists them.
 */
export class ReceiptCache {
  private readonly entries = new Map<string, Buffer>();

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.entries.size;
  }

  set(id: string, receipt: Buffer): void {
    if (this.capacity <= 0) return;
    this.entries.delete(id);
    this.entries.set(id, receipt);
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  get(id: string): Buffer | undefined {
    const receipt = this.entries.get(id);
    if (receipt !== undefined) {
      this.entries.delete(id);
      this.entries.set(id, receipt);
    }
    return receipt;
  }
}
