/**
 * `@parley/receiver/node`: handlers for node:http, Express and Fastify (they need Node's types).
 */
export { expressHandler } from './express.js';
export { type FastifyWebhookOptions, parleyWebhooks } from './fastify.js';
export { BodyTooLargeError, type NodeHandlerOptions, nodeHandler, readRawBody, writeAnswer } from './node.js';
