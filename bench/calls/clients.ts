/**
 * The callers of the call benchmark, in their own process: one WebSocket per call, PCM16 frames
 * at real-time pace (one 20 ms frame per call per tick of a shared timer), marks acked as the
 * audio "plays". Each caller speaks 1.2 s, then is silent for 4.8 s, in a loop.
 *
 * stdin: one JSON line per batch of join URLs ({"urls": [...]}) or {"stop": true}.
 * stdout: {"connected": n} after each batch.
 */
import { createInterface } from 'node:readline';
import WebSocket from 'ws';

const SAMPLE_RATE = 16000;
const FRAME = (SAMPLE_RATE * 20) / 1000;
const speech = Buffer.alloc(FRAME * 2);
for (let i = 0; i < FRAME; i++)
  speech.writeInt16LE(Math.round(6000 * Math.sin((2 * Math.PI * 220 * i) / SAMPLE_RATE)), i * 2);
const silence = Buffer.alloc(FRAME * 2);
const CYCLE_FRAMES = 300; // 6 s
const SPEECH_FRAMES = 60; // 1.2 s

interface Caller {
  ws: WebSocket;
  offset: number;
  open: boolean;
}
const callers: Caller[] = [];
let tick = 0;

const start = performance.now();
function loop() {
  tick++;
  for (const c of callers) {
    if (!c.open) continue;
    const phase = (tick + c.offset) % CYCLE_FRAMES;
    c.ws.send(phase < SPEECH_FRAMES ? speech : silence, { binary: true });
  }
  setTimeout(loop, Math.max(0, start + (tick + 1) * 20 - performance.now()));
}
loop();

function connect(url: string): Promise<void> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url);
    const caller: Caller = { ws, offset: Math.floor(Math.random() * CYCLE_FRAMES), open: false };
    ws.on('open', () => {
      ws.send(JSON.stringify({ type: 'hello', version: 1, sampleRate: SAMPLE_RATE, frameMs: 20 }));
      caller.open = true;
      callers.push(caller);
      resolve();
    });
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const text = String(data);
      if (text.startsWith('{"type":"mark"')) ws.send(text);
    });
    ws.on('close', () => {
      caller.open = false;
    });
    ws.on('error', () => resolve());
  });
}

const rl = createInterface({ input: process.stdin });
rl.on('line', async (line) => {
  const msg = JSON.parse(line) as { urls?: string[]; stop?: boolean };
  if (msg.stop) {
    for (const c of callers) c.ws.close(1000, 'bench done');
    setTimeout(() => process.exit(0), 200);
    return;
  }
  for (const url of msg.urls ?? []) {
    await connect(url);
    await new Promise((r) => setTimeout(r, 5)); // stagger
  }
  process.stdout.write(`${JSON.stringify({ connected: callers.filter((c) => c.open).length })}\n`);
});
