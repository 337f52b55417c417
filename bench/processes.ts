import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, readSync, fstatSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** A server under test, started as its own process on loopback. */
export interface ServerProcess {
  readonly name: string;
  readonly pid: number;
  readonly baseUrl: string;
  /** Milliseconds from spawn until it answered `readyPath` with 200 (polled every 20 ms). */
  readonly readyMs: number;
  /** The last few kilobytes of its stdout and stderr, for error reports. */
  output(): string;
  /** Resident set size in MiB from /proc, or undefined where there is no /proc. */
  rssMiB(): number | undefined;
  /** SIGINT, then SIGKILL if it has not exited within `graceMs`. Resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

export interface StartOptions {
  name: string;
  /** Arguments to `node` (this same executable). */
  args: string[];
  env: NodeJS.ProcessEnv;
  port: number;
  /** Polled until it answers 200. */
  readyPath: string;
  timeoutMs?: number;
  /**
   * Where its stdout goes. A server that logs every request writes to this file, as it would
   * to a log file or a collector in production, instead of into a pipe that this process (the
   * load generator) would have to read on the same cores. Default: a pipe.
   */
  logFile?: string;
}

const OUTPUT_TAIL = 8192;

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => {
        resolve(port);
      });
    });
  });
}

/** VmRSS of a process in MiB, from /proc/<pid>/status. */
export function readRssMiB(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
    return kib === undefined ? undefined : Number(kib) / 1024;
  } catch {
    return undefined;
  }
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => {
      resolve();
    });
  });
}

/**
 * Starts `node <args>` and waits until it is ready: it logged "Server listening at" or
 * `readyPath` answered 200 (at log level warn Fastify does not log the listening line, so the
 * poll is what usually decides). Fails with the process's output if it exits or times out.
 */
export async function startServer(options: StartOptions): Promise<ServerProcess> {
  const { name, args, env, port, readyPath, timeoutMs = 20_000, logFile } = options;
  const spawnedAt = performance.now();
  const logFd = logFile === undefined ? undefined : openSync(logFile, 'w');
  const child = spawn(process.execPath, args, {
    env,
    stdio: ['ignore', logFd ?? 'pipe', 'pipe'],
  });
  if (logFd !== undefined) closeSync(logFd);
  let tail = '';
  const seen = { listening: false };
  const keep = (chunk: Buffer): void => {
    const text = chunk.toString('utf8');
    if (text.includes('Server listening at')) seen.listening = true;
    tail = (tail + text).slice(-OUTPUT_TAIL);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const output = (): string =>
    logFile === undefined ? tail : `${readTail(logFile, OUTPUT_TAIL)}${tail}`;
  const spawnError = new Promise<Error>((resolve) => {
    child.once('error', resolve);
  });
  const pid = child.pid;
  if (pid === undefined) {
    const error = await spawnError;
    throw new Error(`${name}: could not start node: ${error.message}`);
  }
  const baseUrl = `http://127.0.0.1:${port}`;

  const stop = async (graceMs = 10_000): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGINT');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited(child);
    clearTimeout(timer);
  };

  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `${name} exited (${child.exitCode ?? child.signalCode ?? '?'}) before it was ready:\n${output()}`,
      );
    }
    if (seen.listening || (await answers(`${baseUrl}${readyPath}`))) break;
    if (Date.now() > deadline) {
      await stop(2000);
      throw new Error(`${name} was not ready within ${timeoutMs} ms:\n${output()}`);
    }
    await sleep(20);
  }
  const readyMs = performance.now() - spawnedAt;

  return {
    name,
    pid,
    baseUrl,
    readyMs,
    output,
    rssMiB: () => readRssMiB(pid),
    stop,
  };
}

/** The last `bytes` of a file as text, or nothing if it cannot be read. */
function readTail(path: string, bytes: number): string {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const size = fstatSync(fd).size;
    const length = Math.min(size, bytes);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    return buffer.toString('utf8');
  } catch {
    return '';
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
    await response.arrayBuffer();
    return response.status === 200;
  } catch {
    return false;
  }
}

/** CPU seconds a process has used so far: its main thread (the event loop) and all others. */
export interface ThreadCpu {
  mainSeconds: number;
  otherSeconds: number;
}

/** Clock ticks per second of /proc's utime and stime (USER_HZ, 100 on Linux). */
const CLOCK_TICKS = 100;

/**
 * Per-thread CPU time from /proc/<pid>/task/<tid>/stat. The main thread's tid is the pid; the
 * others are libuv's pool (where cfsign signs), V8's helpers (GC, compilers) and so on.
 */
export function readThreadCpu(pid: number): ThreadCpu | undefined {
  try {
    let mainSeconds = 0;
    let otherSeconds = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      let stat: string;
      try {
        stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      } catch {
        continue; // the thread ended meanwhile
      }
      // Fields after the command name, which is in parentheses and may contain spaces.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const seconds = (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
      if (tid === String(pid)) mainSeconds += seconds;
      else otherSeconds += seconds;
    }
    return { mainSeconds, otherSeconds };
  } catch {
    return undefined;
  }
}

/** What a server consumed while one run went on. */
export interface Observation<T> {
  result: T;
  wallSeconds: number;
  peakRssMiB: number | undefined;
  /** CPU seconds of the server's main thread and its other threads during the run. */
  serverCpu: ThreadCpu | undefined;
  /** CPU seconds of this process (the load generator) during the run. */
  generatorCpuSeconds: number;
}

/** Runs `work`, sampling the server's RSS every `intervalMs` and measuring who used the CPU. */
export async function observe<T>(
  server: ServerProcess,
  work: () => Promise<T>,
  intervalMs = 200,
): Promise<Observation<T>> {
  let peak: number | undefined;
  const sample = (): void => {
    const rss = server.rssMiB();
    if (rss !== undefined) peak = Math.max(peak ?? 0, rss);
  };
  sample();
  const cpuBefore = readThreadCpu(server.pid);
  const generatorBefore = process.cpuUsage();
  const startedAt = performance.now();
  const timer = setInterval(sample, intervalMs);
  try {
    const result = await work();
    const wallSeconds = (performance.now() - startedAt) / 1000;
    const generator = process.cpuUsage(generatorBefore);
    const cpuAfter = readThreadCpu(server.pid);
    sample();
    return {
      result,
      wallSeconds,
      peakRssMiB: peak,
      serverCpu:
        cpuBefore === undefined || cpuAfter === undefined
          ? undefined
          : {
              mainSeconds: cpuAfter.mainSeconds - cpuBefore.mainSeconds,
              otherSeconds: cpuAfter.otherSeconds - cpuBefore.otherSeconds,
            },
      generatorCpuSeconds: (generator.user + generator.system) / 1e6,
    };
  } finally {
    clearInterval(timer);
  }
}
