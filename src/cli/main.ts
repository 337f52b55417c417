#!/usr/bin/env node
import { run } from './run.ts';

// The only place the CLI touches the real process.
process.exitCode = await run(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  now: () => new Date(),
});
