/**
 * A minimal browser client for web calls (served at `GET /call`): enter an API key, pick an
 * assistant (a fresh install has the demo), and talk. Microphone audio goes out as 20 ms PCM16
 * frames at 16 kHz; the assistant's audio is played in order, each mark acked when the audio
 * before it has played, and `clear` stops playback at once.
 */
export const clientPageHtml = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Parley — web call</title>
<style>
  body { font: 15px/1.45 system-ui, sans-serif; max-width: 44rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
  input, select, button { font: inherit; padding: .35rem .5rem; }
  input { width: 22rem; }
  #log { border: 1px solid #ddd; border-radius: 6px; padding: .75rem; min-height: 12rem; margin-top: 1rem; }
  .user { color: #064; } .assistant { color: #124; } .meta { color: #888; font-size: 13px; }
  .interrupted::after { content: " (interrupted)"; color: #a40; font-size: 12px; }
</style>
</head>
<body>
<h1>Parley web call</h1>
<p><label>API key <input id="key" type="password" placeholder="pk_…"></label>
<button id="load">Load assistants</button></p>
<p><label>Assistant <select id="assistant"></select></label>
<button id="call" disabled>Call</button> <button id="hangup" disabled>Hang up</button></p>
<p><input id="text" placeholder="…or type instead of speaking" disabled> <button id="send" disabled>Send</button></p>
<div id="status" class="meta">Not connected.</div>
<div id="log"></div>
<script>
const $ = (id) => document.getElementById(id);
const RATE = 16000, FRAME = 320;
let ws, ctx, micStream, worklet, nextTime = 0, sources = [], markTimers = [];
$('key').value = localStorage.getItem('parleyKey') || '';
function line(cls, text, id) {
  let el = id && document.querySelector('[data-id="' + id + '"]');
  if (!el) { el = document.createElement('div'); el.className = cls; if (id) el.dataset.id = id; $('log').append(el); }
  el.textContent = (cls.startsWith('user') ? 'You: ' : cls.startsWith('assistant') ? 'Assistant: ' : '') + text;
  el.className = cls; el.scrollIntoView({ block: 'end' });
}
async function api(method, path, body) {
  const res = await fetch(path, { method, headers: { authorization: 'Bearer ' + $('key').value.trim(),
    ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
  const json = await res.json();
  if (!res.ok) throw new Error(json.error ? json.error.message : res.statusText);
  return json;
}
$('load').onclick = async () => {
  try {
    localStorage.setItem('parleyKey', $('key').value.trim());
    const { data } = await api('GET', '/v1/assistants?limit=100');
    $('assistant').innerHTML = data.map((a) => '<option value="' + a._id + '">' + a.name.replace(/</g, '&lt;') + '</option>').join('');
    $('call').disabled = data.length === 0;
    $('status').textContent = data.length ? 'Pick an assistant and call.' : 'No assistant yet: create one with POST /v1/assistants.';
  } catch (e) { $('status').textContent = 'Error: ' + e.message; }
};
function stopPlayback() {
  for (const s of sources) { try { s.stop(); } catch {} }
  sources = []; nextTime = 0;
  for (const t of markTimers) clearTimeout(t);
  markTimers = [];
}
function play(buf) {
  const pcm = new Int16Array(buf), f = new Float32Array(pcm.length);
  for (let i = 0; i < pcm.length; i++) f[i] = pcm[i] / 32768;
  const ab = ctx.createBuffer(1, f.length, RATE); ab.copyToChannel(f, 0);
  const src = ctx.createBufferSource(); src.buffer = ab; src.connect(ctx.destination);
  nextTime = Math.max(nextTime, ctx.currentTime + 0.06); src.start(nextTime); nextTime += ab.duration;
  sources.push(src); src.onended = () => { sources = sources.filter((s) => s !== src); };
}
const processor = 'class P extends AudioWorkletProcessor { constructor() { super(); this.b = new Int16Array(' + FRAME + '); this.n = 0; }' +
  ' process(inputs) { const ch = inputs[0][0]; if (!ch) return true; for (let i = 0; i < ch.length; i++) {' +
  ' const v = Math.max(-1, Math.min(1, ch[i])); this.b[this.n++] = v < 0 ? v * 32768 : v * 32767;' +
  ' if (this.n === ' + FRAME + ') { this.port.postMessage(this.b.buffer, [this.b.buffer]); this.b = new Int16Array(' + FRAME + '); this.n = 0; } }' +
  ' return true; } } registerProcessor("parley-mic", P);';
$('call').onclick = async () => {
  try {
    $('log').textContent = '';
    const call = await api('POST', '/v1/calls', { assistantId: $('assistant').value, customer: { name: 'browser' } });
    ctx = new AudioContext({ sampleRate: RATE });
    micStream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true, channelCount: 1 } });
    await ctx.audioWorklet.addModule(URL.createObjectURL(new Blob([processor], { type: 'application/javascript' })));
    worklet = new AudioWorkletNode(ctx, 'parley-mic');
    ctx.createMediaStreamSource(micStream).connect(worklet);
    const mute = ctx.createGain(); mute.gain.value = 0; worklet.connect(mute).connect(ctx.destination);
    ws = new WebSocket(call.join.url); ws.binaryType = 'arraybuffer';
    ws.onopen = () => { ws.send(JSON.stringify({ type: 'hello', version: 1, sampleRate: RATE, frameMs: 20 }));
      worklet.port.onmessage = (e) => { if (ws.readyState === 1) ws.send(e.data); }; };
    ws.onmessage = (e) => {
      if (typeof e.data !== 'string') { play(e.data); return; }
      const m = JSON.parse(e.data);
      if (m.type === 'mark') { const at = Math.max(0, (nextTime - ctx.currentTime) * 1000);
        markTimers.push(setTimeout(() => ws.readyState === 1 && ws.send(JSON.stringify({ type: 'mark', id: m.id })), at)); }
      else if (m.type === 'clear') stopPlayback();
      else if (m.type === 'status') $('status').textContent = m.status + ' — ' + m.reason;
      else if (m.type === 'transcript') line(m.final ? 'user' : 'user meta', m.text, m.final ? m.messageId : 'partial');
      else if (m.type === 'assistant-text') line('assistant' + (m.interrupted ? ' interrupted' : ''), m.text, m.messageId);
      else if (m.type === 'error') line('meta', 'error: ' + m.message);
    };
    ws.onclose = (e) => { $('status').textContent += ' (closed ' + e.code + (e.reason ? ': ' + e.reason : '') + ')'; hang(); };
    $('call').disabled = true; $('hangup').disabled = false; $('text').disabled = false; $('send').disabled = false;
  } catch (e) { $('status').textContent = 'Error: ' + e.message; hang(); }
};
function hang() {
  if (ws && ws.readyState === 1) ws.send(JSON.stringify({ type: 'end' }));
  if (micStream) micStream.getTracks().forEach((t) => t.stop());
  stopPlayback();
  $('call').disabled = false; $('hangup').disabled = true; $('text').disabled = true; $('send').disabled = true;
}
$('hangup').onclick = hang;
$('send').onclick = () => { const t = $('text').value.trim(); if (t && ws && ws.readyState === 1) { ws.send(JSON.stringify({ type: 'user-text', text: t })); $('text').value = ''; } };
$('text').onkeydown = (e) => { if (e.key === 'Enter') $('send').onclick(); };
</script>
</body>
</html>
`;
