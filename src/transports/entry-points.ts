/**
 * The ways calls reach Parley, one line each: `server.ts` registers every entry point listed
 * here at the root of the server and passes it the ports (`ports.ts`). A new medium is one
 * folder under `transports/` and one line here.
 */
import { phoneEntryPoint } from './phone/phone-routes.js';
import type { EntryPoint } from './ports.js';
import { sipEntryPoint } from './sip/sip-entry-point.js';
import { webEntryPoint } from './web/web-entry-point.js';

export const entryPoints: readonly EntryPoint[] = [webEntryPoint, phoneEntryPoint, sipEntryPoint];
