import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { startAdminServer } from './admin/admin-server.js';
import { recordingLinkRoutes } from './calls/call-control-routes.js';
import { CallRecovery } from './calls/call-recovery.js';
import { CallService, type CallServiceOptions } from './calls/call-service.js';
import type { Config } from './config/config.js';
import { storedKey } from './config/stored-key.js';
import type { DashboardOptions } from './dashboard-server/dashboard-routes.js';
import type { DatabaseHandle } from './db/database.js';
import { openConfiguredDatabase } from './db/open-configured.js';
import type { EngineProviders } from './engine/providers.js';
import { buildApp } from './http/app.js';
import { SyncRelay } from './listen/sync-relay.js';
import { LiveEventHub } from './live/live-events.js';
import { PgLiveRelay } from './live/pg-live-relay.js';
import type { SseStreamOptions } from './live/sse-stream.js';
import { createLogger } from './logger.js';
import { PhoneNumberStore } from './phone-numbers/phone-number-store.js';
import { createLocalProviders } from './providers/local-providers.js';
import { createProviderCatalog, type ProviderSource } from './providers/provider-catalog.js';
import { RecordingService } from './recording/recording-service.js';
import { addApiKey, DEFAULT_TEAM_NAME, findOrCreateTeam } from './tenancy/api-keys.js';
import { ProviderCredentialStore } from './tenancy/provider-credentials.js';
import { SecretBox } from './tenancy/secret-box.js';
import { entryPoints } from './transports/entry-points.js';
import { Dispatcher, type DispatcherOptions } from './webhooks/delivery/dispatcher.js';
import { Outbox } from './webhooks/outbox.js';

/** A server's identity: its calls' owner, its webhook leases' owner, its live relay's origin. */
export const newInstanceId = () => `inst_${randomUUID().replaceAll('-', '')}`;

/** The signal topic of end requests: each server's heartbeat acts on its calls' at once. */
const CALL_END_SIGNAL = 'calls:end-requested';

export interface Parley {
  /** This server's instance id (shown by `GET /health`). */
  instance: string;
  app: FastifyInstance;
  database: DatabaseHandle;
  logger: Logger;
  dispatcher: Dispatcher;
  outbox: Outbox;
  calls: CallService;
  /** Every recorded call event, live (in this process). */
  live: LiveEventHub;
  /** PostgreSQL only: relays live events between the processes sharing the database. */
  liveRelay?: PgLiveRelay;
  /** Teams' provider keys (encrypted at rest). */
  credentials: ProviderCredentialStore;
  /**
   * Graceful shutdown: stops admitting calls at once (`/health` 503 `draining`, new calls 503),
   * lets live calls run up to `timeoutMs` (default `PARLEY_DRAIN_TIMEOUT_MS`; `signal` cuts the
   * wait short), then `close`s: the rest end with their terminal events, the deliveries queued
   * meanwhile get a few seconds to go out, and the pending ones are left to the other servers.
   */
  drain(options?: { timeoutMs?: number; signal?: AbortSignal }): Promise<void>;
  close(): Promise<void>;
}

/** At shutdown, how long the deliveries already queued may take before they are left to the other servers. */
const DELIVERY_GRACE_MS = 5_000;

/** Opens storage, migrates, seeds the bootstrap key and builds the HTTP app (not yet listening). */
export async function createParley(
  config: Config,
  options: {
    logger?: Logger;
    database?: DatabaseHandle;
    dispatcher?: Partial<DispatcherOptions>;
    providers?: EngineProviders;
    /** Where provider keys come from when a team has none (default `process.env`). */
    env?: NodeJS.ProcessEnv;
    /** Engine settings (tests and benchmarks: timing, a publicUrl known only after listen …). */
    calls?: Partial<Omit<CallServiceOptions, 'db' | 'sink' | 'providers'>>;
    /** Where the built dashboard is (default: this package's `dist/dashboard`). */
    dashboard?: Partial<DashboardOptions>;
    /** Live event stream settings (tests: a short heartbeat). */
    liveStream?: Partial<SseStreamOptions>;
    /**
     * PostgreSQL only: live events across processes. The LISTEN connection's URL (default
     * `config.databaseUrl`) and channel (default: from the schema); `false` turns it off.
     */
    liveRelay?: { connectionString?: string; channel?: string } | false;
    /** Embedded database: the admin channel the CLI uses while this server holds it (default on). */
    admin?: boolean;
    /** This server's instance id (default: a new one). */
    instance?: string;
  } = {},
): Promise<Parley> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const database = options.database ?? (await openConfiguredDatabase(config, logger));
  const admin =
    database.lock && options.admin !== false
      ? await startAdminServer({
          dataDir: database.lock.dataDir,
          ctx: { db: database.db },
          logger: logger.child({ component: 'admin' }),
        })
      : undefined;
  if (admin) await database.lock?.update({ socket: admin.socket });
  if (config.bootstrapKey) {
    const team = await findOrCreateTeam(database.db, DEFAULT_TEAM_NAME);
    await addApiKey(database.db, team.id, config.bootstrapKey, 'bootstrap');
    logger.info({ teamId: team.id }, 'bootstrap key seeded');
  }
  // One identity for this server: the owner stamp on the calls it runs (the outbox fences every
  // write with it), the lease owner of its webhook deliveries and the origin of its NOTIFYs.
  const instance = options.instance ?? newInstanceId();
  const live = new LiveEventHub((err) => logger.error({ err }, 'live event listener failed'));
  const liveRelay =
    database.kind === 'postgres' && options.liveRelay !== false
      ? await PgLiveRelay.start({
          db: database.db,
          hub: live,
          logger: logger.child({ component: 'live' }),
          connectionString: options.liveRelay?.connectionString ?? config.databaseUrl,
          channel: options.liveRelay?.channel,
          origin: instance,
        })
      : undefined;
  const dispatcher = new Dispatcher(database.db, logger.child({ component: 'webhooks' }), {
    allowPrivate: config.allowPrivateWebhooks,
    ...options.dispatcher,
    owner: instance,
    // Endpoint state (disabled by a 410, enabled) is heard from the other servers by NOTIFY.
    ...(liveRelay ? { signals: liveRelay } : {}),
  });
  const outbox = new Outbox(
    database.db,
    dispatcher,
    logger.child({ component: 'webhooks' }),
    config.allowPrivateWebhooks,
    liveRelay ?? live,
    instance,
  );
  // `parley listen --tools`: listeners connected to this process answer synchronous requests.
  const syncRelay = new SyncRelay();
  outbox.syncRelay = syncRelay;
  const secretBox = new SecretBox(await storedKey(config.dataDir, 'secret.key', config.secretKey));
  const phoneNumbers = new PhoneNumberStore(database.db, secretBox);
  const credentials = new ProviderCredentialStore(
    database.db,
    secretBox,
    options.env ?? process.env,
    (teamId, provider) =>
      logger.warn(
        { teamId, provider },
        'a stored provider key does not decrypt (was PARLEY_SECRET_KEY changed?)',
      ),
  );
  let providers: EngineProviders | ProviderSource | undefined = options.providers;
  if (!providers) {
    const local = await createLocalProviders();
    logger.info({ providers: local.status }, 'offline providers');
    providers = createProviderCatalog({
      local,
      credentials,
      modelsDir: config.modelsDir,
      localLlm: { threads: config.localLlmThreads, contextSize: config.localLlmContextSize },
      allowPrivateBaseUrls: config.allowPrivateWebhooks,
      env: options.env ?? process.env,
    });
  }
  const publicUrl = options.calls?.publicUrl ?? config.publicUrl ?? `http://localhost:${config.port}`;
  const recordings =
    options.calls?.recordings ??
    (await RecordingService.fromConfig(config, {
      publicUrl,
      log: logger.child({ component: 'recordings' }),
    }));
  recordings.startSweeper();
  const recovery = new CallRecovery(database.db, outbox, logger.child({ component: 'calls' }), {
    heartbeatMs: config.callHeartbeatMs,
    staleAfterMs: 4 * config.callHeartbeatMs,
    owner: instance,
    recordings,
  });
  const calls = new CallService({
    onCallCreated: (call, assistant) => recovery.own(call.id, assistant),
    recovery,
    // `POST /v1/calls/:id/end` here for a call another server runs: that server hears it at once
    // (a lost signal leaves the stored end request to its heartbeat).
    ...(liveRelay ? { announceEndRequest: () => liveRelay.signal(CALL_END_SIGNAL) } : {}),
    recordings,
    db: database.db,
    sink: outbox,
    providers,
    publicUrl,
    log: logger.child({ component: 'calls' }),
    ...options.calls,
  });
  const app = await buildApp({
    instance,
    config,
    database,
    logger,
    dispatcher,
    outbox,
    calls,
    credentials,
    phoneNumbers,
    live,
    syncRelay,
    ...(options.dashboard ? { dashboard: options.dashboard } : {}),
    ...(options.liveStream ? { liveStream: options.liveStream } : {}),
  });
  // Signed recording links, and every entry point (web, phone …) at the root: their media and
  // webhooks authenticate themselves (one-time tokens, carrier signatures), not by API key.
  await app.register(recordingLinkRoutes, { calls });
  for (const entry of entryPoints) {
    const mounted = await entry.register(app, {
      ...calls.entryPointDeps(),
      phoneNumbers,
      allowPrivateNetworks: config.allowPrivateWebhooks,
      config,
    });
    if (mounted?.outbound) calls.outbound = mounted.outbound;
  }
  recovery.watch(calls);
  // A local recording missing here, of a call another server ran, is on that server's disk.
  recordings.ranElsewhere = (callId) => recovery.ownedElsewhere(callId);
  const stopEndSignals = liveRelay?.onSignal(CALL_END_SIGNAL, () => void recovery.beat());
  await dispatcher.start();
  await recovery.start();
  // Partial recordings of calls a crashed process ran: stored once recovery has ended the call.
  recordings.startSalvage(async (callId) => {
    const row = await database.db
      .selectFrom('calls')
      .select('status')
      .where('id', '=', callId)
      .executeTakeFirst();
    return row?.status;
  });
  const close = async () => {
    // Live calls end first, with their terminal events, while the outbox can still deliver.
    await calls.close();
    await recordings.close();
    stopEndSignals?.();
    recovery.stop();
    await admin?.close();
    await app.close();
    await liveRelay?.close();
    await dispatcher.stop();
    await database.close();
  };
  return {
    instance,
    app,
    database,
    logger,
    dispatcher,
    outbox,
    calls,
    credentials,
    live,
    ...(liveRelay ? { liveRelay } : {}),
    drain: async ({ timeoutMs = config.drainTimeoutMs, signal } = {}) => {
      const live = calls.liveCalls;
      logger.info({ liveCalls: live, timeoutMs }, 'draining: no new calls; live calls may still run');
      await calls.drain(timeoutMs, signal);
      if (calls.liveCalls > 0)
        logger.warn({ liveCalls: calls.liveCalls }, 'drain limit reached: ending the calls still live');
      await calls.close();
      // The terminal events just recorded: sent from here while it takes a moment, else by the others.
      let grace: NodeJS.Timeout | undefined;
      await Promise.race([
        dispatcher.drain(),
        new Promise<void>((resolve) => {
          grace = setTimeout(resolve, DELIVERY_GRACE_MS);
        }),
      ]);
      clearTimeout(grace);
      await close();
    },
    close,
  };
}
