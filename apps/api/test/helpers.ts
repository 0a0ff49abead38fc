import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { silentLogger, type Logger } from '@pay/core';
import { createLogger, createPay, loadConfig, type Pay } from '@pay/runtime';

/** A fresh temporary folder, removed by the returned function. */
export function makeTempDir(prefix = 'pay-api-'): { dir: string; remove: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** pay on an embedded PGlite folder, as `main` would start it. */
export function openEmbeddedPay(dataDir: string, logger: Logger = silentLogger): Promise<Pay> {
  return createPay(loadConfig({ PAY_DATA_DIR: dataDir }), { logger });
}

/** pay on a PostgreSQL database. */
export function openPostgresPay(url: string, env: NodeJS.ProcessEnv = {}): Promise<Pay> {
  return createPay(loadConfig({ DATABASE_URL: url, ...env }), { logger: silentLogger });
}

/** A real JSON logger writing into memory: `text()` is everything written, `lines()` the parsed lines. */
export function captureLogs(): {
  logger: Logger;
  text: () => Promise<string>;
  lines: () => Promise<Record<string, unknown>[]>;
} {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString('utf8')));
  const text = async (): Promise<string> => {
    // The access log is written on the response's 'finish': give it and winston's pipeline a turn.
    await new Promise((resolve) => setTimeout(resolve, 20));
    return chunks.join('');
  };
  const lines = async (): Promise<Record<string, unknown>[]> =>
    (await text())
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger: createLogger({ level: 'debug', stream }), text, lines };
}
