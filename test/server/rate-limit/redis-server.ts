import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** Whether `redis-server` is on the PATH (CI installs it; see .ci/run). */
export function redisServerInstalled(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** A TCP port that nothing listens on at the moment, on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => {
    server.close(() => {
      resolve();
    });
  });
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** True when something on the port answers a PING with a RESP reply (+PONG or -NOAUTH). */
async function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    const done = (answer: boolean): void => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(200, () => {
      done(false);
    });
    socket.once('error', () => {
      done(false);
    });
    socket.once('connect', () => {
      socket.write('PING\r\n');
    });
    socket.once('data', (data) => {
      done(/^[+-]/.test(data.toString('latin1')));
    });
  });
}

/**
 * A private `redis-server` child on 127.0.0.1, without persistence, in a temporary directory
 * (so no dump file lands in the repository). Stop it (or kill it) at the end of the test.
 */
export class RedisServer {
  readonly port: number;
  readonly password: string | undefined;
  private child: ChildProcess | undefined;
  private output = '';
  private readonly directory = mkdtempSync(join(tmpdir(), 'cfsign-redis-'));

  private constructor(port: number, password: string | undefined) {
    this.port = port;
    this.password = password;
  }

  /** Starts a server on a free port (or `port`), waiting until it answers PING. */
  static async start(options: { port?: number; password?: string } = {}): Promise<RedisServer> {
    const server = new RedisServer(options.port ?? (await freePort()), options.password);
    await server.restart();
    return server;
  }

  /** `redis://[:password@]127.0.0.1:port/0` */
  get url(): string {
    const auth = this.password === undefined ? '' : `:${encodeURIComponent(this.password)}@`;
    return `redis://${auth}127.0.0.1:${this.port}/0`;
  }

  /** Starts the server again on the same port (after `kill`), waiting until it answers PING. */
  async restart(): Promise<void> {
    if (this.child !== undefined) throw new Error('redis-server is already running');
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', ''];
    args.push('--appendonly', 'no', '--dir', this.directory, '--logfile', '');
    if (this.password !== undefined) args.push('--requirepass', this.password);
    const child = spawn('redis-server', args, {
      cwd: this.directory,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const collect = (data: Buffer): void => {
      this.output += data.toString();
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    let spawnError: Error | undefined;
    child.once('error', (error) => (spawnError = error));
    const deadline = performance.now() + 5_000;
    while (!(await answersPing(this.port))) {
      if (spawnError !== undefined) throw spawnError;
      if (child.exitCode !== null || performance.now() > deadline) {
        throw new Error(`redis-server did not start on ${this.port}:\n${this.output}`);
      }
      await sleep(20);
    }
  }

  /** Kills the server at once (SIGKILL), as a crash would, and waits for it to be gone. */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  /** Freezes the server (SIGSTOP): connections stay open, nothing answers. */
  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  /** Thaws a paused server (SIGCONT). */
  resume(): void {
    this.child?.kill('SIGCONT');
  }

  /** Kills the server and removes its directory. */
  async stop(): Promise<void> {
    this.resume();
    await this.kill();
    rmSync(this.directory, { recursive: true, force: true });
  }
}
