/**
 * Binds a transport to a call: the client mapper subscribes to the call's events, and the
 * transport's handlers drive the call. `hello` connects it (model, TTS and speech queue set up,
 * welcome spoken); text, `say`, keypad digits and marks go to their parts; the end of the
 * media ends the call with the right reason (a carrier's stop after a transfer is no hang-up).
 */
import { meteredTts } from '../cost/usage.js';
import { ProviderError } from '../shared/provider-error.js';
import type { Transport, TransportClose, TransportHello } from '../transports/transport.js';
import type { CallControl } from './call-control.js';
import { clientEvents } from './call-events.js';
import { transition } from './call-lifecycle.js';
import type { CallReplies } from './call-replies.js';
import type { CallActions, CallState, HangUp } from './call-state.js';
import type { CallerInput } from './caller-input.js';
import type { DtmfInput } from './dtmf-input.js';
import type { Pacer } from './pacer.js';
import type { EngineProviders } from './providers.js';
import { SpeechOutput } from './speech-output.js';
import type { TtsCache } from './tts-cache.js';

export interface TransportBindingDeps {
  state: CallState;
  providers: EngineProviders;
  pacer: Pacer;
  ttsCache?: TtsCache;
  input: CallerInput;
  replies: CallReplies;
  control: CallControl;
  dtmf: DtmfInput;
  actions: CallActions;
  reportError(error: ProviderError): void;
  /** Say this as soon as the call connects, then hang up (an assistant-request that failed). */
  endOnConnect?: HangUp;
}

export function bindTransport(d: TransportBindingDeps, transport: Transport): void {
  const s = d.state;
  const { assistant } = s;
  let welcomed = false;
  s.transport = transport;
  clientEvents(s.events, transport);

  const speakWelcome = () => {
    if (!s.speech || welcomed) return;
    welcomed = true;
    s.speech.say('welcome-1', assistant.welcomeMessage, {
      interruptible: assistant.welcomeMessageInterruptionsEnabled,
      meta: { system: true },
    });
  };

  const onHello = (hello: TransportHello) => {
    if (s.hello || s.phase !== 'waiting') return;
    s.hello = hello;
    s.connectedAt = s.clock.now();
    s.call = transition(s.call, { type: 'connect' }, s.connectedAt);
    s.advance('live');
    s.events.emit({ type: 'status-changed', call: s.call });
    try {
      // A call that only says goodbye (failed assistant-request) needs no model.
      if (!d.endOnConnect) s.llm = d.providers.llm(assistant, d.reportError);
    } catch (error) {
      d.reportError(ProviderError.from(error, 'llm_error', assistant.assistantProvider));
    }
    const ttsConfig = s.speechConfig.tts;
    let tts: ReturnType<EngineProviders['tts']> | undefined;
    if (hello.audioOutput) {
      try {
        tts = meteredTts(d.providers.tts(assistant, d.reportError), s.meter, ttsConfig.provider);
      } catch (error) {
        d.reportError(ProviderError.from(error, 'tts_error', ttsConfig.provider));
      }
    }
    s.speech = new SpeechOutput({
      clock: s.clock,
      pacer: d.pacer,
      transport,
      tts,
      ttsOptions: {
        sampleRate: hello.sampleRate,
        ...(ttsConfig.voice ? { voice: ttsConfig.voice } : {}),
        ...(ttsConfig.speed ? { speed: ttsConfig.speed } : {}),
      },
      marks: hello.marks,
      playoutGraceMs: s.timing.playoutGraceMs,
      ...(d.ttsCache ? { cache: d.ttsCache } : {}),
      onStart: (u) => d.replies.onUtteranceStart(u),
      onEnd: (u) => d.replies.onUtteranceEnd(u),
      onError: d.reportError,
    });
    s.timers.set('max', assistant.maxDurationSeconds * 1000, () => {
      void d.actions.hangUp({
        trigger: 'system',
        reason: 'Max call duration reached',
        endedReason: 'exceeded-max-duration',
      });
    });
    if (d.endOnConnect) void d.actions.hangUp(d.endOnConnect);
    else if (assistant.welcomeMessageMode === 'automatic' && assistant.welcomeMessage) speakWelcome();
    else d.actions.armIdle();
  };

  const onSay = (text: string | undefined) => {
    const speech = s.speech;
    if (!speech || !s.live) return;
    if (!text && !welcomed) {
      speakWelcome();
      return;
    }
    if (text === undefined) {
      if (assistant.welcomeMessage) {
        speech.say(s.conversation.assistantMessageId(s.clock.now()), assistant.welcomeMessage, {
          interruptible: assistant.bargeInEnabled,
          meta: { system: true },
        });
      }
      return;
    }
    // Words the client puts in the assistant's mouth: only where the assistant allows it,
    // marked as client-supplied and kept out of the model's history.
    if (assistant.clientSayEnabled !== true) {
      s.events.emit({
        type: 'input-refused',
        code: 'say_not_allowed',
        message: 'say with text is off for this assistant (clientSayEnabled); the text was not spoken',
      });
      return;
    }
    if (d.actions.overLimit(text.length, false)) return;
    speech.say(s.conversation.assistantMessageId(s.clock.now()), text, {
      interruptible: assistant.bargeInEnabled,
      meta: { system: true, clientSupplied: true },
    });
  };

  const onClose = (info: TransportClose) => {
    // Ending already (or over): the end sequence owns the rest.
    if (s.phase === 'ending' || s.phase === 'ended') return;
    const connected = s.call.status !== 'queued';
    if (info.cause === 'transferred') {
      void d.control.transferred(s.transferringTo ?? info.reason);
    } else if (info.cause === 'hello-timeout') {
      void d.actions.hangUp({ trigger: 'system', reason: 'Client sent no hello', notConnected: 'no-answer' });
    } else if (info.cause === 'pong-timeout') {
      void d.actions.hangUp({
        trigger: 'system',
        reason: 'Client stopped answering pings',
        notConnected: 'no-answer',
        ...(connected ? { endedReason: 'client-connection-lost' } : {}),
      });
    } else if (info.protocolError) {
      void d.actions.hangUp({
        trigger: 'system',
        reason: `Client protocol error: ${info.reason}`,
        error: true,
        notConnected: 'failed',
        ...(connected ? { endedReason: 'client-protocol-error' } : {}),
      });
    } else if (!connected) {
      void d.actions.hangUp({
        trigger: 'user',
        reason: 'Client left before the call started',
        notConnected: 'canceled',
      });
    } else {
      void d.actions.hangUp({ trigger: 'user', reason: 'Customer hung up' });
    }
  };

  transport.start({
    onHello,
    onAudio: (frame) => d.input.onAudio(frame),
    onUserText: (text) => {
      if (!s.hello || !s.live) return;
      const body = text.trim();
      if (body) d.actions.commitUser(body);
    },
    onDtmf: (digits) => d.dtmf.push(digits),
    onMark: (id) => s.speech?.onMark(id),
    onSay,
    onEnd: () => void d.actions.hangUp({ trigger: 'user', reason: 'Customer ended the call' }),
    onClose,
  });
}
