import { promises as dns } from 'node:dns';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { CREDENTIAL_PROVIDERS } from '../providers/credential-lookup.js';
import { ApiError, ErrorResponseSchema } from '../shared/api-error.js';
import { checkAddress, validateWebhookUrl } from '../shared/network-guard.js';
import type { ProviderCredentialStore } from './provider-credentials.js';

const ProviderParam = Type.Object({
  provider: Type.Union(
    CREDENTIAL_PROVIDERS.map((p) => Type.Literal(p)),
    { description: 'The cloud provider' },
  ),
});

const CredentialSchema = Type.Object({
  provider: Type.String(),
  apiKeyHint: Type.Union([Type.String(), Type.Null()], {
    description: 'Last four characters; the key itself is write-only',
  }),
  baseUrl: Type.Union([Type.String(), Type.Null()]),
  updatedAt: Type.String({ format: 'date-time' }),
});

const CredentialPutSchema = Type.Object(
  {
    apiKey: Type.Optional(
      Type.Union([Type.String({ minLength: 1, maxLength: 4096 }), Type.Null()], {
        description: 'Write-only; encrypted at rest. null removes it (the environment key applies again).',
      }),
    ),
    baseUrl: Type.Optional(
      Type.Union([Type.String({ format: 'uri', pattern: '^https?://', maxLength: 2048 }), Type.Null()], {
        description: 'A proxy or compatible server (Ollama, vLLM, Groq …). null: the public endpoint.',
      }),
    ),
  },
  { additionalProperties: false, minProperties: 1 },
);

/**
 * A team's base URL must not point Parley at internal services (the same rule as webhook URLs):
 * its host is resolved now and every address vetted. Operators point providers at private
 * hosts through the environment (`OPENAI_COMPATIBLE_BASE_URL=http://127.0.0.1:11434/v1`) or
 * `PARLEY_ALLOW_PRIVATE_WEBHOOKS=1`. A name that later resolves elsewhere is not re-checked
 * per request (noted in the README).
 */
export async function vetBaseUrl(raw: string, allowPrivate: boolean, field = 'baseUrl'): Promise<void> {
  const check = validateWebhookUrl(raw, { allowPrivate });
  if (!check.ok) throw new ApiError(400, 'invalid_request', `${field} ${check.message}`, field);
  if (check.literalIp) return;
  let addresses: { address: string }[];
  try {
    addresses = await dns.lookup(check.hostname, { all: true });
  } catch {
    throw new ApiError(400, 'invalid_request', `${field} host ${check.hostname} does not resolve`, field);
  }
  for (const { address } of addresses) {
    const verdict = checkAddress(address, { allowPrivate });
    if (!verdict.allowed) throw new ApiError(400, 'invalid_request', `${field} ${verdict.reason}`, field);
  }
}

export async function providerCredentialRoutes(
  root: FastifyInstance,
  opts: { store: ProviderCredentialStore; allowPrivate: boolean },
): Promise<void> {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const { store } = opts;
  const errors = { 400: ErrorResponseSchema, 401: ErrorResponseSchema, 404: ErrorResponseSchema };
  app.get(
    '/provider-credentials',
    {
      schema: {
        tags: ['team'],
        summary:
          "The team's cloud provider keys (hints only) and the providers the server's environment configures",
        response: {
          200: Type.Object({
            data: Type.Array(CredentialSchema),
            environment: Type.Array(Type.String(), {
              description: 'Providers with a key or base URL from the server environment',
            }),
          }),
          ...errors,
        },
      },
    },
    async (request) => ({
      data: await store.list(request.team.id),
      environment: store.environmentProviders(),
    }),
  );
  app.put(
    '/provider-credentials/:provider',
    {
      schema: {
        tags: ['team'],
        summary: "Set the team's key and/or base URL for a provider (fields left out are kept)",
        params: ProviderParam,
        body: CredentialPutSchema,
        response: { 200: CredentialSchema, ...errors },
      },
    },
    async (request) => {
      if (request.body.baseUrl) await vetBaseUrl(request.body.baseUrl, opts.allowPrivate);
      return store.put(request.team.id, request.params.provider, request.body);
    },
  );
  app.delete(
    '/provider-credentials/:provider',
    {
      schema: {
        tags: ['team'],
        summary: "Remove the team's key and base URL for a provider",
        params: ProviderParam,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      if (!(await store.remove(request.team.id, request.params.provider)))
        throw new ApiError(404, 'not_found', `no credential for ${request.params.provider}`);
      return reply.code(204).send(null);
    },
  );
}
