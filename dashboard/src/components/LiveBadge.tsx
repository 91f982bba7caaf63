export function LiveBadge({ connected }: { connected: boolean }) {
  return (
    <span
      className={`live-badge ${connected ? 'on' : 'off'}`}
      data-testid="live-badge"
      data-connected={String(connected)}
    >
      <span className="dot" aria-hidden="true" />
      {connected ? 'Live' : 'Polling every 5 s'}
    </span>
  );
}
