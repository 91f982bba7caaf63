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

export const DEMO_ASSISTANT_NAME = 'Demo: appointment booking';

/**
 * Mixed initiative: "Tuesday at ten" at the opening question books on; corrections ("no,
 * Wednesday") at the confirmation; goodbye, help, repeat, start over and operator anywhere.
 */
export const demoDialog: Dialog = {
  start: 'offer',
  slots: {
    day: {
      type: 'choice',
      prompt: 'Which day suits you? We are open Monday to Friday.',
      reprompts: [
        'Sorry, which day would you like? Monday, Tuesday, Wednesday, Thursday or Friday?',
        'Please say just the day, for example Tuesday.',
      ],
      help: 'We are open Monday to Friday. Just say a day, for example Tuesday.',
      invalid: 'Sorry, we are open Monday to Friday. Which day would you like?',
      choices: Object.fromEntries(DAYS.map((d) => [d, []])),
      others: ['saturday', 'sunday', 'weekend', 'the weekend'],
      prefixes: ['on', 'this', 'next'],
    },
    time: {
      type: 'time',
      prompt: 'What time on {{day}}? We have nine, ten, eleven, two, three or four o clock.',
      reprompts: [
        'Sorry, what time would you like? Nine, ten or eleven in the morning, or two, three or four in the afternoon?',
        'Please say just the time, for example ten o clock.',
      ],
      help: 'We have appointments at nine, ten and eleven in the morning and two, three and four in the afternoon.',
      invalid: 'Sorry, we have nine, ten, eleven, two, three or four o clock. Which time?',
      times: { nine: '09:00', ten: '10:00', eleven: '11:00', two: '14:00', three: '15:00', four: '16:00' },
    },
  },
  intents: {
    goodbye: { say: 'Thank you for calling. Goodbye!' },
    operator: {
      say: 'Sorry, no one else can take your call right now. I can book an appointment for you. {{prompt}}',
    },
  },
  noMatch: {
    maxFailures: 3,
    say: 'Sorry, I am having trouble understanding. Please call again later. Goodbye!',
  },
  nodes: {
    offer: {
      say: 'Would you like to book an appointment?',
      help: 'I can book an appointment for you. Say yes to book one, or no.',
      expect: [
        { fills: ['day', 'time'], next: 'booking' },
        { intent: 'yes', next: 'booking' },
        {
          keywords: ['book', 'appointment', 'booking', 'schedule'],
          phrases: [
            'book an appointment',
            'make an appointment',
            'an appointment',
            'book one',
            'a booking',
            'yes i would like to book an appointment',
          ],
          next: 'booking',
        },
        { intent: 'no', next: 'no_thanks' },
      ],
    },
    booking: {
      collect: {
        slots: ['day', 'time'],
        confirm: 'So that is {{day}} at {{time}} o clock. Shall I book it?',
        change: 'Sorry about that. Which day and time would you like instead?',
        next: 'book',
      },
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
