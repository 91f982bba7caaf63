import { createFliteTts } from '../../src/tts/flite/index.js';
import { describeTtsConformance } from './tts-conformance.js';

/** Long enough (over Flite's 250-character pieces) to come out in several chunks. */
const STREAMING_TEXT =
  'Thank you for calling the clinic. We are open from nine in the morning until five in the afternoon, ' +
  'Monday to Friday. I can book, move or cancel an appointment for you. ' +
  'Please tell me your name and the day that suits you best, and I will check what is available.';

describeTtsConformance('flite', async () => ({
  provider: await createFliteTts(),
  sampleRates: [8000, 16000],
  streamingText: STREAMING_TEXT,
}));
