import fs from 'node:fs';
import path from 'node:path';
import { InvalidStateError, type AccountId } from '@pay/core';
import { LOCK_FILE, SEED_FILE, SERVICE_FILE, SOCKET_FILE, type ServiceInfo } from '../src/index.js';
import { exited, makeTempDir, openEmbedded, runChild, settlesWithin, startChild } from './helpers.js';

function readServiceInfo(dir: string): ServiceInfo {
  return JSON.parse(fs.readFileSync(path.join(dir, SERVICE_FILE), 'utf8')) as ServiceInfo;
}

describe('createPay, embedded (PGlite)', () => {
  const temp = makeTempDir();
  afterAll(() => temp.remove());

  it('creates the data folder, migrates, serves it, and cleans up on close', async () => {
    const dir = path.join(temp.dir, 'fresh', '.pay');
    const pay = await openEmbedded(dir);
    try {
      expect(pay).toMatchObject({ mode: 'embedded', role: 'api', access: 'served' });
      expect(pay.migrationsApplied).toBeGreaterThan(0);
      const state = await pay.db.migrationState();
      expect(state.applied).toBe(state.total);
      expect(fs.existsSync(path.join(dir, 'pgdata', 'PG_VERSION'))).toBe(true);
      expect(fs.readFileSync(path.join(dir, LOCK_FILE), 'utf8').trim()).toBe(String(process.pid));
      expect(readServiceInfo(dir)).toEqual({
        pid: process.pid,
        socket: path.join(dir, SOCKET_FILE),
        stripeSandboxUrl: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
        startedAt: expect.stringMatching(/^\d{4}-/),
      });
      expect(fs.statSync(path.join(dir, SOCKET_FILE)).isSocket()).toBe(true);
    } finally {
      await pay.close();
    }
    // Only the data and the demo seed's marker stay: no lock, no service.json, no socket.
    expect(fs.readdirSync(dir).sort()).toEqual(['pgdata', SEED_FILE]);
    await pay.close(); // idempotent
  });

  it('reopens the same data without applying a migration twice', async () => {
    const dir = path.join(temp.dir, 'reopen');
    const first = await openEmbedded(dir);
    let id: AccountId;
    try {
      expect(first.migrationsApplied).toBeGreaterThan(0);
      id = (await first.store.repos.accounts.create({ name: 'kept' })).id;
    } finally {
      await first.close();
    }
    const second = await openEmbedded(dir);
    try {
      expect(second.migrationsApplied).toBe(0);
      expect(await second.store.repos.accounts.findById(id)).toMatchObject({ id, name: 'kept' });
    } finally {
      await second.close();
    }
  });

  it('refuses a second API on the same data folder, in this process and in another', async () => {
    const dir = path.join(temp.dir, 'locked');
    const pay = await openEmbedded(dir);
    try {
      const refusal = openEmbedded(dir);
      await expect(refusal).rejects.toBeInstanceOf(InvalidStateError);
      await expect(refusal).rejects.toThrow(`another pay process uses ${dir} (pid ${process.pid})`);

      const other = await runChild(['api-open', dir]);
      expect(other.code).toBe(1);
      expect(other.stderr).toContain(`another pay process uses ${dir} (pid ${process.pid})`);
      // The refused attempts left the holder's files alone.
      expect(readServiceInfo(dir).pid).toBe(process.pid);
      expect(fs.readFileSync(path.join(dir, LOCK_FILE), 'utf8').trim()).toBe(String(process.pid));
    } finally {
      await pay.close();
    }
  });

  it('is refused by another process that holds the folder, and takes over once it is gone', async () => {
    const dir = path.join(temp.dir, 'held-elsewhere');
    const { child, nextLine } = startChild(['api-hold', dir]);
    try {
      expect(await nextLine()).toEqual({ ready: child.pid });
      await expect(openEmbedded(dir)).rejects.toThrow(`another pay process uses ${dir} (pid ${child.pid})`);
    } finally {
      child.kill('SIGKILL');
      await exited(child);
    }
    // SIGKILL left service.lock, service.json and the socket behind: all stale now.
    expect(fs.existsSync(path.join(dir, LOCK_FILE))).toBe(true);
    const pay = await openEmbedded(dir);
    try {
      expect(readServiceInfo(dir).pid).toBe(process.pid);
      await pay.db.ping();
    } finally {
      await pay.close();
    }
  });

  it('serves on loopback TCP when the socket path would be too long, and the CLI follows', async () => {
    const dir = path.join(
      temp.dir,
      'a-folder-name-long-enough-to-push-the-socket-path-past-one-hundred-bytes-'.repeat(2),
    );
    const api = await openEmbedded(dir);
    try {
      const info = readServiceInfo(dir);
      expect(info).toEqual({
        pid: process.pid,
        host: '127.0.0.1',
        port: expect.any(Number),
        stripeSandboxUrl: expect.any(String),
        startedAt: expect.any(String),
      });
      expect(fs.existsSync(path.join(dir, SOCKET_FILE))).toBe(false);
      const cli = await openEmbedded(dir, 'cli');
      let id: AccountId;
      try {
        expect(cli.access).toBe('service');
        id = (await cli.store.repos.accounts.create({ name: 'over tcp' })).id;
      } finally {
        await cli.close();
      }
      expect(await api.store.repos.accounts.findById(id)).toMatchObject({ name: 'over tcp' });
    } finally {
      await api.close();
    }
  });

  describe('the CLI role', () => {
    it('opens the folder directly when no service runs, under the same lock', async () => {
      const dir = path.join(temp.dir, 'direct');
      const cli = await openEmbedded(dir, 'cli');
      try {
        expect(cli).toMatchObject({ role: 'cli', mode: 'embedded', access: 'direct' });
        expect(cli.migrationsApplied).toBeGreaterThan(0);
        await expect(openEmbedded(dir)).rejects.toThrow(
          `another pay process uses ${dir} (pid ${process.pid})`,
        );
        expect(fs.existsSync(path.join(dir, SERVICE_FILE))).toBe(false);
      } finally {
        await cli.close();
      }
      expect(fs.existsSync(path.join(dir, LOCK_FILE))).toBe(false);
    });

    describe('while the API serves the folder', () => {
      const dir = path.join(temp.dir, 'served');
      let api: Awaited<ReturnType<typeof openEmbedded>>;
      beforeAll(async () => {
        api = await openEmbedded(dir);
      });
      afterAll(async () => {
        await api.close();
      });

      it('reads and writes the same data through the service, in this process', async () => {
        const fromApi = await api.store.repos.accounts.create({ name: 'made by the api' });
        const cli = await openEmbedded(dir, 'cli');
        let fromCli;
        let apiRead: Promise<unknown>;
        try {
          expect(cli.access).toBe('service');
          expect(await cli.store.repos.accounts.findById(fromApi.id)).toEqual(fromApi);
          fromCli = await cli.store.repos.accounts.create({ name: 'made by the cli' });
          // While the CLI is connected it has PGlite to itself: the API's query waits…
          apiRead = api.store.repos.accounts.findById(fromCli.id);
          expect(await settlesWithin(apiRead, 300)).toBe(false);
        } finally {
          await cli.close();
        }
        // …and completes once the CLI has disconnected.
        await expect(apiRead).resolves.toEqual(fromCli);
        await api.db.ping();
      });

      it('reads and writes the same data from another process', async () => {
        const result = await runChild(['cli-create', dir, 'made by another process']);
        expect(result).toMatchObject({ code: 0, stderr: '' });
        const { id, via } = JSON.parse(result.stdout) as { id: AccountId; via: string };
        expect(via).toBe('service');
        expect(await api.store.repos.accounts.findById(id)).toMatchObject({
          id,
          name: 'made by another process',
        });
      });

      it('rolls back what a client that died mid-transaction left open, then runs the API again', async () => {
        const { child, nextLine } = startChild(['cli-hang-in-tx', dir, 'never committed']);
        const line = (await nextLine()) as { inTx: boolean; id: AccountId };
        expect(line.inTx).toBe(true);
        const apiRead = api.store.repos.accounts.findById(line.id);
        expect(await settlesWithin(apiRead, 200)).toBe(false);
        child.kill('SIGKILL');
        await exited(child);
        await expect(apiRead).resolves.toBeNull();
        const after = await api.store.transaction((tx) => tx.accounts.create({ name: 'after the crash' }));
        expect(await api.store.repos.accounts.findById(after.id)).toEqual(after);
      });
    });
  });
});
