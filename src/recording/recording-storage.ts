import { createReadStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';

/**
 * Where finished recordings live. Keys are paths such as `recordings/WC-….wav`: relative to
 * `PARLEY_DATA_DIR` on local disk, object keys in S3 (after the configured prefix).
 */
export type StoredRecording =
  | { kind: 'file'; size: number; open(): Readable }
  | { kind: 'redirect'; url: string };

export interface RecordingStorage {
  readonly kind: 'local' | 's3';
  /** The bucket, for `call.recording.s3Bucket`. */
  readonly bucket?: string;
  /** The key (path) a call's file gets. */
  keyOf(fileName: string): string;
  /** Moves a finished file into the store under `key`; the temporary file is gone afterwards. */
  put(tempFile: string, key: string): Promise<void>;
  /** How to serve `key`; undefined when it is not stored. `urlTtlSeconds` for redirects. */
  get(key: string, urlTtlSeconds: number): Promise<StoredRecording | undefined>;
  /** A URL the file can be downloaded from without an API key (S3: presigned). */
  presignedUrl?(key: string, ttlSeconds: number): Promise<string>;
  /** Deletes recordings last written before `cutoff` (epoch ms); resolves with how many. */
  sweep(cutoff: number): Promise<number>;
}

export class LocalRecordingStorage implements RecordingStorage {
  readonly kind = 'local' as const;

  constructor(readonly dataDir: string) {}

  get dir(): string {
    return join(this.dataDir, 'recordings');
  }

  keyOf(fileName: string): string {
    return `recordings/${fileName}`;
  }

  async put(tempFile: string, key: string): Promise<void> {
    const target = join(this.dataDir, key);
    await mkdir(this.dir, { recursive: true });
    await rename(tempFile, target);
  }

  async get(key: string): Promise<StoredRecording | undefined> {
    if (!key.startsWith('recordings/') || key.includes('..')) return undefined;
    const path = join(this.dataDir, key);
    try {
      const info = await stat(path);
      if (!info.isFile()) return undefined;
      return { kind: 'file', size: info.size, open: () => createReadStream(path) };
    } catch {
      return undefined;
    }
  }

  async sweep(cutoff: number): Promise<number> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return 0;
    }
    let removed = 0;
    for (const name of names) {
      if (!name.endsWith('.wav')) continue;
      const path = join(this.dir, name);
      try {
        const info = await stat(path);
        if (info.isFile() && info.mtimeMs < cutoff) {
          await rm(path, { force: true });
          removed++;
        }
      } catch {
        // Gone meanwhile.
      }
    }
    return removed;
  }
}
