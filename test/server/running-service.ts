import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { startCommandArgs } from '../../bench/start-command.ts';

/** What `npm start` runs. */
export const SERVICE_ENTRY = new URL('../../dist/server/main.cjs', import.meta.url).pathname;

/** `node`'s arguments in `npm start`, V8 flags included, with the entry point made absolute. */
const START_ARGS = startCommandArgs(new URL('../..', import.meta.url).pathname);

/** The built service in a child process, started as `npm start` starts it. */
export interface RunningService {
  child: ChildProcess;
  /** `http://127.0.0.1:PORT` */
  address: string;
  /** Everything written to stdout and stderr so far. */
  output: () => string;
  /** The JSON log lines written so far, parsed (banners and other text are left out). */
  logs: () => Record<string, unknown>[];
  /** The exit code (null when ended by a signal). */
  exited: Promise<number | null>;
}

/**
 * Starts `dist/server/main.cjs` on a free port with only `env` (and PATH), and waits until it
 * listens and its output matches `readyWhen`. Kill it (SIGKILL is fine) when the test ends.
 */
export async function startService(
  env: Record<string, string | undefined>,
  cwd: string = process.cwd(),
  readyWhen = /Server listening at/,
): Promise<RunningService> {
  const child = spawn(process.execPath, START_ARGS, {
    cwd,
    env: { PATH: process.env['PATH'], PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  let output = '';
  // stdout parsed as it arrives, line by line (a chunk may end inside a line).
  let partialLine = '';
  const logs: Record<string, unknown>[] = [];
  child.stdout.on('data', (chunk: string) => {
    output += chunk;
    const lines = (partialLine + chunk).split('\n');
    partialLine = lines.pop() ?? '';
    for (const line of lines) {
      if (line.startsWith('{')) logs.push(JSON.parse(line) as Record<string, unknown>);
    }
  });
  child.stderr.on('data', (chunk: string) => {
    output += chunk;
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      resolve(code);
    }),
  );
  const address = await new Promise<string>((resolve, reject) => {
    const check = (): void => {
      const match = /Server listening at (http:\/\/[\d.]+:\d+)/.exec(output);
      if (match?.[1] === undefined || !readyWhen.test(output)) return;
      child.stdout.off('data', check);
      child.stderr.off('data', check);
      resolve(match[1]);
    };
    child.stdout.on('data', check);
    child.stderr.on('data', check);
    void exited.then((code) => {
      reject(new Error(`exited with ${String(code)}:\n${output}`));
    });
    setTimeout(() => {
      reject(new Error(`did not listen within 10 s:\n${output}`));
    }, 10_000).unref();
  });
  return { child, address, output: () => output, logs: () => logs, exited };
}

/**
 * Waits until a log line of `service` satisfies `matches` and returns it; fails after
 * `timeoutMs`, quoting the output.
 */
export async function waitForLog(
  service: RunningService,
  matches: (line: Record<string, unknown>) => boolean,
  timeoutMs = 5_000,
): Promise<Record<string, unknown>> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const line = service.logs().find(matches);
    if (line !== undefined) return line;
    if (performance.now() > deadline) {
      throw new Error(`no matching log line within ${timeoutMs} ms:\n${service.output()}`);
    }
    await sleep(20);
  }
}

/** A counter or gauge from the service's /metrics, or undefined when it is not shown. */
export async function readMetric(address: string, name: string): Promise<number | undefined> {
  const text = await (await fetch(`${address}/metrics`)).text();
  const value = new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1];
  return value === undefined ? undefined : Number(value);
}
