#!/usr/bin/env node
// Counting JSON-RPC proxy for the benchmark: forwards every request to the node given as argv[2]
// and counts JSON-RPC calls (batch elements count one each; eth_call by selector).
// GET /__stats returns {httpRequests, calls:{method: n}}. Prints {"url": ...} once listening.
'use strict';
const http = require('http');
const target = new URL(process.argv[2]);
const port = Number(process.argv[3] || 0);
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const calls = {};
let httpRequests = 0;

http
  .createServer((req, res) => {
    if (req.url.startsWith('/__stats')) {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ httpRequests, calls }));
      return;
    }
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      httpRequests++;
      try {
        const json = JSON.parse(body);
        for (const c of Array.isArray(json) ? json : [json]) {
          const key = c.method === 'eth_call' ? `eth_call:${String(c.params?.[0]?.data).slice(0, 10)}` : c.method;
          calls[key] = (calls[key] || 0) + 1;
        }
      } catch {
        calls['<unparsable>'] = (calls['<unparsable>'] || 0) + 1;
      }
      const up = http.request(
        { host: target.hostname, port: target.port, path: '/', method: 'POST', agent,
          headers: { 'content-type': 'application/json', 'content-length': body.length } },
        (r) => {
          const out = [];
          r.on('data', (c) => out.push(c));
          r.on('end', () => {
            res.writeHead(r.statusCode, { 'content-type': 'application/json' });
            res.end(Buffer.concat(out));
          });
        },
      );
      up.on('error', () => {
        res.writeHead(502);
        res.end();
      });
      up.end(body);
    });
  })
  .listen(port, '127.0.0.1', function () {
    console.log(JSON.stringify({ url: `http://127.0.0.1:${this.address().port}` }));
  });
