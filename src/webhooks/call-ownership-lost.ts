/**
 * A call's state and events were not written because this process no longer runs the call:
 * another process took it over (its owner stalled past the recovery window) or it already ended
 * for good. Nothing was stored; the session that tried must stop without recording more.
 */
export class CallOwnershipLost extends Error {
  override readonly name = 'CallOwnershipLost';
  constructor(readonly callIds: readonly string[]) {
    super(`this process no longer runs call ${callIds.join(', ')}: another process took it over`);
  }
}

export const isOwnershipLost = (error: unknown): error is CallOwnershipLost =>
  error instanceof CallOwnershipLost;
