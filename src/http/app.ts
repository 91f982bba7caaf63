import { randomUUID } from 'node:crypto';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { assistantRoutes } from '../assistants/assistant-routes.js';
import { callControlRoutes } from '../calls/call-control-routes.js';
import { callRoutes } from '../calls/call-routes.js';
import type { CallService } from '../calls/call-service.js';
import type { Config } from '../config/config.js';
import { eventSchemas } from '../contract/event-schemas.js';
import {
  type Dashboard,
  type DashboardOptions,
  registerDashboard,
} from '../dashboard-server/dashboard-routes.js';
import type { DatabaseHandle } from '../db/database.js';
import type { SyncRelay } from '../listen/sync-relay.js';
import { syncRelayRoutes } from '../listen/sync-relay-routes.js';
import { liveEventRoutes } from '../live/live-event-routes.js';
import type { LiveEventHub } from '../live/live-events.js';
import type { SseStreamOptions } from '../live/sse-stream.js';
import { phoneNumberRoutes } from '../phone-numbers/phone-number-routes.js';
import type { PhoneNumberStore } from '../phone-numbers/phone-number-store.js';
import { errorHandler, frameworkErrorHandler } from '../shared/api-error.js';
import { providerCredentialRoutes } from '../tenancy/provider-credential-routes.js';
import type { ProviderCredentialStore } from '../tenancy/provider-credentials.js';
import { teamRoutes } from '../tenancy/team-settings.js';
import { registerWebSocketSupport } from '../transports/web/websocket-plugin.js';
import type { Dispatcher } from '../webhooks/delivery/dispatcher.js';
import type { Outbox } from '../webhooks/outbox.js';
import { eventSchemaRoutes, webhookRoutes } from '../webhooks/webhook-routes.js';
import { authenticate } from './auth.js';
import { healthRoutes } from './health-routes.js';
import { rejectUnstorableInput, validatorCompiler } from './validation.js';

export interface AppDeps {
  /** This server's instance id (`GET /health`). */
  instance: string;
  config: Config;
  database: DatabaseHandle;
  logger: Logger;
  dispatcher: Dispatcher;
  outbox: Outbox;
  calls: CallService;
  credentials: ProviderCredentialStore;
  /** Phone numbers (`/v1/phone-numbers`). */
  phoneNumbers?: PhoneNumberStore;
  /** Live call events, streamed at `GET /v1/events/stream`. */
  live: LiveEventHub;
  /** `parley listen --tools` listeners (`GET /v1/listen/ws`). */
  syncRelay?: SyncRelay;
  /** Stream settings (tests: a short heartbeat). */
  liveStream?: Partial<SseStreamOptions>;
  /** Where the built dashboard is (default: this package's `dist/dashboard`). */
  dashboard?: Partial<DashboardOptions>;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  // Typed as Fastify's logger interface (pino's Logger is one), so that `app` is a plain
  // FastifyInstance for the route plugins.
  const loggerInstance: FastifyBaseLogger = deps.logger;
  const app = Fastify({
    loggerInstance,
    bodyLimit: deps.config.bodyLimitBytes,
    // Shutdown ends live calls first (with their terminal events); then any connection still
    // open (a keep-alive socket, a client that never closed its WebSocket) must not hold the
    // process: close() destroys them instead of waiting.
    forceCloseConnections: true,
    requestIdHeader: false,
    // A malformed URL or an over-long path parameter: the API's error shape, not Fastify's.
    frameworkErrors: frameworkErrorHandler,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
  });

  app.setValidatorCompiler(validatorCompiler);
  app.setErrorHandler(errorHandler);
  // NUL, lone surrogates and absurd nesting anywhere in the input: 400 before any route's code.
  app.addHook('preValidation', rejectUnstorableInput);
  let dashboard: Dashboard | undefined;
  app.setNotFoundHandler((request, reply) => {
    // Dashboard pages (`/talk/…`) route in the browser: they get its index.html.
    if (dashboard?.serveFallback(request, reply)) return;
    void reply.status(404).send({
      error: { code: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0]}` },
    });
  });
  app.addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', request.id);
  });
  // At the root, before any route: upgrades to every route are handled (see the plugin).
  await registerWebSocketSupport(app);

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Parley API',
        version: '0.1.0',
        description:
          'Assistants, calls and webhook deliveries. Authenticate with `Authorization: Bearer <API key>`. Errors are `{"error": {"code", "message", "field"?}}`.',
      },
      components: {
        securitySchemes: { apiKey: { type: 'http', scheme: 'bearer' } },
        // The webhook events your server receives, shown in the docs next to the API.
        schemas: Object.fromEntries(
          Object.entries(eventSchemas).map(([type, schema]) => [
            `WebhookEvent-${type}`,
            schema as unknown as object,
          ]),
        ),
      },
      security: [{ apiKey: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  await app.register(healthRoutes, {
    database: deps.database,
    instance: deps.instance,
    draining: () => deps.calls.draining,
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  await app.register(eventSchemaRoutes);
  // The entry points (transports/entry-points.ts) are mounted at the root by server.ts.

  await app.register(
    async (v1) => {
      v1.addHook('onRequest', authenticate(deps.database.db));
      await v1.register(assistantRoutes, { db: deps.database.db });
      await v1.register(callRoutes, { db: deps.database.db });
      await v1.register(callControlRoutes, { db: deps.database.db, calls: deps.calls });
      await v1.register(teamRoutes, { db: deps.database.db });
      if (deps.phoneNumbers)
        await v1.register(phoneNumberRoutes, {
          db: deps.database.db,
          store: deps.phoneNumbers,
          publicUrl: () => deps.calls.publicUrl(),
          allowPrivate: deps.config.allowPrivateWebhooks,
        });
      await v1.register(providerCredentialRoutes, {
        store: deps.credentials,
        allowPrivate: deps.config.allowPrivateWebhooks,
      });
      await v1.register(webhookRoutes, {
        db: deps.database.db,
        dispatcher: deps.dispatcher,
        outbox: deps.outbox,
      });
      await v1.register(liveEventRoutes, {
        db: deps.database.db,
        live: deps.live,
        ...(deps.liveStream ? { stream: deps.liveStream } : {}),
      });
      if (deps.syncRelay) await v1.register(syncRelayRoutes, { relay: deps.syncRelay });
    },
    { prefix: '/v1' },
  );
  // Last: the dashboard's static files at `/` (its `/*` route yields to every route above).
  dashboard = await registerDashboard(app, deps.dashboard);
  return app;
}
