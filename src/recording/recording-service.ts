import { createHmac, timingSafeEqual } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../config/config.js';
import { storedKey } from '../config/stored-key.js';
import type { Call } from '../contract/call-schema.js';
import { ApiError } from '../shared/api-error.js';
import type { Clock } from '../shared/clock.js';
import type { Transport } from '../transports/transport.js';
import { CallRecorder } from './call-recorder.js';
import { completeWav, salvagePartials } from './partial-salvage.js';
import { LocalRecordingStorage, type RecordingStorage, type StoredRecording } from './recording-storage.js';
import { RecordingTransport } from './recording-transport.js';

/**
 * Call recordings: one `CallRecorder` per recorded call (its transport wrapped by
 * `RecordingTransport`), finished when the call ends and moved into the configured storage
 * (local disk under `PARLEY_DATA_DIR/recordings/`, or an S3-compatible bucket); the URLs handed
 * out for them (local: `GET /recordings/<file>?expires&sig`, an HMAC-signed, time-limited link
 * served by the API; S3: a presigned GET); and the retention sweep. Local recordings stay on
 * the disk of the server that made them: asked of another server, the API says so (409).
 */
export interface RecordingResult {
  /** For `call.recording`. */
  recording: { s3Bucket?: string; path: string };
  /** For the end-of-call report's `recordingUrl`. */
  recordingUrl: string;
  /** Present when the assistant asked for a stereo file (left: caller, right: assistant). */
  stereoRecording?: { s3Bucket?: string; path: string };
  stereoRecordingUrl?: string;
}

export interface RecordingServiceOptions {
  storage: RecordingStorage;
  /** Where recordings are written while the call runs (under `recordings/.partial/`). */
  dataDir: string;
  /** Base URL of this server, for signed local URLs. */
  publicUrl: string | (() => string);
  /** HMAC key of the signed local URLs. */
  signingKey: Buffer;
  /** How long a handed-out URL stays valid. Default 7 days. */
  urlTtlSeconds?: number;
  /** Recordings older than this are deleted by the sweep; 0 keeps them. */
  retentionDays?: number;
  /** Time for URL expiry and the sweep (tests). Default `Date.now`. */
  now?: () => number;
  log?: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
}

interface Live {
  recorder: CallRecorder;
  stereo: boolean;
  finishing?: Promise<RecordingResult | undefined>;
}

const NOT_CONNECTED = new Set(['queued', 'no-answer', 'busy', 'failed', 'canceled']);
/** File names the signed route serves: a call id, optionally `.stereo`, `.wav`. */
export const RECORDING_FILE = /^(?:WC|PC)-[0-9a-f-]{36}(?:\.stereo)?\.wav$/;

export class RecordingService {
  private readonly live = new Map<string, Live>();
  private readonly pending = new Set<Promise<unknown>>();
  private sweeper: NodeJS.Timeout | undefined;
  private salvager: NodeJS.Timeout | undefined;
  readonly urlTtlSeconds: number;
  now: () => number;
  /**
   * Whether another server ran the call (its row's owner): a local recording missing here is on
   * that server's disk. Set by the server once crash recovery exists (`CallRecovery.ownedElsewhere`).
   */
  ranElsewhere: ((callId: string) => Promise<boolean>) | undefined;

  constructor(readonly o: RecordingServiceOptions) {
    this.urlTtlSeconds = o.urlTtlSeconds ?? 7 * 24 * 3600;
    this.now = o.now ?? Date.now;
  }

  /** The service `parley serve` runs with: storage, signing key and retention from the config. */
  static async fromConfig(
    config: Config,
    options: { publicUrl: string | (() => string); log?: RecordingServiceOptions['log'] },
  ): Promise<RecordingService> {
    const storage: RecordingStorage = config.recordingS3Bucket
      ? new (await import('./s3-storage.js')).S3RecordingStorage({
          bucket: config.recordingS3Bucket,
          ...(config.recordingS3Endpoint ? { endpoint: config.recordingS3Endpoint } : {}),
          ...(config.recordingS3Region ? { region: config.recordingS3Region } : {}),
          ...(config.recordingS3AccessKeyId ? { accessKeyId: config.recordingS3AccessKeyId } : {}),
          ...(config.recordingS3SecretAccessKey
            ? { secretAccessKey: config.recordingS3SecretAccessKey }
            : {}),
          forcePathStyle: config.recordingS3ForcePathStyle,
          ...(config.recordingS3Prefix !== undefined ? { prefix: config.recordingS3Prefix } : {}),
        })
      : new LocalRecordingStorage(config.dataDir);
    return new RecordingService({
      storage,
      dataDir: config.dataDir,
      publicUrl: options.publicUrl,
      signingKey: await signingKeyOf(config),
      urlTtlSeconds: config.recordingUrlTtlSeconds,
      retentionDays: config.recordingRetentionDays,
      ...(options.log ? { log: options.log } : {}),
    });
  }

  get storage(): RecordingStorage {
    return this.o.storage;
  }

  /** Starts recording a call; `wrap` its transport when the client joins. */
  start(callId: string, opts: { clock: Clock; stereo?: boolean }): void {
    if (this.live.has(callId)) return;
    const dir = join(this.o.dataDir, 'recordings', '.partial');
    const recorder = new CallRecorder(opts.clock, {
      mono: join(dir, `${callId}.wav`),
      ...(opts.stereo ? { stereo: join(dir, `${callId}.stereo.wav`) } : {}),
    });
    this.live.set(callId, { recorder, stereo: opts.stereo === true });
  }

  /** The transport that records this call (the transport itself when the call is not recorded). */
  wrap(callId: string, transport: Transport): Transport {
    const live = this.live.get(callId);
    return live ? new RecordingTransport(transport, live.recorder) : transport;
  }

  /**
   * Ends the call's recording at `call.endAt` and stores it. Idempotent: every call for the same
   * call id gets the same answer. Undefined when the call was not recorded, never connected, or
   * storing failed (logged).
   */
  finish(call: Call): Promise<RecordingResult | undefined> {
    const live = this.live.get(call.id);
    if (!live) return Promise.resolve(undefined);
    if (!live.finishing) {
      live.finishing = this.store(call, live);
      this.track(live.finishing);
    }
    return live.finishing;
  }

  /** Forgets a finished call (after `finish` settled). */
  async release(call: Call): Promise<void> {
    await this.finish(call).catch(() => undefined);
    this.live.delete(call.id);
  }

  /** Resolves when every recording being stored is stored. */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private track(p: Promise<unknown>): void {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p)).catch(() => {});
  }

  private async store(call: Call, live: Live): Promise<RecordingResult | undefined> {
    const { recorder } = live;
    try {
      if (NOT_CONNECTED.has(call.phoneCallStatus) || !recorder.started) {
        await recorder.discard();
        return undefined;
      }
      const endAt = call.endAt ? Date.parse(call.endAt) : undefined;
      const ms = await recorder.finish(endAt);
      if (ms === undefined) return undefined;
      const storage = this.o.storage;
      const bucket = storage.bucket ? { s3Bucket: storage.bucket } : {};
      const monoName = `${call.id}.wav`;
      const monoKey = storage.keyOf(monoName);
      await storage.put(recorder.files.mono, monoKey);
      const result: RecordingResult = {
        recording: { ...bucket, path: monoKey },
        recordingUrl: await this.urlOf(monoName, monoKey),
      };
      if (recorder.files.stereo) {
        const stereoName = `${call.id}.stereo.wav`;
        const stereoKey = storage.keyOf(stereoName);
        await storage.put(recorder.files.stereo, stereoKey);
        result.stereoRecording = { ...bucket, path: stereoKey };
        result.stereoRecordingUrl = await this.urlOf(stereoName, stereoKey);
      }
      return result;
    } catch (error) {
      this.o.log?.error({ err: error, callId: call.id }, 'storing the call recording failed');
      await Promise.all(
        [recorder.files.mono, recorder.files.stereo].map((f) => (f ? rm(f, { force: true }) : undefined)),
      ).catch(() => {});
      return undefined;
    }
  }

  /** A URL to download a stored file without an API key, valid for `urlTtlSeconds`. */
  async urlOf(fileName: string, key: string): Promise<string> {
    const storage = this.o.storage;
    if (storage.presignedUrl) return storage.presignedUrl(key, this.urlTtlSeconds);
    return this.signedUrl(fileName);
  }

  /** `GET /recordings/<file>?expires=<unix s>&sig=<HMAC>` on this server. */
  signedUrl(fileName: string, ttlSeconds = this.urlTtlSeconds): string {
    const expires = Math.floor(this.now() / 1000) + ttlSeconds;
    const base = (typeof this.o.publicUrl === 'function' ? this.o.publicUrl() : this.o.publicUrl).replace(
      /\/+$/,
      '',
    );
    return `${base}/recordings/${fileName}?expires=${expires}&sig=${this.signature(fileName, expires)}`;
  }

  /** Checks a signed local URL: the signature matches and it has not expired. */
  verify(fileName: string, expires: string | undefined, sig: string | undefined): boolean {
    if (!expires || !sig || !/^\d{1,12}$/.test(expires) || !RECORDING_FILE.test(fileName)) return false;
    const expected = Buffer.from(this.signature(fileName, Number(expires)));
    const given = Buffer.from(sig);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return false;
    return Number(expires) * 1000 >= this.now();
  }

  private signature(fileName: string, expires: number): string {
    return createHmac('sha256', this.o.signingKey).update(`${fileName}\n${expires}`).digest('base64url');
  }

  /**
   * How to serve a call's stored recording (its `call.recording.path`, else the default key).
   * Throws a 409 `ApiError` when the recording is on local disk of another server.
   */
  async locate(call: Pick<Call, 'id' | 'recording'>, stereo = false): Promise<StoredRecording | undefined> {
    const found = await this.find(call, stereo);
    if (found || this.o.storage.kind !== 'local' || !call.recording?.path) return found;
    if (await this.ranElsewhere?.(call.id).catch(() => false)) throw recordingElsewhere();
    return undefined;
  }

  private find(call: Pick<Call, 'id' | 'recording'>, stereo: boolean): Promise<StoredRecording | undefined> {
    const storage = this.o.storage;
    const fileName = `${call.id}${stereo ? '.stereo' : ''}.wav`;
    let key = storage.keyOf(fileName);
    const stored = call.recording?.path;
    if (stored && (!call.recording.s3Bucket || call.recording.s3Bucket === storage.bucket)) {
      key = stereo ? stored.replace(/\.wav$/, '.stereo.wav') : stored;
    }
    return storage.get(key, Math.min(this.urlTtlSeconds, 3600));
  }

  /** Reads a local file by name for the signed route (409 when another server ran the call). */
  async localFile(fileName: string): Promise<StoredRecording | undefined> {
    if (this.o.storage.kind !== 'local' || !RECORDING_FILE.test(fileName)) return undefined;
    const found = await this.o.storage.get(this.o.storage.keyOf(fileName), 0);
    if (found) return found;
    const callId = fileName.replace(/(?:\.stereo)?\.wav$/, '');
    if (await this.ranElsewhere?.(callId).catch(() => false)) throw recordingElsewhere();
    return undefined;
  }

  /** Deletes recordings older than the retention setting; resolves with how many. */
  async sweep(now = this.now()): Promise<number> {
    const days = this.o.retentionDays ?? 0;
    if (days <= 0) return 0;
    return this.o.storage.sweep(now - days * 24 * 3600 * 1000);
  }

  /** Sweeps now and every `everyMs` (default hourly) when a retention is set. */
  startSweeper(everyMs = 3600_000): void {
    if ((this.o.retentionDays ?? 0) <= 0 || this.sweeper) return;
    const run = () => {
      const p = this.sweep().then(
        (removed) => removed > 0 && this.o.log?.warn({ removed }, 'recordings past retention deleted'),
        (error) => this.o.log?.error({ err: error }, 'recording retention sweep failed'),
      );
      this.track(p);
    };
    run();
    this.sweeper = setInterval(run, everyMs);
    this.sweeper.unref();
  }

  /**
   * Stores (or removes) what crashed processes left in `recordings/.partial/`, for calls that
   * have ended since (see `partial-salvage.ts`). `callStatus` reads a call's status.
   */
  salvage(callStatus: (callId: string) => Promise<string | undefined>) {
    const p = salvagePartials({
      dir: join(this.o.dataDir, 'recordings', '.partial'),
      storage: this.o.storage,
      isRecording: (callId) => this.live.has(callId),
      callStatus,
      now: this.now,
      ...(this.o.log ? { log: this.o.log } : {}),
    });
    this.track(p);
    return p;
  }

  /**
   * Crash recovery of a call that a stopped process was recording with this data directory:
   * completes what it wrote (`recordings/.partial/`), stores it like a finished recording and
   * returns it for the report (`call.recording`, `recordingUrl`). Undefined when there is no such
   * file here (another server's disk: the periodic `salvage` of that server stores it later), the
   * call is recorded by this process, or storing failed (logged; the sweep retries).
   */
  async salvageCall(call: Pick<Call, 'id'>): Promise<RecordingResult | undefined> {
    if (this.live.has(call.id)) return undefined;
    const dir = join(this.o.dataDir, 'recordings', '.partial');
    const storage = this.o.storage;
    const bucket = storage.bucket ? { s3Bucket: storage.bucket } : {};
    const storeOne = async (fileName: string) => {
      const path = join(dir, fileName);
      if (!(await completeWav(path).catch(() => false))) return undefined;
      const key = storage.keyOf(fileName);
      await storage.put(path, key);
      return { recording: { ...bucket, path: key }, url: await this.urlOf(fileName, key) };
    };
    try {
      const mono = await storeOne(`${call.id}.wav`);
      if (!mono) return undefined;
      const result: RecordingResult = { recording: mono.recording, recordingUrl: mono.url };
      const stereo = await storeOne(`${call.id}.stereo.wav`);
      if (stereo) {
        result.stereoRecording = stereo.recording;
        result.stereoRecordingUrl = stereo.url;
      }
      this.o.log?.warn({ callId: call.id }, 'stored the partial recording of a call a stopped server ran');
      return result;
    } catch (error) {
      this.o.log?.error(
        { err: error, callId: call.id },
        'salvaging the recording of a recovered call failed',
      );
      return undefined;
    }
  }

  /** Salvages now and every `everyMs` (a crashed call is finished by recovery some time later). */
  startSalvage(callStatus: (callId: string) => Promise<string | undefined>, everyMs = 60_000): void {
    if (this.salvager) return;
    const run = () =>
      void this.salvage(callStatus).catch((error: unknown) =>
        this.o.log?.error({ err: error }, 'salvaging partial recordings failed'),
      );
    run();
    this.salvager = setInterval(run, everyMs);
    this.salvager.unref();
  }

  async close(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
    if (this.salvager) clearInterval(this.salvager);
    this.salvager = undefined;
    await this.idle();
  }
}

const recordingElsewhere = () =>
  new ApiError(
    409,
    'recording_on_another_server',
    'this recording is on the local disk of the server that ran the call: local recordings are served only by that server (with several servers, store recordings in S3-compatible storage: PARLEY_RECORDING_S3_BUCKET)',
  );

/** `PARLEY_RECORDING_SIGNING_KEY`, else a random key kept in `PARLEY_DATA_DIR/recording-signing.key`. */
async function signingKeyOf(config: Config): Promise<Buffer> {
  return Buffer.from(
    await storedKey(config.dataDir, 'recording-signing.key', config.recordingSigningKey),
    'utf8',
  );
}
