import type { LoadResult } from './load.ts';
import type { RawSignResult } from './raw-sign.ts';

export type Scenario =
  'raw' | 'baseline' | 'floor' | 'unique' | 'batch' | 'hot' | 'empty' | 'healthz';

/** One line of the table, with everything measured behind it. */
export interface Row {
  /** e.g. `RSA-2048/SHA-1`; `-` for the ceilings, which sign nothing. */
  algorithm: string;
  scenario: Scenario;
  label: string;
  connections?: number;
  requestsPerSecond?: number;
  linksPerSecond?: number;
  p50Ms?: number;
  p99Ms?: number;
  peakRssMiB?: number;
  /** Failed requests: connection errors, timeouts, non-2xx, mismatches (warm-up included). */
  failures: number;
  /** links/s over the raw limit of the same algorithm. */
  vsRaw?: number;
  /** links/s over the baseline's links/s (same algorithm). */
  vsBaseline?: number;
  /** req/s over the empty Fastify route's req/s. */
  vsEmpty?: number;
  /** Unique-key req/s over the signing floor's (bench/floor-server.ts), same algorithm. */
  vsFloor?: number;
  target?: string;
  verdict?: 'PASS' | 'FAIL';
  misses: string[];
  /** Why a figure is missing (a baseline that cannot sign with this key, say). */
  note?: string;
  /** Where the CPU went during the measured run (from /proc; absent elsewhere). */
  cpu?: CpuShare;
  raw?: RawSignResult;
  /** The raw limit measured again after the servers (the table shows the mean). */
  rawAfter?: RawSignResult;
  load?: LoadResult;
  /** The empty route measured again at the end (the table shows the mean). */
  loadAfter?: LoadResult;
  warmup?: LoadResult;
}

/**
 * CPU during a measured run, in cores (CPU seconds per wall second). For the raw row, "main" is
 * the bench's event loop and "other" libuv's pool; for a server, its event loop and every other
 * thread (libuv's pool, where cfsign signs, and V8's helpers); the generator is autocannon, in
 * the bench process, competing for the same cores.
 */
export interface CpuShare {
  mainCores: number;
  otherCores: number;
  generatorCores: number;
  /** Main-thread CPU per request (per signature for the raw row), microseconds. */
  mainUsPerRequest: number;
  /** Other threads' CPU per link (per request where no link is made), microseconds. */
  otherUsPerLink: number;
}

/** The targets of issue 5, evaluated on rows of one run. Informational: never an exit code. */
export const TARGETS = {
  rsaUniqueVsRaw: 0.9,
  rsaUniqueVsBaseline: 5,
  rsaUniqueP99Ms: 25,
  batchVsRaw: 0.95,
  ecdsaUniqueVsEmpty: 0.5,
  hotVsRaw: 4,
  maxRssMiB: 150,
  maxReadyMs: 1000,
} as const;

function ratio(value: number | undefined, over: number | undefined): number | undefined {
  if (value === undefined || over === undefined || over === 0) return undefined;
  return value / over;
}

/** Fills in the ratios and verdicts of every row, in place. */
export function evaluate(rows: Row[]): void {
  const empty = rows.find((row) => row.scenario === 'empty');
  for (const row of rows) {
    const raw = rows.find((other) => other.algorithm === row.algorithm && other.scenario === 'raw');
    const baseline = rows.find(
      (other) => other.algorithm === row.algorithm && other.scenario === 'baseline',
    );
    const floor = rows.find(
      (other) => other.algorithm === row.algorithm && other.scenario === 'floor',
    );
    if (row.linksPerSecond !== undefined) {
      const vsRaw = ratio(row.linksPerSecond, raw?.linksPerSecond);
      const vsBaseline = ratio(row.linksPerSecond, baseline?.linksPerSecond);
      if (vsRaw !== undefined) row.vsRaw = vsRaw;
      if (vsBaseline !== undefined) row.vsBaseline = vsBaseline;
    }
    if (row.scenario === 'unique') {
      const vsFloor = ratio(row.requestsPerSecond, floor?.requestsPerSecond);
      if (vsFloor !== undefined) row.vsFloor = vsFloor;
    }
    const vsEmpty = ratio(row.requestsPerSecond, empty?.requestsPerSecond);
    if (vsEmpty !== undefined && row.scenario !== 'empty') row.vsEmpty = vsEmpty;

    const checks: { name: string; ok: boolean }[] = [];
    const rsa = row.algorithm.startsWith('RSA');
    const ecdsa = row.algorithm.startsWith('ECDSA');
    if (row.scenario === 'unique' && rsa) {
      row.target = `>=${TARGETS.rsaUniqueVsRaw} raw, >=${TARGETS.rsaUniqueVsBaseline}x base, p99<=${TARGETS.rsaUniqueP99Ms}ms`;
      checks.push(
        { name: 'x raw', ok: (row.vsRaw ?? 0) >= TARGETS.rsaUniqueVsRaw },
        { name: 'x base', ok: (row.vsBaseline ?? 0) >= TARGETS.rsaUniqueVsBaseline },
        { name: 'p99', ok: (row.p99Ms ?? Infinity) <= TARGETS.rsaUniqueP99Ms },
      );
    } else if (row.scenario === 'unique' && ecdsa) {
      row.target = `>=${TARGETS.ecdsaUniqueVsEmpty} empty`;
      checks.push({ name: 'x empty', ok: (row.vsEmpty ?? 0) >= TARGETS.ecdsaUniqueVsEmpty });
    } else if (row.scenario === 'batch') {
      row.target = `links >=${TARGETS.batchVsRaw} raw`;
      checks.push({ name: 'x raw', ok: (row.vsRaw ?? 0) >= TARGETS.batchVsRaw });
    } else if (row.scenario === 'hot' && rsa) {
      row.target = `>=${TARGETS.hotVsRaw}x raw`;
      checks.push({ name: 'x raw', ok: (row.vsRaw ?? 0) >= TARGETS.hotVsRaw });
    }
    if (['unique', 'batch', 'hot', 'healthz'].includes(row.scenario)) {
      checks.push({ name: 'RSS', ok: (row.peakRssMiB ?? 0) <= TARGETS.maxRssMiB });
    }
    if (row.scenario !== 'raw') checks.push({ name: 'errors', ok: row.failures === 0 });
    row.misses = checks.filter((check) => !check.ok).map((check) => check.name);
    if (row.target !== undefined || row.misses.length > 0) {
      row.target ??= 'no errors';
      row.verdict = row.misses.length === 0 ? 'PASS' : 'FAIL';
    }
  }
}

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

function fixed(value: number | undefined, digits: number, suffix = ''): string {
  return value === undefined ? '-' : `${value.toFixed(digits)}${suffix}`;
}

function count(value: number | undefined): string {
  return value === undefined ? '-' : integer.format(value);
}

const COLUMNS: { title: string; right: boolean; cell: (row: Row) => string }[] = [
  { title: 'algorithm', right: false, cell: (row) => row.algorithm },
  { title: 'scenario', right: false, cell: (row) => row.label },
  { title: 'conn', right: true, cell: (row) => count(row.connections) },
  {
    title: 'req/s',
    right: true,
    cell: (row) => (row.note !== undefined ? 'n/a' : count(row.requestsPerSecond)),
  },
  {
    title: 'links/s',
    right: true,
    cell: (row) => (row.note !== undefined ? 'n/a' : count(row.linksPerSecond)),
  },
  { title: 'x raw', right: true, cell: (row) => fixed(row.vsRaw, 2) },
  { title: 'x base', right: true, cell: (row) => fixed(row.vsBaseline, 2) },
  { title: 'x empty', right: true, cell: (row) => fixed(row.vsEmpty, 2) },
  { title: 'x floor', right: true, cell: (row) => fixed(row.vsFloor, 2) },
  { title: 'p50 ms', right: true, cell: (row) => fixed(row.p50Ms, 1) },
  { title: 'p99 ms', right: true, cell: (row) => fixed(row.p99Ms, 1) },
  { title: 'RSS MiB', right: true, cell: (row) => fixed(row.peakRssMiB, 0) },
  {
    title: 'err',
    right: true,
    cell: (row) => (row.scenario === 'raw' || row.note !== undefined ? '-' : count(row.failures)),
  },
  { title: 'target', right: false, cell: (row) => row.target ?? '' },
  {
    title: 'result',
    right: false,
    cell: (row) =>
      row.verdict === undefined
        ? ''
        : row.verdict === 'PASS'
          ? 'PASS'
          : `FAIL (${row.misses.join(', ')})`,
  },
];

/** The rows as a Markdown-compatible table with aligned columns. */
export function formatTable(rows: readonly Row[]): string {
  const cells = rows.map((row) => COLUMNS.map((column) => column.cell(row)));
  const widths = COLUMNS.map((column, index) =>
    Math.max(column.title.length, ...cells.map((line) => line[index]?.length ?? 0)),
  );
  const line = (values: readonly string[]): string =>
    `| ${values
      .map((value, index) => {
        const width = widths[index] ?? 0;
        return COLUMNS[index]?.right === true ? value.padStart(width) : value.padEnd(width);
      })
      .join(' | ')} |`;
  const rule = `|${widths
    .map((width, index) =>
      COLUMNS[index]?.right === true ? `${'-'.repeat(width + 1)}:` : `:${'-'.repeat(width + 1)}`,
    )
    .join('|')}|`;
  return [line(COLUMNS.map((column) => column.title)), rule, ...cells.map(line)].join('\n');
}

const CPU_COLUMNS: { title: string; cell: (row: Row) => string }[] = [
  { title: 'algorithm', cell: (row) => row.algorithm },
  { title: 'scenario', cell: (row) => row.label },
  { title: 'main cores', cell: (row) => fixed(row.cpu?.mainCores, 2) },
  { title: 'other cores', cell: (row) => fixed(row.cpu?.otherCores, 2) },
  { title: 'generator cores', cell: (row) => fixed(row.cpu?.generatorCores, 2) },
  { title: 'main us/req', cell: (row) => fixed(row.cpu?.mainUsPerRequest, 0) },
  { title: 'other us/link', cell: (row) => fixed(row.cpu?.otherUsPerLink, 0) },
];

/** Where the CPU went, one line per measured row, aligned like formatTable. */
export function formatCpuTable(rows: readonly Row[]): string {
  const measured = rows.filter((row) => row.cpu !== undefined);
  const cells = measured.map((row) => CPU_COLUMNS.map((column) => column.cell(row)));
  const widths = CPU_COLUMNS.map((column, index) =>
    Math.max(column.title.length, ...cells.map((line) => line[index]?.length ?? 0)),
  );
  const line = (values: readonly string[]): string =>
    `| ${values
      .map((value, index) =>
        index < 2 ? value.padEnd(widths[index] ?? 0) : value.padStart(widths[index] ?? 0),
      )
      .join(' | ')} |`;
  const rule = `|${widths
    .map((width, index) => (index < 2 ? `:${'-'.repeat(width + 1)}` : `${'-'.repeat(width + 1)}:`))
    .join('|')}|`;
  return [line(CPU_COLUMNS.map((column) => column.title)), rule, ...cells.map(line)].join('\n');
}
