#!/usr/bin/env node
/*
 * The sandbox under load, in its own process so that the load generator (the real stripe SDK, which
 * costs more CPU per request than the sandbox does) never shares its event loop. Talks to
 * create-confirm.cjs over the IPC channel: `ready` with the URL once listening, `cpu` on request with
 * this process's CPU time, so the parent can divide it by the requests each phase completed.
 */
'use strict';

const path = require('node:path');

const { startSandbox } = require(path.join(__dirname, '..', 'dist', 'index.js'));

async function main() {
  const sandbox = await startSandbox({ port: 0, host: '127.0.0.1' });
  process.on('message', (message) => {
    if (message.type === 'cpu') {
      const { user, system } = process.cpuUsage();
      process.send({ type: 'cpu', id: message.id, cpuMicros: user + system, rss: process.memoryUsage().rss });
    } else if (message.type === 'stop') {
      Promise.resolve(sandbox.stop()).finally(() => process.exit(0));
    }
  });
  // The parent going away (Ctrl-C, a crash) must not leave a sandbox listening.
  process.on('disconnect', () => process.exit(0));
  process.send({ type: 'ready', url: sandbox.url });
}

main().catch((err) => {
  process.stderr.write(`[bench] the sandbox did not start: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
