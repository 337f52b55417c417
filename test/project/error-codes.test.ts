import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { EXIT_CODE_FOR_ERROR } from '../../src/cli/exit-codes.ts';
import { HTTP_STATUS_FOR_ERROR } from '../../src/server/http-status.ts';
import { CLOUDFRONT_ERROR_FOR_FAILURE } from '../../src/core/verify.ts';
import { ERROR_CODES } from '../../src/errors.ts';

const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');

function documentedRows(heading: string): Map<string, string[]> {
  const section = doc.split(`## ${heading}`)[1]?.split('\n## ')[0] ?? '';
  const rows = new Map<string, string[]>();
  for (const line of section.split('\n')) {
    const cells = /^\|\s*`([A-Z0-9_]+)`\s*\|(.*)\|$/.exec(line);
    if (cells)
      rows.set(
        cells[1] ?? '',
        (cells[2] ?? '').split('|').map((cell) => cell.trim()),
      );
  }
  return rows;
}

describe('error codes', () => {
  it('are listed in docs/errors.md exactly, with the HTTP status and CLI exit code the tables give', () => {
    const rows = documentedRows('Error codes');
    assert.deepEqual([...rows.keys()].sort(), [...ERROR_CODES].sort());
    for (const code of ERROR_CODES) {
      assert.equal(rows.get(code)?.[0], String(HTTP_STATUS_FOR_ERROR[code]), code);
      assert.equal(rows.get(code)?.[1], String(EXIT_CODE_FOR_ERROR[code]), code);
    }
  });

  it('have one HTTP status each, 4xx or 5xx', () => {
    assert.deepEqual(Object.keys(HTTP_STATUS_FOR_ERROR).sort(), [...ERROR_CODES].sort());
    for (const status of Object.values(HTTP_STATUS_FOR_ERROR))
      assert.ok(status >= 400 && status < 600);
  });

  it('have one CLI exit code each and nothing more', () => {
    assert.deepEqual(Object.keys(EXIT_CODE_FOR_ERROR).sort(), [...ERROR_CODES].sort());
  });

  it('follow the ERR_<AREA>_<CONDITION> form', () => {
    for (const code of ERROR_CODES) assert.match(code, /^ERR_[A-Z]+(?:_[A-Z0-9]+)*$/);
  });

  it('and verification failures are documented with their CloudFront error', () => {
    const rows = documentedRows('Verification verdicts');
    assert.deepEqual([...rows.keys()].sort(), Object.keys(CLOUDFRONT_ERROR_FOR_FAILURE).sort());
    for (const [failure, cloudFrontError] of Object.entries(CLOUDFRONT_ERROR_FOR_FAILURE)) {
      assert.equal(rows.get(failure)?.[0], `\`${cloudFrontError}\``, failure);
    }
  });
});
