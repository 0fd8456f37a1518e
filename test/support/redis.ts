/** A real Redis for tests: a private redis-server on a free port, or the one at REDIS_URL. */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, it } from 'vitest';

/** A running Redis. `stop`, `restart` and `kill` exist for fault tests and need a spawned server. */
export interface RedisServer {
  url: string;
  /** Shuts the server down (SIGTERM) and waits until it is gone. */
  stop(): Promise<void>;
  /** Starts it again on the same port (stopping it first if it runs); the data is gone. */
  restart(): Promise<void>;
  /** Kills it without warning (SIGKILL), as a crash would. */
  kill(): Promise<void>;
}

const START_TIMEOUT_MS = 5000;

function onPath(binary: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    try {
      accessSync(path.join(dir, binary), constants.X_OK);
      return true;
    } catch {
      // Not in this directory.
    }
  }
  return false;
}

/** Whether Redis tests can run here: REDIS_URL is set or redis-server is on PATH. */
export function redisAvailable(): boolean {
  return Boolean(process.env.REDIS_URL) || onPath('redis-server');
}

/** A key prefix no other test file or run shares, for stores on a shared Redis. */
export function uniqueKeyPrefix(label: string): string {
  // Only characters that are neither hash-tag braces nor SCAN pattern syntax.
  return `test:${label.replace(/[^\w.-]/g, '_')}:${process.pid}:${randomBytes(4).toString('hex')}:`;
}

/** Deletes every key under `prefix`, so runs against a shared REDIS_URL leave nothing behind. */
export async function deleteKeys(url: string, prefix: string): Promise<void> {
  const client = createClient({ url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    for await (const batch of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) {
      if (batch.length > 0) await client.unlink(batch);
    }
  } finally {
    await client.close();
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.unref();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port'));
      });
    });
  });
}

/** One PING over a raw socket, so the harness does not depend on the client under test. */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    let reply = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Spawns redis-server on `port` and resolves once it answers; rejects with its output if it dies. */
async function spawnServer(port: number, dir: string, persist = false): Promise<ChildProcess> {
  const durability = persist ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...durability, '--dir', dir],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const keep = (chunk: Buffer): void => {
    // The tail is enough to say why it did not start.
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let spawnError: Error | undefined;
  child.on('error', (error) => {
    spawnError = error;
  });
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (spawnError) throw spawnError;
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`redis-server on port ${port} exited: ${output}`);
    }
    if (await answersPing(port)) return child;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  child.kill('SIGKILL');
  throw new Error(`redis-server on port ${port} did not answer within ${START_TIMEOUT_MS} ms: ${output}`);
}

/**
 * Starts a private redis-server on a free port and waits until it answers. Without `persist` it
 * keeps nothing (a restart starts empty); with it, an append-only file synced on every write
 * keeps the data across stop/restart, as a production Redis would (for fault tests).
 * With REDIS_URL set, returns that server instead; its stop/restart/kill then throw.
 */
export async function startRedis(opts: { persist?: boolean } = {}): Promise<RedisServer> {
  const persist = opts.persist ?? false;
  const external = process.env.REDIS_URL;
  if (external) {
    const unsupported = (): Promise<void> => Promise.reject(new Error('not supported with REDIS_URL'));
    return { url: external, stop: unsupported, restart: unsupported, kill: unsupported };
  }

  // Its own working directory, so nothing it might write lands in the checkout.
  const workDir = (): string => mkdtempSync(path.join(os.tmpdir(), 'redis-test-'));
  let dir = workDir();
  let child: ChildProcess | undefined;
  let port = 0;
  for (let attempt = 1; !child; attempt += 1) {
    port = await freePort();
    try {
      child = await spawnServer(port, dir, persist);
    } catch (error) {
      // Another process may have taken the port between the probe and the bind.
      if (attempt >= 3) throw error;
    }
  }
  // A crashed or interrupted test run must not leave servers behind.
  const cleanUp = (): void => {
    child?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', cleanUp);

  const halt = async (signal: NodeJS.Signals): Promise<void> => {
    const running = child;
    child = undefined;
    if (!running) return;
    running.kill(signal);
    await exited(running);
    if (!persist) rmSync(dir, { recursive: true, force: true });
  };

  return {
    url: `redis://127.0.0.1:${port}`,
    stop: () => halt('SIGTERM'),
    kill: () => halt('SIGKILL'),
    async restart() {
      await halt('SIGTERM');
      if (!persist) dir = workDir();
      child = await spawnServer(port, dir, persist);
    },
  };
}

/**
 * `describe` for suites that need Redis. `fn` gets the server (started before the suite's tests,
 * stopped after). Without Redis the suite is skipped with a note, except under CI (CI=true),
 * where a missing Redis is a failure rather than a silently smaller test run.
 */
export function describeRedis(name: string, fn: (server: () => RedisServer) => void): void {
  if (!redisAvailable()) {
    if (process.env.CI === 'true') {
      describe(name, () => {
        it('has a Redis to test against', () => {
          throw new Error('redis-server is required under CI: install it or set REDIS_URL');
        });
      });
      return;
    }
    console.warn(`${name}: skipped, no redis-server on PATH and REDIS_URL not set`);
    describe.skip(`${name} (skipped: no redis-server on PATH and REDIS_URL not set)`, () => {
      fn(() => {
        throw new Error('no Redis');
      });
    });
    return;
  }

  describe(name, () => {
    let server: RedisServer | undefined;
    beforeAll(async () => {
      server = await startRedis();
    });
    afterAll(async () => {
      if (server && !process.env.REDIS_URL) await server.stop();
    });
    fn(() => {
      if (!server) throw new Error('Redis has not started yet; use the server inside tests and hooks');
      return server;
    });
  });
}
