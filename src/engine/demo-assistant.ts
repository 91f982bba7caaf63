/**
 * The demo assistant a fresh `parley serve` creates for the default team (admin/first-run.ts):
 * an appointment booking dialog on the offline `scripted` provider, with one tool
 * (`bookAppointment`). Point `assistantServer.url` (or the tool's `server.url`) at your server
 * to receive the booking; without one, the dialog says the booking system is unreachable.
 */
import type { AssistantCreate } from '../contract/assistant-schema.js';
import type { Dialog } from '../llm/scripted/dialog.js';

const DAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'];
const TIMES = ['nine', 'ten', 'eleven', 'two', 'three', 'four'];
const YES = ['yes', 'yeah', 'yep', 'sure', 'please', 'correct', 'right', 'okay'];
const NO = ['no', 'nope', 'not'];

export const DEMO_ASSISTANT_NAME = 'Demo: appointment booking';

export const demoDialog: Dialog = {
  start: 'offer',
  nodes: {
    offer: {
      say: 'Would you like to book an appointment?',
      expect: [
        {
          keywords: [...YES, 'book', 'appointment'],
          phrases: ['yes', 'yes please', 'i would like to book an appointment', 'sure'],
          next: 'ask_day',
        },
        { keywords: NO, phrases: ['no', 'no thanks'], next: 'no_thanks' },
      ],
    },
    ask_day: {
      say: 'Which day suits you? We are open Monday to Friday.',
      expect: [
        {
          pattern: `\\b(?<day>${DAYS.join('|')})\\b`,
          phrases: DAYS.flatMap((d) => [d, `on ${d}`, `${d} please`]),
          next: 'ask_time',
        },
      ],
      noMatch: { say: 'Sorry, we are open Monday to Friday. Which day would you like?' },
    },
    ask_time: {
      say: 'What time on {{day}}? We have nine, ten, eleven, two, three or four o clock.',
      expect: [
        {
          pattern: `\\b(?<time>${TIMES.join('|')})\\b`,
          phrases: TIMES.flatMap((t) => [t, `at ${t}`, `${t} o clock`, `at ${t} o clock`]),
          next: 'confirm',
        },
      ],
      noMatch: { say: 'Sorry, we have nine, ten, eleven, two, three or four o clock. Which time?' },
    },
    confirm: {
      say: 'So that is {{day}} at {{time}} o clock. Shall I book it?',
      expect: [
        { keywords: YES, phrases: ['yes', 'yes please', 'correct'], next: 'book' },
        { keywords: NO, phrases: ['no', 'no thanks'], next: 'ask_day' },
      ],
    },
    book: {
      say: 'One moment please.',
      tool: {
        name: 'bookAppointment',
        arguments: { day: '{{day}}', time: '{{time}}' },
        resultVariable: 'booking',
        next: 'booked',
        onError: 'failed',
      },
    },
    booked: {
      say: 'You are booked for {{day}} at {{time}} o clock. Thank you for calling. Goodbye!',
      end: true,
    },
    failed: {
      say: 'Sorry, I could not reach the booking system. Please try again later. Goodbye!',
      end: true,
    },
    no_thanks: { say: 'No problem. Have a nice day. Goodbye!', end: true },
  },
};

export function demoAssistant(): AssistantCreate {
  return {
    name: DEMO_ASSISTANT_NAME,
    welcomeMessage: 'Hello, this is the Parley clinic. Would you like to book an appointment?',
    welcomeMessageMode: 'automatic',
    endCallMessage: 'Thank you for calling. Goodbye!',
    endCallPhrases: ['goodbye', 'bye bye'],
    assistantProvider: 'scripted',
    assistantModel: 'dialog',
    assistantSystemPrompt: 'Appointment booking dialog (scripted, offline).',
    idleTimeoutSeconds: 15,
    idleMessage: 'Are you still there?',
    maxDurationSeconds: 300,
    // Post-call analysis, offline on the scripted provider: the dialog's variables are the
    // structured data, the summary is the template, and success is the dialog's outcome.
    assistantAnalysis: {
      summary: {
        enabled: true,
        template:
          'The caller talked with the clinic for {{durationSeconds}} seconds about an appointment.{{details}} The call ended: {{endedReason}}.',
      },
      successEvaluation: { enabled: true, rubric: 'pass-fail', prompt: 'An appointment was booked.' },
      structuredData: {
        enabled: true,
        prompt: 'The day and time of the appointment the caller booked (none when nothing was booked).',
        schema: {
          type: 'object',
          properties: { day: { type: 'string', enum: DAYS }, time: { type: 'string', enum: TIMES } },
          additionalProperties: false,
        },
      },
    },
    tools: [
      {
        type: 'function',
        name: 'bookAppointment',
        description: 'Books an appointment on the given day and time.',
        parameters: {
          type: 'object',
          properties: { day: { type: 'string', enum: DAYS }, time: { type: 'string', enum: TIMES } },
          required: ['day', 'time'],
        },
      },
      { type: 'endCall' },
    ],
    dialog: demoDialog as unknown as Record<string, unknown>,
  };
}
