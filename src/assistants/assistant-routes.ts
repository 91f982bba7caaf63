import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import {
  type AssistantCreate,
  AssistantCreateSchema,
  type AssistantPatch,
  AssistantPatchSchema,
  AssistantSchema,
  type AssistantSpec,
} from '../contract/assistant-schema.js';
import type { Db } from '../db/database.js';
import { ApiError, ErrorResponseSchema, notFound } from '../shared/api-error.js';
import { decodeCursor, PageQuery, page } from '../shared/pagination.js';
import { webhookSecretProblem } from '../shared/webhook-signing.js';
import { applyPatch, withDefaults } from './assistant-defaults.js';
import {
  deleteAssistant,
  findAssistant,
  insertAssistant,
  listAssistants,
  specOf,
  toAssistant,
  updateAssistant,
} from './assistant-store.js';

/** A `whsec_` secret must be valid base64 after the prefix (Standard Webhooks reads it so). */
function checkSecrets(spec: AssistantSpec): AssistantSpec {
  const check = (secret: string | undefined, field: string) => {
    const problem = secret ? webhookSecretProblem(secret) : null;
    if (problem) throw new ApiError(400, 'invalid_request', `${field} ${problem}`, field);
  };
  check(spec.assistantServer.secret, 'assistantServer.secret');
  spec.tools.forEach((tool, i) => {
    if (tool.type === 'function') check(tool.server?.secret, `tools.${i}.server.secret`);
  });
  return spec;
}

const IdParams = Type.Object({ id: Type.String({ maxLength: 100 }) });
const errors = { 400: ErrorResponseSchema, 401: ErrorResponseSchema, 404: ErrorResponseSchema };
const tags = ['assistants'];

export async function assistantRoutes(app: FastifyInstance, opts: { db: Db }): Promise<void> {
  const { db } = opts;

  app.post<{ Body: AssistantCreate }>(
    '/assistants',
    {
      schema: {
        tags,
        summary: 'Create an assistant',
        description: '`{"name": "x"}` is enough: every other field has a working default.',
        body: AssistantCreateSchema,
        response: { 201: AssistantSchema, ...errors },
      },
    },
    async (request, reply) => {
      const row = await insertAssistant(db, request.team.id, checkSecrets(withDefaults(request.body)));
      return reply.status(201).send(toAssistant(row));
    },
  );

  app.get<{ Querystring: { limit?: number; cursor?: string } }>(
    '/assistants',
    {
      schema: {
        tags,
        summary: 'List assistants, newest first',
        querystring: Type.Object(PageQuery, { additionalProperties: false }),
        response: {
          200: Type.Object({
            data: Type.Array(AssistantSchema),
            nextCursor: Type.Union([Type.String(), Type.Null()]),
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 20;
      const rows = await listAssistants(db, request.team.id, limit + 1, decodeCursor(request.query.cursor));
      const { items, nextCursor } = page(rows, limit);
      return { data: items.map(toAssistant), nextCursor };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/assistants/:id',
    {
      schema: {
        tags,
        summary: 'Get an assistant',
        params: IdParams,
        response: { 200: AssistantSchema, ...errors },
      },
    },
    async (request) => {
      const row = await findAssistant(db, request.team.id, request.params.id);
      if (!row) throw notFound('assistant');
      return toAssistant(row);
    },
  );

  app.patch<{ Params: { id: string }; Body: AssistantPatch }>(
    '/assistants/:id',
    {
      schema: {
        tags,
        summary: 'Update an assistant',
        description:
          'JSON merge: objects merge field by field, arrays and scalars replace. Header values of "[redacted]" keep the stored value.',
        params: IdParams,
        body: AssistantPatchSchema,
        response: { 200: AssistantSchema, ...errors },
      },
    },
    async (request) => {
      const row = await findAssistant(db, request.team.id, request.params.id);
      if (!row) throw notFound('assistant');
      const updated = await updateAssistant(
        db,
        request.team.id,
        row.id,
        applyPatch(specOf(row), request.body),
      );
      if (!updated) throw notFound('assistant');
      return toAssistant(updated);
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/assistants/:id',
    {
      schema: {
        tags,
        summary: 'Delete an assistant',
        params: IdParams,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      if (!(await deleteAssistant(db, request.team.id, request.params.id))) throw notFound('assistant');
      return reply.status(204).send();
    },
  );
}
