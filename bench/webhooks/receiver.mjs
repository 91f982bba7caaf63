// A minimal webhook receiver in its own process: answers 200 at once and records, per event, the
// receive time minus the event's timestamp (event-to-receipt latency). GET /stats returns and
// resets what it has collected. Prints its port on stdout.
import http from 'node:http';

let latencies = [];
let count = 0;
const server = http.createServer((req, res) => {
  if (req.method === 'GET') {
    const body = JSON.stringify({ count, latencies: req.url === '/stats?reset=1' ? latencies : [] });
    if (req.url === '/stats?reset=1') {
      latencies = [];
      count = 0;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(body);
    return;
  }
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const now = Date.now();
    const m = /"timestamp":(\d+)/.exec(Buffer.concat(chunks).toString('utf8'));
    if (m) latencies.push(now - Number(m[1]));
    count++;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{}');
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
