import type { Dialog } from '../../src/llm/scripted/dialog.js';
import { ScriptedLlm } from '../../src/llm/scripted/scripted-llm.js';
import { describeLlmConformance } from './llm-conformance.js';

// The offline dialog brain: no backend to script or break, so the suite's weaker cases apply.
// Its dialog answers the suite's default prompts: a greeting with text, a weather question
// with a `get_weather` tool call.
const dialog: Dialog = {
  start: 'ask',
  nodes: {
    ask: {
      say: 'How can I help?',
      expect: [
        { keywords: ['hello', 'hi'], next: 'greet' },
        { pattern: 'weather in (?<city>[a-z]+)', next: 'lookup' },
      ],
    },
    greet: { say: 'Hello there! How can I help you today?', next: 'ask' },
    lookup: { tool: { name: 'get_weather', arguments: { city: '{{city}}' }, next: 'report' } },
    report: { say: 'Here is the weather.', next: 'ask' },
  },
};

describeLlmConformance('scripted (dialog graph)', async () => ({
  provider: new ScriptedLlm(dialog),
  model: 'scripted',
  supportsTools: true,
  close: async () => {},
}));
