import fs from 'node:fs';
import path from 'node:path';
import { InvalidStateError } from '@pay/core';

/** The lock file's name inside the data folder. */
export const LOCK_FILE = 'service.lock';

/** An exclusive hold on an embedded data folder; PGlite allows one process per folder. */
export interface DataDirLock {
  readonly path: string;
  /** Removes the lock file, unless another process has taken it over since. Idempotent. */
  release(): void;
}

/** True while a process with this pid exists (EPERM: it exists but belongs to another user). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readPid(file: string): number | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return undefined;
    }
    throw error;
  }
  const pid = Number.parseInt(text.trim(), 10);
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

function fileAgeMs(file: string): number | undefined {
  try {
    return Date.now() - fs.statSync(file).mtimeMs;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return undefined;
    }
    throw error;
  }
}

function tryCreate(lockPath: string): boolean {
  let fd: number;
  try {
    // 'wx' is O_CREAT|O_EXCL: of two processes racing here, exactly one creates the file.
    fd = fs.openSync(lockPath, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      return false;
    }
    throw error;
  }
  try {
    fs.writeSync(fd, `${process.pid}\n`);
  } finally {
    fs.closeSync(fd);
  }
  return true;
}

/**
 * Moves a dead process's lock aside. Two processes may find the same stale lock: the rename is atomic,
 * so one wins; if the file it moved is no longer the stale one (a third process locked in between),
 * it is put back.
 */
function removeStaleLock(lockPath: string, stalePid: number | undefined): void {
  const grave = `${lockPath}.${process.pid}.stale`;
  try {
    fs.renameSync(lockPath, grave);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return;
    }
    throw error;
  }
  const moved = readPid(grave);
  if (moved !== stalePid && moved !== undefined && isProcessAlive(moved)) {
    try {
      fs.linkSync(grave, lockPath);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw error;
      }
    }
  }
  fs.rmSync(grave, { force: true });
}

/**
 * Takes `<dataDir>/service.lock` (the pid inside) or throws an {@link InvalidStateError} naming the
 * live process that holds it. A lock left by a dead process is taken over.
 */
export function acquireDataDirLock(dataDir: string): DataDirLock {
  const lockPath = path.join(dataDir, LOCK_FILE);
  for (let attempt = 0; attempt < 5; attempt++) {
    if (tryCreate(lockPath)) {
      return {
        path: lockPath,
        release: () => {
          if (readPid(lockPath) === process.pid) {
            fs.rmSync(lockPath, { force: true });
          }
        },
      };
    }
    const holder = readPid(lockPath);
    if (holder !== undefined && isProcessAlive(holder)) {
      throw new InvalidStateError(
        `another pay process uses ${dataDir} (pid ${holder}); stop it first, or delete ${lockPath} ` +
          'if no pay process is running',
        { context: { dataDir, pid: holder } },
      );
    }
    // An empty lock file younger than a second is one another process is still writing its pid into.
    const age = fileAgeMs(lockPath);
    if (holder === undefined && age !== undefined && age < 1000) {
      sleepSync(50);
      continue;
    }
    removeStaleLock(lockPath, holder);
  }
  throw new InvalidStateError(`could not lock ${dataDir}: ${lockPath} keeps changing`, {
    context: { dataDir },
  });
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
