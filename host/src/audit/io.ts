/**
 * The few file-system calls the audit store makes, as an interface so tests can
 * put a fault-injecting adapter between the store and the real file system (an
 * ENOSPC at the 3rd write, an EIO at fdatasync) and see what reaches the disk.
 * The default, `nodeIo`, is node:fs as is. Appends use the synchronous `writev`
 * (a write into the page cache costs microseconds, an async call a thread-pool
 * round trip of ~30 µs) and either `fdatasync` flavour; everything else is async.
 */
import fs from 'node:fs';

export interface AuditIo {
  /** Flags as node:fs spells them: 'r', 'r+', 'w', 'wx'. */
  open(path: string, flags: string): Promise<number>;
  close(fd: number): Promise<void>;
  /** Positional read; returns the bytes read (0 at end of file). */
  read(fd: number, buffer: Buffer, offset: number, length: number, position: number): Promise<number>;
  /** Positional gather write on the event loop; may write less than asked (the caller loops). */
  writevSync(fd: number, buffers: readonly Buffer[], position: number): number;
  fdatasync(fd: number): Promise<void>;
  fdatasyncSync(fd: number): void;
  fsync(fd: number): Promise<void>;
  ftruncate(fd: number, length: number): Promise<void>;
  /** Grows the file to `length` bytes (a sparse zero tail) on the event loop: only ever called with a larger length. */
  extendSync(fd: number, length: number): void;
  fileSize(fd: number): Promise<number>;
  readdir(path: string): Promise<string[]>;
  mkdirp(path: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
}

/** Wraps a node:fs callback call into a promise without the FileHandle machinery of fs.promises. */
function call<T>(fn: (cb: (err: NodeJS.ErrnoException | null, value: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value))));
}

export const nodeIo: AuditIo = {
  open: (path, flags) => call((cb) => fs.open(path, flags, 0o644, cb)),
  close: (fd) => call((cb) => fs.close(fd, (err) => cb(err, undefined))),
  read: (fd, buffer, offset, length, position) => call((cb) => fs.read(fd, buffer, offset, length, position, cb)),
  writevSync: (fd, buffers, position) => fs.writevSync(fd, buffers as Buffer[], position),
  fdatasync: (fd) => call((cb) => fs.fdatasync(fd, (err) => cb(err, undefined))),
  fdatasyncSync: (fd) => fs.fdatasyncSync(fd),
  fsync: (fd) => call((cb) => fs.fsync(fd, (err) => cb(err, undefined))),
  ftruncate: (fd, length) => call((cb) => fs.ftruncate(fd, length, (err) => cb(err, undefined))),
  extendSync: (fd, length) => fs.ftruncateSync(fd, length),
  fileSize: (fd) => call<fs.Stats>((cb) => fs.fstat(fd, cb)).then((s) => s.size),
  readdir: (path) => call<string[]>((cb) => fs.readdir(path, cb)),
  mkdirp: (path) => call((cb) => fs.mkdir(path, { recursive: true }, (err) => cb(err, undefined))),
  rename: (from, to) => call((cb) => fs.rename(from, to, (err) => cb(err, undefined))),
  unlink: (path) => call((cb) => fs.unlink(path, (err) => cb(err, undefined))),
};
