#!/usr/bin/env node
// One closed-loop load run with autocannon (installed by run.sh into $BENCH_TOOLS).
// usage: load.js <baseUrl> <GET|POST> <path> <connections> <seconds> [bodyTemplate.json]
// POST bodies are unique per request: instanceId is a counter, so nothing can be served twice.
'use strict';
const fs = require('fs');
const autocannon = require(require.resolve('autocannon', { paths: [process.env.BENCH_TOOLS || process.cwd()] }));
const [base, method, path, connections, seconds, templateFile] = process.argv.slice(2);
const template = templateFile ? JSON.parse(fs.readFileSync(templateFile, 'utf8')) : null;
let n = 0;
const request = { method, path, headers: { 'content-type': 'application/json' } };
if (template) {
  request.setupRequest = (req) => {
    n++;
    req.body = JSON.stringify({ ...template, instanceId: n.toString(16).padStart(40, '0') });
    return req;
  };
}
autocannon(
  { url: base, connections: Number(connections), duration: Number(seconds), requests: [request] },
  (err, r) => {
    if (err) throw err;
    console.log(JSON.stringify({
      rps: r.requests.average, total: r.requests.total, p50: r.latency.p50, p99: r.latency.p99,
      non2xx: r.non2xx, errors: r.errors, timeouts: r.timeouts,
    }));
  },
);
