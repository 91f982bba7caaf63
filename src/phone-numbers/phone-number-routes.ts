/**
 * `POST/GET/PATCH/DELETE /v1/phone-numbers`: a team's numbers. Every input is checked before it
 * is stored, with a 400 naming the field: the number (E.164), the provider (a carrier this
 * server speaks), the carrier's credential fields, the assistant (one of the team's), the
 * fallback destination, the API base URL (the network policy of provider base URLs: https, and
 * no private address unless the operator allows it). Every answer carries `carrierSetup`.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { findAssistant } from '../assistants/assistant-store.js';
import type { Db } from '../db/database.js';
import { ApiError, ErrorResponseSchema, notFound } from '../shared/api-error.js';
import { decodeCursor, PageQuery, page } from '../shared/pagination.js';
import { webhookSecretProblem } from '../shared/webhook-signing.js';
import { vetBaseUrl } from '../tenancy/provider-credential-routes.js';
import type { PhoneCarrier } from '../transports/phone/carrier.js';
import { CarrierRegistry } from '../transports/phone/carriers.js';
import { numberUrls, type PublicUrl } from '../transports/phone/phone-urls.js';
import type { TransferDestination } from '../transports/transport.js';
import {
  E164,
  E164_HINT,
  type PhoneNumber,
  type PhoneNumberCreate,
  PhoneNumberCreateSchema,
  type PhoneNumberPatch,
  PhoneNumberPatchSchema,
  PhoneNumberSchema,
} from './phone-number-schema.js';
import type { PhoneNumberRow, PhoneNumberStore, PhoneNumberValues } from './phone-number-store.js';

export interface PhoneNumberRouteOptions {
  db: Db;
  store: PhoneNumberStore;
  /** Default: every carrier of `transports/phone/carriers.ts`. */
  carriers?: CarrierRegistry;
  publicUrl: PublicUrl;
  /** `PARLEY_ALLOW_PRIVATE_WEBHOOKS`: private and loopback API base URLs (and plain http) allowed. */
  allowPrivate: boolean;
}

const invalid = (field: string, message: string) =>
  new ApiError(400, 'invalid_request', `${field} ${message}`, field);

function checkNumber(value: string, field: string): void {
  if (!E164.test(value)) throw invalid(field, E164_HINT);
}

function carrierOf(carriers: CarrierRegistry, provider: string): PhoneCarrier {
  const carrier = carriers.get(provider);
  if (!carrier) {
    const known = carriers.names();
    throw invalid(
      'provider',
      `${JSON.stringify(provider)} is not a carrier this server speaks (${known.length ? known.join(', ') : 'none'})`,
    );
  }
  return carrier;
}

function checkCredentials(carrier: PhoneCarrier, credentials: Record<string, string>): void {
  const expected = carrier.credentialFields.map((f) => f.name);
  for (const name of Object.keys(credentials)) {
    if (!expected.includes(name))
      throw invalid(
        `credentials.${name}`,
        `is not a ${carrier.displayName} credential (expected ${expected.join(', ')})`,
      );
  }
  for (const field of carrier.credentialFields) {
    const value = credentials[field.name];
    if (value === undefined || value.trim() === '')
      throw invalid(
        `credentials.${field.name}`,
        `is required for ${carrier.displayName} (${field.description})`,
      );
  }
}

function checkDestination(destination: TransferDestination | null): void {
  if (destination?.type !== 'number') return;
  checkNumber(destination.number, 'fallbackDestination.number');
  if (destination.callerId !== undefined) checkNumber(destination.callerId, 'fallbackDestination.callerId');
}

export async function phoneNumberRoutes(app: FastifyInstance, opts: PhoneNumberRouteOptions): Promise<void> {
  const { store } = opts;
  const carriers = opts.carriers ?? new CarrierRegistry();
  const errors = {
    400: ErrorResponseSchema,
    401: ErrorResponseSchema,
    404: ErrorResponseSchema,
    409: ErrorResponseSchema,
  };
  const tags = ['phone-numbers'];
  const IdParams = Type.Object({ id: Type.String({ maxLength: 100 }) });

  /** Every rule of a number about to be stored; throws a 400 naming the field. */
  async function check(teamId: string, values: PhoneNumberValues): Promise<void> {
    checkNumber(values.number, 'number');
    if (values.provider !== 'sip') checkCredentials(carrierOf(carriers, values.provider), values.credentials);
    else if (Object.keys(values.credentials).length > 0)
      throw invalid('credentials', 'must be empty for sip');
    checkDestination(values.fallbackDestination);
    if (values.assistantId && !(await findAssistant(opts.db, teamId, values.assistantId)))
      throw invalid('assistantId', `${JSON.stringify(values.assistantId)} is not an assistant of this team`);
    const secret = values.server?.secret;
    const problem = secret ? webhookSecretProblem(secret) : null;
    if (problem) throw invalid('server.secret', problem);
    if (values.apiBaseUrl) {
      const url = new URL(values.apiBaseUrl);
      if (url.protocol !== 'https:' && !opts.allowPrivate)
        throw invalid('apiBaseUrl', 'must be https (the carrier credentials travel with every request)');
      await vetBaseUrl(values.apiBaseUrl, opts.allowPrivate, 'apiBaseUrl');
    }
  }

  function show(row: PhoneNumberRow): PhoneNumber {
    const carrier = carriers.get(row.provider);
    const urls = numberUrls(opts.publicUrl, row.provider as PhoneCarrier['name'], row.id);
    const server = row.server as {
      url: string;
      timeoutSeconds?: number;
      secret?: string;
      headers?: Record<string, string>;
    } | null;
    return {
      id: row.id,
      number: row.number,
      provider: row.provider,
      name: row.name,
      assistantId: row.assistant_id,
      server: server
        ? {
            url: server.url,
            ...(server.timeoutSeconds !== undefined ? { timeoutSeconds: server.timeoutSeconds } : {}),
            ...(server.headers
              ? { headers: Object.fromEntries(Object.keys(server.headers).map((k) => [k, '[redacted]'])) }
              : {}),
            secretSet: Boolean(server.secret),
          }
        : null,
      fallbackDestination: (row.fallback_destination as TransferDestination | null) ?? null,
      credentials: row.credentials_shown,
      apiBaseUrl: row.api_base_url,
      carrierSetup: {
        provider: row.provider,
        displayName: carrier?.displayName ?? row.provider,
        ...urls,
        steps: carrier?.setup(urls) ?? [],
      },
      createdAt: new Date(row.created_at).toISOString(),
      updatedAt: new Date(row.updated_at).toISOString(),
    };
  }

  app.post<{ Body: PhoneNumberCreate }>(
    '/phone-numbers',
    {
      schema: {
        tags,
        summary: "Add a phone number at a carrier (its console setup is in the answer's carrierSetup)",
        body: PhoneNumberCreateSchema,
        response: { 201: PhoneNumberSchema, ...errors },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const values: PhoneNumberValues = {
        number: body.number,
        provider: body.provider,
        name: body.name ?? null,
        assistantId: body.assistantId ?? null,
        server: body.server ?? null,
        fallbackDestination: body.fallbackDestination ?? null,
        credentials: body.credentials,
        apiBaseUrl: body.apiBaseUrl ?? null,
      };
      await check(request.team.id, values);
      return reply.status(201).send(show(await store.insert(request.team.id, values)));
    },
  );

  app.get<{ Querystring: { limit?: number; cursor?: string } }>(
    '/phone-numbers',
    {
      schema: {
        tags,
        summary: "The team's phone numbers, newest first",
        querystring: Type.Object(PageQuery, { additionalProperties: false }),
        response: {
          200: Type.Object({
            data: Type.Array(PhoneNumberSchema),
            nextCursor: Type.Union([Type.String(), Type.Null()]),
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 20;
      const rows = await store.list(request.team.id, limit + 1, decodeCursor(request.query.cursor));
      const { items, nextCursor } = page(rows, limit);
      return { data: items.map(show), nextCursor };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/phone-numbers/:id',
    {
      schema: {
        tags,
        summary: 'Get a phone number',
        params: IdParams,
        response: { 200: PhoneNumberSchema, ...errors },
      },
    },
    async (request) => {
      const row = await store.find(request.team.id, request.params.id);
      if (!row) throw notFound('phone number');
      return show(row);
    },
  );

  app.patch<{ Params: { id: string }; Body: PhoneNumberPatch }>(
    '/phone-numbers/:id',
    {
      schema: {
        tags,
        summary: 'Update a phone number',
        description:
          'Fields left out are kept; null clears an optional one. credentials: the fields given replace the stored ones (all are needed when provider changes).',
        params: IdParams,
        body: PhoneNumberPatchSchema,
        response: { 200: PhoneNumberSchema, ...errors },
      },
    },
    async (request) => {
      const row = await store.find(request.team.id, request.params.id);
      if (!row) throw notFound('phone number');
      const body = request.body;
      let current: PhoneNumberValues;
      try {
        current = store.valuesOf(row);
      } catch {
        // Sealed under another server key: the credentials must be given again, in full.
        current = { ...store.settingsOf(row), credentials: {} };
      }
      const provider = body.provider ?? current.provider;
      const values: PhoneNumberValues = {
        number: body.number ?? current.number,
        provider,
        name: body.name === undefined ? current.name : body.name,
        assistantId: body.assistantId === undefined ? current.assistantId : body.assistantId,
        server: body.server === undefined ? current.server : body.server,
        fallbackDestination:
          body.fallbackDestination === undefined ? current.fallbackDestination : body.fallbackDestination,
        credentials: {
          ...(provider === current.provider ? current.credentials : {}),
          ...(body.credentials ?? {}),
        },
        apiBaseUrl: body.apiBaseUrl === undefined ? current.apiBaseUrl : body.apiBaseUrl,
      };
      await check(request.team.id, values);
      const updated = await store.update(request.team.id, row.id, values);
      if (!updated) throw notFound('phone number');
      return show(updated);
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/phone-numbers/:id',
    {
      schema: {
        tags,
        summary: 'Delete a phone number (calls in progress go on)',
        params: IdParams,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      if (!(await store.remove(request.team.id, request.params.id))) throw notFound('phone number');
      return reply.status(204).send();
    },
  );
}
