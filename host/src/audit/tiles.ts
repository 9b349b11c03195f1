/**
 * The stored audit log in the C2SP `tlog-tiles` layout (https://c2sp.org/tlog-tiles): the latest
 * checkpoint, hash tiles (`tile/<L>/<N>[.p/<W>]`) and entry bundles (`tile/entries/<N>[.p/<W>]`),
 * computed by the Rust core (`sentinel-audit`'s tiles module through `core.auditTile` /
 * `core.auditEntryBundle`) from the records in the store. Any tlog-tiles client (Go's
 * `sumdb/tlog`, transparency-dev's) can then fetch the log and check it against the checkpoint.
 *
 * A tile is served only for a tree the latest stored checkpoint covers: its leaves must be below
 * that checkpoint's size, so every tile served is one a client can check against a signed root.
 * Leaf hashes are kept in memory (32 bytes per record, computed once per record), and full tiles,
 * which never change, are cached.
 */
import { core } from '../core.ts';
import { SentinelError } from '../errors.ts';
import type { AuditStore } from './store.ts';

const TILE_WIDTH = 256;
const CACHE_TILES = 4096;

export class AuditTiles {
  private readonly store: AuditStore;
  /** Leaf hashes of records 0 .. count, packed. */
  private leaves = Buffer.alloc(32 * 1024);
  private count = 0;
  private readonly cache = new Map<string, Buffer>();

  constructor(store: AuditStore) {
    this.store = store;
  }

  /** The latest stored checkpoint note (the tlog-tiles `checkpoint` file). */
  checkpoint(): { size: number; note: Buffer } | null {
    return this.store.latestCheckpoint();
  }

  /** The file at `path` (relative to the log's prefix: `tile/...`), or a coded error. */
  async file(path: string): Promise<Buffer> {
    const cached = this.cache.get(path);
    if (cached) return cached;
    const tile = core.auditParseTilePath(path);
    const covered = this.checkpoint()?.size ?? 0;
    const span = TILE_WIDTH ** tile.level;
    const first = tile.index * TILE_WIDTH * span;
    const end = first + tile.width * span;
    if (end > covered) {
      throw new SentinelError('AUDIT_TILE_NOT_FOUND', `${path}: covers records up to ${end}; the latest checkpoint covers ${covered}`);
    }
    let bytes: Buffer;
    if (tile.entries) {
      const records = await this.store.read(first, tile.width);
      bytes = core.auditEntryBundle(records, 0, tile.width);
    } else {
      await this.extendLeaves(end);
      const leafHashes: Uint8Array[] = [];
      for (let i = first; i < end; i++) leafHashes.push(this.leaves.subarray(i * 32, i * 32 + 32));
      bytes = core.auditTile({ leafHashes }, tile.level, 0, tile.width);
    }
    if (tile.width === TILE_WIDTH) this.remember(path, bytes);
    return bytes;
  }

  /** Computes leaf hashes up to record `end` (exclusive). */
  private async extendLeaves(end: number): Promise<void> {
    while (this.count < end) {
      const records = await this.store.read(this.count, Math.min(end - this.count, 4096));
      if (records.length === 0) throw new SentinelError('AUDIT_TILE_NOT_FOUND', `record ${this.count} is not stored`);
      if ((this.count + records.length) * 32 > this.leaves.length) {
        const grown = Buffer.alloc(Math.max(this.leaves.length * 2, (this.count + records.length) * 32));
        this.leaves.copy(grown, 0, 0, this.count * 32);
        this.leaves = grown;
      }
      for (const record of records) {
        this.leaves.write(core.auditLeafHash(record).slice(2), this.count * 32, 'hex');
        this.count++;
      }
    }
  }

  private remember(path: string, bytes: Buffer): void {
    if (this.cache.size >= CACHE_TILES) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(path, bytes);
  }
}
