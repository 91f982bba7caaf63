import { randomBytes, randomUUID } from 'node:crypto';

/** 24 hex characters, like the seeds' `teamId` and assistant `_id` (MongoDB ObjectId shape). */
export function newObjectId(): string {
  const seconds = Math.floor(Date.now() / 1000)
    .toString(16)
    .padStart(8, '0');
  return seconds + randomBytes(8).toString('hex');
}

export const OBJECT_ID_PATTERN = '^[0-9a-f]{24}$';

export function newWebCallId(): string {
  return `WC-${randomUUID()}`;
}

export function newPhoneCallId(): string {
  return `PC-${randomUUID()}`;
}

/** randomUUID draws from a cached entropy pool: far cheaper per id than randomBytes(16). */
export function newEventId(): string {
  return `evt_${randomUUID().replaceAll('-', '')}`;
}
