// The webhook receiver of the platform benchmark, in its own process (run.ts forks it): answers
// 200 at once and records, per event, its id, type and event-to-receipt latency (receipt time
// minus the event's `timestamp`, the time Parley recorded it). IPC: sends {ready, port} once
// listening; answers {cmd:'reset'} (starts a measurement window), {cmd:'stats'} (the window's
// latencies and counts, and totals) and {cmd:'ids'} (every distinct event id received).
import http from 'node:http';

const seen = new Map(); // event id → times received
const typeCounts = {};
let windowLatencies = [];
let windowCount = 0;
let windowStart = performance.now();
let total = 0;
let unparsed = 0;

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const now = Date.now();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{}');
    total++;
    let message;
    try {
      message = JSON.parse(Buffer.concat(chunks).toString('utf8')).message;
    } catch {}
    if (!message || typeof message.id !== 'string' || typeof message.timestamp !== 'number') {
      unparsed++;
      return;
    }
    seen.set(message.id, (seen.get(message.id) ?? 0) + 1);
    typeCounts[message.type] = (typeCounts[message.type] ?? 0) + 1;
    windowLatencies.push(now - message.timestamp);
    windowCount++;
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.send({ ready: true, port: server.address().port }));

process.on('message', (msg) => {
  const reply = (body) => process.send({ id: msg.id, ...body });
  if (msg.cmd === 'reset') {
    windowLatencies = [];
    windowCount = 0;
    windowStart = performance.now();
    reply({ ok: true });
  } else if (msg.cmd === 'stats') {
    let duplicates = 0;
    for (const n of seen.values()) duplicates += n - 1;
    reply({
      windowMs: performance.now() - windowStart,
      windowCount,
      latencies: windowLatencies,
      total,
      distinct: seen.size,
      duplicates,
      unparsed,
      types: typeCounts,
    });
  } else if (msg.cmd === 'ids') {
    reply({ ids: [...seen.keys()] });
  }
});
process.on('disconnect', () => process.exit(0));
