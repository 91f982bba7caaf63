import { createEspeakTts } from '../../src/tts/espeak/index.js';
import { describeTtsConformance } from './tts-conformance.js';

/** eSpeak NG writes clause by clause, so a few sentences come out in several chunks. */
const STREAMING_TEXT =
  'Thank you for calling the clinic. We are open from nine until five. ' +
  'I can book, move or cancel an appointment for you. Which day suits you best?';

describeTtsConformance('espeak-ng', async () => ({
  provider: await createEspeakTts(),
  sampleRates: [8000, 16000],
  streamingText: STREAMING_TEXT,
}));
