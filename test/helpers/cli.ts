import { run } from '../../src/cli/run.ts';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in-process with captured output, a fixed clock and a given environment. */
export async function runCli(
  argv: readonly string[],
  options: { now?: Date; env?: Record<string, string> } = {},
): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await run(argv, {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    env: options.env ?? {},
    now: () => options.now ?? new Date('2026-06-01T12:00:00Z'),
  });
  return { code, stdout, stderr };
}
