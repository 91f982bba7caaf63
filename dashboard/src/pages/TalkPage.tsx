import { type FormEvent, useEffect, useRef, useState } from 'react';
import { Link } from 'wouter';
import type { CallMode, PlaybackState, TranscriptLine, WebCall } from '../../../browser-sdk/src/index.js';
import { Card, EmptyState, ErrorBanner, PageHeader } from '../components/ui.js';
import { errorMessage, formatMs } from '../lib/format.js';
import { useClient } from '../lib/session.js';
import { useAsync } from '../lib/use-async.js';

declare global {
  interface Window {
    /** The active web call, for tests and debugging. */
    __parleyCall?: WebCall;
  }
}

const IDLE_PLAYBACK: PlaybackState = { playing: false, clears: 0, playedMs: 0, queuedMs: 0 };

function Transcript({ lines }: { lines: TranscriptLine[] }) {
  const end = useRef<HTMLDivElement>(null);
  useEffect(() => {
    end.current?.scrollIntoView({ block: 'end', behavior: 'smooth' });
  });
  return (
    <div className="transcript" data-testid="transcript">
      {lines.length === 0 ? <div className="muted center">The conversation appears here.</div> : null}
      {lines.map((line) => (
        <div
          key={line.id}
          className={`bubble bubble-${line.role}${line.final ? '' : ' bubble-partial'}${line.interrupted ? ' bubble-interrupted' : ''}`}
          data-testid="transcript-line"
          data-role={line.role}
          data-final={line.final ? 'true' : 'false'}
          data-interrupted={line.interrupted ? 'true' : 'false'}
          data-message-id={line.id}
        >
          <div className="bubble-text">{line.text}</div>
          {line.interrupted ? <div className="bubble-note">interrupted</div> : null}
          {!line.final ? (
            <div className="bubble-note">{line.role === 'user' ? 'listening…' : 'speaking…'}</div>
          ) : null}
        </div>
      ))}
      <div ref={end} />
    </div>
  );
}

function PlaybackIndicator({ state }: { state: PlaybackState }) {
  return (
    <div
      className={`playback${state.playing ? ' playing' : ''}`}
      data-testid="playback-state"
      data-playing={state.playing ? 'true' : 'false'}
      data-clears={String(state.clears)}
      data-played-ms={String(state.playedMs)}
    >
      <div className="eq" aria-hidden="true">
        <span />
        <span />
        <span />
        <span />
      </div>
      <div>
        <div className="playback-title">{state.playing ? 'Assistant speaking' : 'Silent'}</div>
        <div className="muted small">
          played {formatMs(state.playedMs)} · queued {formatMs(state.queuedMs)} · {state.clears} interruption
          {state.clears === 1 ? '' : 's'}
        </div>
      </div>
    </div>
  );
}

export function TalkPage({ assistantId }: { assistantId: string }) {
  const client = useClient();
  const assistant = useAsync((signal) => client.getAssistant(assistantId, signal), [client, assistantId]);
  const [call, setCall] = useState<WebCall | null>(null);
  const [starting, setStarting] = useState<CallMode | null>(null);
  const [status, setStatus] = useState('idle');
  const [lines, setLines] = useState<TranscriptLine[]>([]);
  const [playback, setPlayback] = useState<PlaybackState>(IDLE_PLAYBACK);
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState('');
  const [text, setText] = useState('');

  useEffect(() => {
    if (!call) return;
    window.__parleyCall = call;
    const offs = [
      call.on('lines', setLines),
      call.on('status', (m) => setStatus(m.status)),
      call.on('playback', setPlayback),
      call.on('error', (e) => setNotice(`${e.code}: ${e.message}`)),
      call.on('ended', (e) => {
        setStatus(call.status);
        if (e.code !== 1000 && e.reason) setNotice(`Connection closed (${e.code}): ${e.reason}`);
      }),
    ];
    // played/queued move continuously while audio plays.
    const timer = setInterval(() => setPlayback(call.playback), 200);
    return () => {
      for (const off of offs) off();
      clearInterval(timer);
    };
  }, [call]);

  // A call keeps running while the user looks at other pages; coming back picks it up again.
  useEffect(() => {
    const active = window.__parleyCall;
    if (active && !active.ended && active.created.assistantId === assistantId) {
      setCall(active);
      setStatus(active.status);
      setLines(active.lines);
      setPlayback(active.playback);
    }
  }, [assistantId]);

  const start = async (mode: CallMode) => {
    setStarting(mode);
    setError(null);
    setNotice('');
    setLines([]);
    setPlayback(IDLE_PLAYBACK);
    if (window.__parleyCall && !window.__parleyCall.ended) await window.__parleyCall.end();
    try {
      const next = await client.startCall({ assistantId, mode, metadata: { source: 'dashboard' } });
      setStatus(next.status);
      setCall(next);
    } catch (e) {
      setError(e);
      setStatus('idle');
    } finally {
      setStarting(null);
    }
  };

  const send = (e: FormEvent) => {
    e.preventDefault();
    if (!call || !text.trim()) return;
    call.sendText(text);
    setText('');
  };

  const live = call !== null && !call.ended;
  const name = assistant.data?.name ?? 'Assistant';

  return (
    <div className="page">
      <PageHeader
        title={`Talk to ${name}`}
        subtitle={
          assistant.data
            ? `${assistant.data.assistantProvider} · ${assistant.data.assistantModel} · ${assistant.data.config?.speech?.stt?.provider ?? ''} / ${assistant.data.config?.speech?.tts?.provider ?? ''}`
            : undefined
        }
        actions={
          <Link href={`/assistants/${assistantId}`} className="btn btn-ghost">
            Edit assistant
          </Link>
        }
      />
      <ErrorBanner error={assistant.error} />
      {error ? <div className="banner banner-error">{errorMessage(error)}</div> : null}
      <div className="talk-layout">
        <Card
          title="Conversation"
          actions={
            <div className="row gap">
              <span className="muted small">Status</span>
              <span
                data-testid="call-status"
                className={`pill pill-${status === 'ongoing' ? 'live' : status === 'finished' ? 'ok' : 'neutral'}`}
              >
                {status}
              </span>
            </div>
          }
        >
          {call ? (
            <Transcript lines={lines} />
          ) : (
            <EmptyState title="Start a conversation" icon="☎">
              <p>A voice call uses your microphone; a text chat types instead of speaking.</p>
            </EmptyState>
          )}
          {call ? (
            <form className="chat" onSubmit={send}>
              <input
                placeholder={live ? 'Type a message…' : 'The call has ended'}
                value={text}
                onChange={(e) => setText(e.target.value)}
                disabled={!live}
                data-testid="chat-input"
              />
              <button
                type="submit"
                className="btn btn-primary"
                disabled={!live || !text.trim()}
                data-testid="chat-send"
              >
                Send
              </button>
            </form>
          ) : null}
        </Card>
        <div className="talk-side">
          <Card title="Call">
            <div className="stack">
              {live ? (
                <button
                  type="button"
                  className="btn btn-danger btn-block"
                  onClick={() => void call.end()}
                  data-testid="end-call-button"
                >
                  End call
                </button>
              ) : (
                <>
                  <button
                    type="button"
                    className="btn btn-primary btn-block"
                    disabled={starting !== null}
                    onClick={() => void start('voice')}
                    data-testid="start-voice-call"
                  >
                    {starting === 'voice' ? 'Connecting…' : '🎙 Start voice call'}
                  </button>
                  <button
                    type="button"
                    className="btn btn-secondary btn-block"
                    disabled={starting !== null}
                    onClick={() => void start('text')}
                    data-testid="start-text-chat"
                  >
                    {starting === 'text' ? 'Connecting…' : '💬 Start text chat'}
                  </button>
                </>
              )}
              {call ? (
                <>
                  <div className="kv">
                    <span className="muted">Call</span>
                    <Link href={`/calls/${call.id}`} className="mono link" data-testid="call-detail-link">
                      {call.id.slice(0, 15)}…
                    </Link>
                  </div>
                  <div className="kv">
                    <span className="muted">Mode</span>
                    <span>{call.mode}</span>
                  </div>
                </>
              ) : null}
              {notice ? <div className="banner banner-warn small">{notice}</div> : null}
            </div>
          </Card>
          <Card title="Playback">
            <PlaybackIndicator state={playback} />
            {call?.mode === 'text' ? <p className="muted small">Text chat: replies are not spoken.</p> : null}
          </Card>
        </div>
      </div>
    </div>
  );
}
