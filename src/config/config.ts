import { type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

/**
 * Every setting Parley reads, all from environment variables. The README's configuration
 * table is this list.
 */
export const ConfigSchema = Type.Object({
  port: Type.Integer({ minimum: 0, maximum: 65535 }),
  host: Type.String({ minLength: 1 }),
  /** Public base URL used in links handed to clients (WebSocket join URLs, recording URLs). */
  publicUrl: Type.Optional(Type.String({ minLength: 1 })),
  dataDir: Type.String({ minLength: 1 }),
  databaseUrl: Type.Optional(Type.String({ minLength: 1 })),
  bootstrapKey: Type.Optional(Type.String({ minLength: 16 })),
  logLevel: Type.Union([
    Type.Literal('fatal'),
    Type.Literal('error'),
    Type.Literal('warn'),
    Type.Literal('info'),
    Type.Literal('debug'),
    Type.Literal('trace'),
    Type.Literal('silent'),
  ]),
  bodyLimitBytes: Type.Integer({ minimum: 1024 }),
  allowPrivateWebhooks: Type.Boolean(),
  callHeartbeatMs: Type.Integer({ minimum: 100, maximum: 60_000 }),
  /** Recordings go to this S3-compatible bucket; unset: local disk under `dataDir/recordings/`. */
  recordingS3Bucket: Type.Optional(Type.String({ minLength: 1 })),
  recordingS3Endpoint: Type.Optional(Type.String({ minLength: 1 })),
  recordingS3Region: Type.Optional(Type.String({ minLength: 1 })),
  recordingS3AccessKeyId: Type.Optional(Type.String({ minLength: 1 })),
  recordingS3SecretAccessKey: Type.Optional(Type.String({ minLength: 1 })),
  recordingS3ForcePathStyle: Type.Boolean(),
  recordingS3Prefix: Type.Optional(Type.String()),
  /** Recordings older than this many days are deleted; 0 keeps them. */
  recordingRetentionDays: Type.Integer({ minimum: 0, maximum: 36_500 }),
  /** Lifetime of the recording URLs handed out (signed local URLs, presigned S3 URLs). */
  recordingUrlTtlSeconds: Type.Integer({ minimum: 1, maximum: 31_536_000 }),
  /** HMAC key of signed local recording URLs; unset: a random key kept in `dataDir`. */
  recordingSigningKey: Type.Optional(Type.String({ minLength: 32 })),
  /** Encrypts teams' provider keys at rest; unset: a random key kept in `dataDir`. */
  secretKey: Type.Optional(Type.String({ minLength: 32 })),
  /** Operator-supplied model files (GGUF for `local`, sherpa-onnx models and voices). */
  modelsDir: Type.String({ minLength: 1 }),
  /** CPU threads of the `local` (GGUF) LLM; 0: node-llama-cpp's choice. */
  localLlmThreads: Type.Integer({ minimum: 0, maximum: 256 }),
  localLlmContextSize: Type.Integer({ minimum: 256, maximum: 1_048_576 }),
});
export type Config = Static<typeof ConfigSchema>;

export const defaultConfig = {
  port: 3000,
  host: '0.0.0.0',
  dataDir: './.parley',
  logLevel: 'info',
  bodyLimitBytes: 1_048_576,
  allowPrivateWebhooks: false,
  callHeartbeatMs: 5_000,
  recordingRetentionDays: 0,
  recordingUrlTtlSeconds: 604_800,
  modelsDir: './models',
  localLlmThreads: 0,
  localLlmContextSize: 4096,
} as const satisfies Partial<Config>;

/** One row of the README configuration table. */
export const environmentVariables = [
  ['PORT', 'HTTP port', '3000'],
  ['HOST', 'Interface to listen on', '0.0.0.0'],
  ['PARLEY_PUBLIC_URL', 'Base URL clients use to reach this server (join links)', 'http://localhost:PORT'],
  ['PARLEY_DATA_DIR', 'Where the embedded database (PGlite) and local files live', './.parley'],
  ['DATABASE_URL', 'PostgreSQL connection string; when set, PostgreSQL is used instead of PGlite', '(unset)'],
  ['PARLEY_BOOTSTRAP_KEY', 'An API key (≥ 16 chars) seeded at start for the team "default"', '(unset)'],
  ['PARLEY_LOG_LEVEL', 'fatal, error, warn, info, debug, trace or silent', 'info'],
  ['PARLEY_BODY_LIMIT_BYTES', 'Largest accepted request body; larger ones get 413', '1048576'],
  [
    'PARLEY_ALLOW_PRIVATE_WEBHOOKS',
    '1 allows webhooks to private/loopback addresses (development only)',
    '0',
  ],
  [
    'PARLEY_RECORDING_S3_BUCKET',
    'Store recordings in this S3-compatible bucket (unset: local disk)',
    '(unset)',
  ],
  ['PARLEY_RECORDING_S3_ENDPOINT', 'S3 endpoint URL (MinIO, R2 …); unset: AWS', '(unset)'],
  ['PARLEY_RECORDING_S3_REGION', "The bucket's region", 'us-east-1'],
  ['PARLEY_RECORDING_S3_ACCESS_KEY_ID', 'S3 access key id (unset: the AWS default chain)', '(unset)'],
  ['PARLEY_RECORDING_S3_SECRET_ACCESS_KEY', 'S3 secret access key', '(unset)'],
  ['PARLEY_RECORDING_S3_FORCE_PATH_STYLE', '1: path-style S3 URLs (MinIO and most self-hosted stores)', '0'],
  ['PARLEY_RECORDING_S3_PREFIX', 'Key prefix of recordings in the bucket', 'recordings/'],
  ['PARLEY_RECORDING_RETENTION_DAYS', 'Recordings older than this are deleted; 0 keeps them', '0'],
  ['PARLEY_RECORDING_URL_TTL_SECONDS', 'Lifetime of handed-out recording URLs', '604800'],
  [
    'PARLEY_RECORDING_SIGNING_KEY',
    'HMAC key (≥ 32 chars) of signed local recording URLs',
    '(random, in data dir)',
  ],
  [
    'PARLEY_SECRET_KEY',
    "Key (≥ 32 chars) that encrypts teams' provider API keys; set the same on every server",
    '(random, in data dir)',
  ],
  [
    'PARLEY_MODELS_DIR',
    'Operator-supplied models (GGUF, sherpa-onnx); assistants name files in it',
    './models',
  ],
] as const;

const envNameOf: Record<keyof Config, string> = {
  port: 'PORT',
  host: 'HOST',
  publicUrl: 'PARLEY_PUBLIC_URL',
  dataDir: 'PARLEY_DATA_DIR',
  databaseUrl: 'DATABASE_URL',
  bootstrapKey: 'PARLEY_BOOTSTRAP_KEY',
  logLevel: 'PARLEY_LOG_LEVEL',
  bodyLimitBytes: 'PARLEY_BODY_LIMIT_BYTES',
  allowPrivateWebhooks: 'PARLEY_ALLOW_PRIVATE_WEBHOOKS',
  callHeartbeatMs: 'PARLEY_CALL_HEARTBEAT_MS',
  recordingS3Bucket: 'PARLEY_RECORDING_S3_BUCKET',
  recordingS3Endpoint: 'PARLEY_RECORDING_S3_ENDPOINT',
  recordingS3Region: 'PARLEY_RECORDING_S3_REGION',
  recordingS3AccessKeyId: 'PARLEY_RECORDING_S3_ACCESS_KEY_ID',
  recordingS3SecretAccessKey: 'PARLEY_RECORDING_S3_SECRET_ACCESS_KEY',
  recordingS3ForcePathStyle: 'PARLEY_RECORDING_S3_FORCE_PATH_STYLE',
  recordingS3Prefix: 'PARLEY_RECORDING_S3_PREFIX',
  recordingRetentionDays: 'PARLEY_RECORDING_RETENTION_DAYS',
  recordingUrlTtlSeconds: 'PARLEY_RECORDING_URL_TTL_SECONDS',
  recordingSigningKey: 'PARLEY_RECORDING_SIGNING_KEY',
  secretKey: 'PARLEY_SECRET_KEY',
  modelsDir: 'PARLEY_MODELS_DIR',
  localLlmThreads: 'PARLEY_LOCAL_LLM_THREADS',
  localLlmContextSize: 'PARLEY_LOCAL_LLM_CONTEXT_SIZE',
};

export class ConfigError extends Error {}

function integer(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(`${name} must be a non-negative integer, got "${raw}"`);
  return Number(raw);
}

function flag(name: string, raw: string | undefined): boolean {
  if (raw === undefined || raw === '' || raw === '0' || raw === 'false') return false;
  if (raw === '1' || raw === 'true') return true;
  throw new ConfigError(`${name} must be 1 or 0, got "${raw}"`);
}

function optional(raw: string | undefined): string | undefined {
  return raw === undefined || raw === '' ? undefined : raw;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const config: Config = {
    port: integer('PORT', env.PORT, defaultConfig.port),
    host: optional(env.HOST) ?? defaultConfig.host,
    publicUrl: optional(env.PARLEY_PUBLIC_URL),
    dataDir: optional(env.PARLEY_DATA_DIR) ?? defaultConfig.dataDir,
    databaseUrl: optional(env.DATABASE_URL),
    bootstrapKey: optional(env.PARLEY_BOOTSTRAP_KEY),
    logLevel: (optional(env.PARLEY_LOG_LEVEL) ?? defaultConfig.logLevel) as Config['logLevel'],
    bodyLimitBytes: integer(
      'PARLEY_BODY_LIMIT_BYTES',
      env.PARLEY_BODY_LIMIT_BYTES,
      defaultConfig.bodyLimitBytes,
    ),
    allowPrivateWebhooks: flag('PARLEY_ALLOW_PRIVATE_WEBHOOKS', env.PARLEY_ALLOW_PRIVATE_WEBHOOKS),
    callHeartbeatMs: integer(
      'PARLEY_CALL_HEARTBEAT_MS',
      env.PARLEY_CALL_HEARTBEAT_MS,
      defaultConfig.callHeartbeatMs,
    ),
    recordingS3Bucket: optional(env.PARLEY_RECORDING_S3_BUCKET),
    recordingS3Endpoint: optional(env.PARLEY_RECORDING_S3_ENDPOINT),
    recordingS3Region: optional(env.PARLEY_RECORDING_S3_REGION),
    recordingS3AccessKeyId: optional(env.PARLEY_RECORDING_S3_ACCESS_KEY_ID),
    recordingS3SecretAccessKey: optional(env.PARLEY_RECORDING_S3_SECRET_ACCESS_KEY),
    recordingS3ForcePathStyle: flag(
      'PARLEY_RECORDING_S3_FORCE_PATH_STYLE',
      env.PARLEY_RECORDING_S3_FORCE_PATH_STYLE,
    ),
    recordingS3Prefix: env.PARLEY_RECORDING_S3_PREFIX,
    recordingRetentionDays: integer(
      'PARLEY_RECORDING_RETENTION_DAYS',
      env.PARLEY_RECORDING_RETENTION_DAYS,
      defaultConfig.recordingRetentionDays,
    ),
    recordingUrlTtlSeconds: integer(
      'PARLEY_RECORDING_URL_TTL_SECONDS',
      env.PARLEY_RECORDING_URL_TTL_SECONDS,
      defaultConfig.recordingUrlTtlSeconds,
    ),
    recordingSigningKey: optional(env.PARLEY_RECORDING_SIGNING_KEY),
    secretKey: optional(env.PARLEY_SECRET_KEY),
    modelsDir: optional(env.PARLEY_MODELS_DIR) ?? defaultConfig.modelsDir,
    localLlmThreads: integer(
      'PARLEY_LOCAL_LLM_THREADS',
      env.PARLEY_LOCAL_LLM_THREADS,
      defaultConfig.localLlmThreads,
    ),
    localLlmContextSize: integer(
      'PARLEY_LOCAL_LLM_CONTEXT_SIZE',
      env.PARLEY_LOCAL_LLM_CONTEXT_SIZE,
      defaultConfig.localLlmContextSize,
    ),
  };
  for (const key of [
    'recordingS3Bucket',
    'recordingS3Endpoint',
    'recordingS3Region',
    'recordingS3AccessKeyId',
    'recordingS3SecretAccessKey',
    'recordingS3Prefix',
    'recordingSigningKey',
    'secretKey',
  ] as const) {
    if (config[key] === undefined) delete config[key];
  }
  if (config.publicUrl === undefined) delete config.publicUrl;
  if (config.databaseUrl === undefined) delete config.databaseUrl;
  if (config.bootstrapKey === undefined) delete config.bootstrapKey;
  const first = Value.Errors(ConfigSchema, config).First();
  if (first) {
    const field = first.path.replace(/^\//, '') as keyof Config;
    throw new ConfigError(`invalid configuration ${envNameOf[field] ?? field}: ${first.message}`);
  }
  return config;
}
