/**
 * Every setting of config.ts, each written once: its environment variable, its schema, how the
 * variable's text is read, its default and its description. config.ts derives the schema, the
 * defaults and the parsing from this list, and test/config/readme-table.test.ts holds README.md's
 * configuration table to it (the rows are `readmeRow()` of each setting, in this order).
 */
import {
  type Static,
  type TBoolean,
  type TInteger,
  type TOptional,
  type TSchema,
  type TString,
  Type,
} from '@sinclair/typebox';

export class ConfigError extends Error {}

export interface Setting<S extends TSchema = TSchema> {
  env: string;
  schema: S;
  /** Reads the variable's text ('' counts as unset unless a setting says otherwise). */
  parse(raw: string | undefined): Static<S> | undefined;
  default?: Static<S>;
  /** The README's meaning column. */
  description: string;
  /** The README's default column when it is not the default value in backticks. */
  shownDefault?: string;
}

/** A setting that has a value when its variable is unset. */
export type SettingWithDefault<S extends TSchema> = Setting<S> & { default: Static<S> };

const unset = (raw: string | undefined) => raw === undefined || raw === '';

function integer(
  env: string,
  fallback: number,
  range: { minimum: number; maximum?: number },
  description: string,
  shownDefault?: string,
): SettingWithDefault<TInteger> {
  return {
    env,
    schema: Type.Integer(range),
    default: fallback,
    description,
    ...(shownDefault ? { shownDefault } : {}),
    parse(raw) {
      if (raw === undefined || raw === '') return fallback;
      if (!/^\d+$/.test(raw)) throw new ConfigError(`${env} must be a non-negative integer, got "${raw}"`);
      return Number(raw);
    },
  };
}

function flag(env: string, description: string): SettingWithDefault<TBoolean> {
  return {
    env,
    schema: Type.Boolean(),
    default: false,
    description,
    parse(raw) {
      if (raw === undefined || raw === '' || raw === '0' || raw === 'false') return false;
      if (raw === '1' || raw === 'true') return true;
      throw new ConfigError(`${env} must be 1 or 0, got "${raw}"`);
    },
  };
}

function text(env: string, fallback: string, description: string): SettingWithDefault<TString> {
  return {
    env,
    schema: Type.String({ minLength: 1 }),
    default: fallback,
    description,
    parse: (raw) => (unset(raw) ? fallback : raw),
  };
}

function optionalText(
  env: string,
  options: { minLength?: number; keepEmpty?: boolean },
  description: string,
  shownDefault = 'unset',
): Setting<TOptional<TString>> {
  return {
    env,
    schema: Type.Optional(Type.String(options.keepEmpty ? {} : { minLength: options.minLength ?? 1 })),
    description,
    shownDefault,
    parse: (raw) => (options.keepEmpty ? raw : unset(raw) ? undefined : raw),
  };
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const LogLevelSchema = Type.Union(LOG_LEVELS.map((level) => Type.Literal(level)));
const logLevel: SettingWithDefault<typeof LogLevelSchema> = {
  env: 'PARLEY_LOG_LEVEL',
  schema: LogLevelSchema,
  default: 'info',
  description: '`fatal`, `error`, `warn`, `info`, `debug`, `trace` or `silent`',
  // Any other text fails loadConfig's check against the schema.
  parse: (raw) => (unset(raw) ? 'info' : (raw as Static<typeof LogLevelSchema>)),
};

const sipPortSetting: Setting<TOptional<TInteger>> = {
  env: 'PARLEY_SIP_PORT',
  schema: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
  description:
    'UDP port of the built-in SIP endpoint (5060 is the usual one; `0`: any free port); unset: no SIP endpoint',
  shownDefault: 'unset',
  parse(raw) {
    if (unset(raw)) return undefined;
    if (!/^\d+$/.test(raw ?? ''))
      throw new ConfigError(`PARLEY_SIP_PORT must be a port number, got "${raw}"`);
    return Number(raw);
  },
};

const rtpPortsSetting: SettingWithDefault<TString> = {
  env: 'PARLEY_RTP_PORTS',
  schema: Type.String({ pattern: '^\\d{4,5}-\\d{4,5}$' }),
  default: '10000-20000',
  description: "UDP port range of SIP calls' RTP audio (`min-max`, 1024-65535; one even port per call)",
  parse(raw) {
    if (unset(raw)) return '10000-20000';
    const m = /^(\d{4,5})-(\d{4,5})$/.exec(raw ?? '');
    if (!m || Number(m[1]) < 1024 || Number(m[2]) > 65535 || Number(m[1]) > Number(m[2]))
      throw new ConfigError(`PARLEY_RTP_PORTS must be min-max within 1024-65535, got "${raw}"`);
    return raw as string;
  },
};

/** The settings, in the order of the README's table. */
export const SETTINGS = {
  port: integer('PORT', 3000, { minimum: 0, maximum: 65535 }, 'HTTP port'),
  host: text('HOST', '0.0.0.0', 'interface to listen on'),
  publicUrl: optionalText(
    'PARLEY_PUBLIC_URL',
    {},
    'base URL clients use to reach this server (join links, recording URLs)',
    '`http://localhost:PORT`',
  ),
  dataDir: text('PARLEY_DATA_DIR', './.parley', 'where the embedded database (PGlite) and local files live'),
  databaseUrl: optionalText(
    'DATABASE_URL',
    {},
    'PostgreSQL connection string; when set, PostgreSQL is used instead of PGlite',
  ),
  bootstrapKey: optionalText(
    'PARLEY_BOOTSTRAP_KEY',
    { minLength: 16 },
    'an API key (≥ 16 characters) seeded at start for the team `default`, for scripted deployments',
  ),
  logLevel,
  bodyLimitBytes: integer(
    'PARLEY_BODY_LIMIT_BYTES',
    1_048_576,
    { minimum: 1024 },
    'largest accepted request body; larger ones get 413',
  ),
  allowPrivateWebhooks: flag(
    'PARLEY_ALLOW_PRIVATE_WEBHOOKS',
    '`1` lets webhooks reach private and loopback addresses (development only)',
  ),
  recordingS3Bucket: optionalText(
    'PARLEY_RECORDING_S3_BUCKET',
    {},
    'store call recordings in this S3-compatible bucket instead of on local disk (`PARLEY_DATA_DIR/recordings/`)',
    'unset (local disk)',
  ),
  recordingS3Endpoint: optionalText(
    'PARLEY_RECORDING_S3_ENDPOINT',
    {},
    'the S3 endpoint URL (MinIO, R2, Ceph …); unset: AWS S3',
  ),
  recordingS3Region: optionalText('PARLEY_RECORDING_S3_REGION', {}, "the bucket's region", '`us-east-1`'),
  recordingS3AccessKeyId: optionalText(
    'PARLEY_RECORDING_S3_ACCESS_KEY_ID',
    {},
    "S3 access key id; unset: the AWS SDK's default chain (environment, profile, instance role)",
  ),
  recordingS3SecretAccessKey: optionalText(
    'PARLEY_RECORDING_S3_SECRET_ACCESS_KEY',
    {},
    'S3 secret access key (with the access key id)',
  ),
  recordingS3ForcePathStyle: flag(
    'PARLEY_RECORDING_S3_FORCE_PATH_STYLE',
    '`1`: path-style URLs (`endpoint/bucket/key`), as MinIO and most self-hosted stores need',
  ),
  recordingS3Prefix: optionalText(
    'PARLEY_RECORDING_S3_PREFIX',
    { keepEmpty: true },
    'key prefix of recordings in the bucket (set but empty: none)',
    '`recordings/`',
  ),
  recordingRetentionDays: integer(
    'PARLEY_RECORDING_RETENTION_DAYS',
    0,
    { minimum: 0, maximum: 36_500 },
    'recordings older than this are deleted (hourly sweep, local disk and S3); `0` keeps them',
  ),
  recordingUrlTtlSeconds: integer(
    'PARLEY_RECORDING_URL_TTL_SECONDS',
    604_800,
    { minimum: 1, maximum: 31_536_000 },
    'lifetime of the recording URLs handed out (`recordingUrl`; S3 presigned URLs are capped at 7 days)',
    '`604800` (7 days)',
  ),
  recordingSigningKey: optionalText(
    'PARLEY_RECORDING_SIGNING_KEY',
    { minLength: 32 },
    'HMAC key (≥ 32 characters) of signed local recording URLs; share it between servers behind one URL',
    'random, kept in `PARLEY_DATA_DIR/recording-signing.key`',
  ),
  callHeartbeatMs: integer(
    'PARLEY_CALL_HEARTBEAT_MS',
    5_000,
    { minimum: 100, maximum: 60_000 },
    'how often a server marks its live calls alive; a call whose server has been silent for 4× this is finished (`system`, with its terminal events) by the next server that starts or sweeps',
  ),
  drainTimeoutMs: integer(
    'PARLEY_DRAIN_TIMEOUT_MS',
    30_000,
    { minimum: 0, maximum: 3_600_000 },
    'graceful shutdown (SIGTERM, SIGINT): how long live calls may still run while the server admits no new call (`/health` answers 503 `draining`); the calls still live then end (`system`, "Server shutting down") with their terminal events. A second signal ends them at once',
  ),
  secretKey: optionalText(
    'PARLEY_SECRET_KEY',
    { minLength: 32 },
    "key (≥ 32 characters) that encrypts teams' provider API keys at rest (AES-256-GCM); set the same value on every server sharing one database",
    'random, kept in `PARLEY_DATA_DIR/secret.key`',
  ),
  modelsDir: text(
    'PARLEY_MODELS_DIR',
    './models',
    'operator-supplied model files: GGUF files for the `local` LLM, sherpa-onnx models and voices; assistants name files inside it',
  ),
  localLlmThreads: integer(
    'PARLEY_LOCAL_LLM_THREADS',
    0,
    { minimum: 0, maximum: 256 },
    'CPU threads of the `local` LLM; `0` lets node-llama-cpp choose (all cores). On small shared machines `1` is often much faster',
  ),
  localLlmContextSize: integer(
    'PARLEY_LOCAL_LLM_CONTEXT_SIZE',
    4096,
    { minimum: 256, maximum: 1_048_576 },
    'context window (tokens) of the `local` LLM',
  ),
  sipPort: sipPortSetting,
  sipPublicIp: optionalText(
    'PARLEY_SIP_PUBLIC_IP',
    {},
    'the IPv4 address Parley gives SIP peers in SDP and Contact (the public address behind a NAT)',
    'the first non-loopback IPv4 address of the machine',
  ),
  rtpPorts: rtpPortsSetting,
} as const;

/** A default as its variable is written (`0`/`1` for flags). */
const envText = (value: unknown) => (typeof value === 'boolean' ? (value ? '1' : '0') : String(value));

/** The setting's row of README.md's configuration table. */
export function readmeRow(setting: Setting): string {
  const shown = setting.shownDefault ?? `\`${envText(setting.default)}\``;
  return `| \`${setting.env}\` | ${setting.description} | ${shown} |`;
}
