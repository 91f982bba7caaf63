import { createReadStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { RecordingStorage, StoredRecording } from './recording-storage.js';

/** Loaded only when a bucket is configured (the AWS SDK is large). */
export interface S3StorageOptions {
  bucket: string;
  endpoint?: string;
  region?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  forcePathStyle?: boolean;
  /** Key prefix; default `recordings/`. */
  prefix?: string;
}

/** Any S3-compatible store (AWS S3, MinIO, R2, …) through `@aws-sdk/client-s3`. */
export class S3RecordingStorage implements RecordingStorage {
  readonly kind = 's3' as const;
  readonly bucket: string;
  readonly client: S3Client;
  private readonly prefix: string;

  constructor(o: S3StorageOptions) {
    this.bucket = o.bucket;
    this.prefix = o.prefix ?? 'recordings/';
    this.client = new S3Client({
      region: o.region ?? 'us-east-1',
      // Plain signed uploads (no aws-chunked trailing checksums), which every S3-compatible store reads.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      ...(o.endpoint ? { endpoint: o.endpoint } : {}),
      ...(o.forcePathStyle ? { forcePathStyle: true } : {}),
      ...(o.accessKeyId && o.secretAccessKey
        ? { credentials: { accessKeyId: o.accessKeyId, secretAccessKey: o.secretAccessKey } }
        : {}),
    });
  }

  keyOf(fileName: string): string {
    return `${this.prefix}${fileName}`;
  }

  async put(tempFile: string, key: string): Promise<void> {
    try {
      const { size } = await stat(tempFile);
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: createReadStream(tempFile),
          ContentLength: size,
          ContentType: 'audio/wav',
        }),
      );
    } finally {
      await rm(tempFile, { force: true });
    }
  }

  async get(key: string, urlTtlSeconds: number): Promise<StoredRecording | undefined> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (error) {
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 404 || (error as Error).name === 'NotFound') return undefined;
      throw error;
    }
    return { kind: 'redirect', url: await this.presignedUrl(key, urlTtlSeconds) };
  }

  presignedUrl(key: string, ttlSeconds: number): Promise<string> {
    // SigV4 presigned URLs live at most 7 days.
    const expiresIn = Math.max(1, Math.min(ttlSeconds, 7 * 24 * 3600));
    return getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: key }), { expiresIn });
  }

  async sweep(cutoff: number): Promise<number> {
    let removed = 0;
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: this.prefix,
          ...(token ? { ContinuationToken: token } : {}),
        }),
      );
      for (const object of page.Contents ?? []) {
        if (!object.Key?.endsWith('.wav') || !object.LastModified) continue;
        if (object.LastModified.getTime() < cutoff) {
          await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: object.Key }));
          removed++;
        }
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return removed;
  }
}
