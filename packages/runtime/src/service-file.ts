import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { isProcessAlive } from './data-dir-lock.js';
import type { EmbeddedAddress } from './embedded-server.js';

/** The file, inside the data folder, through which a running service tells the CLI where to reach it. */
export const SERVICE_FILE = 'service.json';

const ZServiceInfo = z.object({
  pid: z.number().int().positive(),
  socket: z.string().min(1).optional(),
  host: z.string().min(1).optional(),
  port: z.number().int().min(1).max(65535).optional(),
  /** The in-process Stripe sandbox's URL, when the service runs one. */
  stripeSandboxUrl: z.string().url().optional(),
  startedAt: z.string(),
});

/** What `<dataDir>/service.json` holds: the serving process and its socket (or loopback host and port). */
export type ServiceInfo = z.infer<typeof ZServiceInfo>;

/** Writes service.json atomically (temp file + rename), so a reader never sees half of it. */
export function writeServiceFile(
  dataDir: string,
  address: EmbeddedAddress,
  startedAt: Date,
  extra: { readonly stripeSandboxUrl?: string | undefined } = {},
): ServiceInfo {
  const info: ServiceInfo = {
    pid: process.pid,
    ...address,
    ...(extra.stripeSandboxUrl === undefined ? {} : { stripeSandboxUrl: extra.stripeSandboxUrl }),
    startedAt: startedAt.toISOString(),
  };
  const file = path.join(dataDir, SERVICE_FILE);
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
  fs.renameSync(temp, file);
  return info;
}

/** Removes service.json if it is this process's own. */
export function removeServiceFile(dataDir: string): void {
  const file = path.join(dataDir, SERVICE_FILE);
  if (readServiceFile(dataDir)?.pid === process.pid) {
    fs.rmSync(file, { force: true });
  }
}

/**
 * The running service's info, or undefined when there is none: no file, an unreadable one (a crash
 * mid-write of an older version), or one naming a dead process.
 */
export function readLiveService(dataDir: string): ServiceInfo | undefined {
  const info = readServiceFile(dataDir);
  return info !== undefined && isProcessAlive(info.pid) ? info : undefined;
}

function readServiceFile(dataDir: string): ServiceInfo | undefined {
  let text: string;
  try {
    text = fs.readFileSync(path.join(dataDir, SERVICE_FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return undefined;
    }
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = ZServiceInfo.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}
