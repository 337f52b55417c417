import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { MAX_HEADER_BYTES } from '../../src/server/build-server.ts';
import { AUTH, build } from '../helpers/server.ts';

function errorOf(body: string): { error: string; message: string; requestId: string } {
  const parsed = JSON.parse(body) as { error: string; message: string; requestId: string };
  assert.deepEqual(Object.keys(parsed), ['error', 'message', 'requestId']);
  return parsed;
}

describe('request bodies', () => {
  const json = { ...AUTH, 'content-type': 'application/json' };

  it('refuses invalid UTF-8 instead of signing a key with U+FFFD in it', async (t) => {
    const { app } = await build(t);
    const payload = Buffer.concat([
      Buffer.from('{"items":[{"key":"a'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('"}]}'),
    ]);
    const response = await app.inject({
      method: 'POST',
      url: '/v1/signed-urls',
      headers: json,
      payload,
    });
    assert.equal(response.statusCode, 400);
    const body = errorOf(response.body);
    assert.equal(body.error, 'ERR_REQUEST_INVALID');
    assert.match(body.message, /not valid UTF-8/);
  });

  it('refuses a charset other than UTF-8 with 415 and accepts an explicit UTF-8', async (t) => {
    const { app } = await build(t);
    const latin1 = await app.inject({
      method: 'POST',
      url: '/v1/signed-urls',
      headers: { ...AUTH, 'content-type': 'application/json; charset=iso-8859-1' },
      payload: Buffer.from('{"items":[{"key":"\xe9"}]}', 'latin1'),
    });
    assert.equal(latin1.statusCode, 415);
    assert.equal(errorOf(latin1.body).error, 'ERR_MEDIA_TYPE_UNSUPPORTED');
    const utf8 = await app.inject({
      method: 'POST',
      url: '/v1/signed-urls',
      headers: { ...AUTH, 'content-type': 'application/json; charset=UTF-8' },
      payload: '{"items":[{"key":"é"}]}',
    });
    assert.equal(utf8.statusCode, 200, utf8.body);
    assert.match(utf8.body, /\/%C3%A9\?Expires=/);
  });

  it('answers 404 for an unknown route without reading its body', async (t) => {
    const { app } = await build(t);
    for (const [method, url] of [
      ['POST', '/nope'],
      ['PUT', '/v1/signed-urls'],
      ['PATCH', '/v1/verify'],
    ] as const) {
      const response = await app.inject({ method, url, headers: json, payload: '{"a":1,"a":2}' });
      assert.equal(response.statusCode, 404, `${method} ${url}`);
      assert.equal(errorOf(response.body).error, 'ERR_NOT_FOUND');
    }
  });
});

describe('query strings', () => {
  it('refuses more than 32 parameters before reading them', async (t) => {
    const { app } = await build(t);
    const response = await app.inject({
      url: `/generate-signed-url?object_key=a${'&x=1'.repeat(40)}`,
      headers: AUTH,
    });
    assert.equal(response.statusCode, 400);
    assert.match(errorOf(response.body).message, /more than 32 parameters/);
  });

  it('answers invalid percent escapes in the path in the usual error shape, without echoing the URL', async (t) => {
    const { app } = await build(t);
    const response = await app.inject({ url: '/%ff%zz?object_key=secret-key', headers: AUTH });
    assert.equal(response.statusCode, 400);
    const body = errorOf(response.body);
    assert.equal(body.error, 'ERR_REQUEST_INVALID');
    assert.doesNotMatch(response.body, /secret-key/);
  });
});

describe('HTTP framing', () => {
  it('answers a request Node cannot parse with the usual error shape', async (t) => {
    const { app } = await build(t);
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    assert.ok(address !== null && typeof address === 'object');
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(address.port, '127.0.0.1', () => {
        socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n');
      });
      let text = '';
      socket.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      socket.on('end', () => {
        resolve(text);
      });
      socket.on('error', reject);
    });
    assert.match(reply, /^HTTP\/1\.1 400 Bad Request\r\n/);
    const body = errorOf(reply.slice(reply.indexOf('\r\n\r\n') + 4));
    assert.equal(body.error, 'ERR_REQUEST_INVALID');
  });

  it('answers 431 in the usual error shape when the headers exceed 16 KiB', async (t) => {
    const { app } = await build(t);
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    assert.ok(address !== null && typeof address === 'object');
    const send = (headerBytes: number) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(address.port, '127.0.0.1', () => {
          socket.write(
            `GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Pad: ${'a'.repeat(headerBytes)}\r\n\r\n`,
          );
        });
        let text = '';
        socket.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
        socket.on('end', () => {
          resolve(text);
        });
        socket.on('error', reject);
      });
    assert.match(await send(MAX_HEADER_BYTES - 1024), /^HTTP\/1\.1 200 OK\r\n/);
    const reply = await send(MAX_HEADER_BYTES);
    assert.match(reply, /^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
    const body = errorOf(reply.slice(reply.indexOf('\r\n\r\n') + 4));
    assert.equal(body.error, 'ERR_REQUEST_INVALID');
  });
});

describe('timeouts', () => {
  it('bounds how long a connection may idle and a request may take to arrive', async (t) => {
    const { app } = await build(t);
    // Enforced by Node's HTTP server: a silent socket, a request whose headers or body trickle
    // in, and an idle keep-alive connection are each closed after their limit.
    assert.equal(app.server.timeout, 30_000, 'an inactive socket');
    assert.equal(app.server.requestTimeout, 30_000, 'a whole request, headers and body');
    assert.equal(app.server.keepAliveTimeout, 5_000, 'an idle keep-alive connection');
  });
});

describe('dev mode', () => {
  it('refuses a caller from another machine, saying dev mode serves this machine only', async (t) => {
    const { app } = await build(t, {});
    const remote = await app.inject({
      url: '/generate-signed-url?object_key=a',
      remoteAddress: '192.0.2.7',
    });
    assert.equal(remote.statusCode, 401);
    assert.match(errorOf(remote.body).message, /dev mode answers this machine only/);
    const forwarded = await app.inject({
      url: '/generate-signed-url?object_key=a',
      remoteAddress: '192.0.2.7',
      headers: { 'x-forwarded-for': '127.0.0.1' },
    });
    assert.equal(forwarded.statusCode, 401);
    const local = await app.inject({
      url: '/generate-signed-url?object_key=a',
      remoteAddress: '::1',
    });
    assert.equal(local.statusCode, 200);
  });

  it('refuses a local caller whose request names another host, as a DNS-rebinding page would', async (t) => {
    const { app } = await build(t, {});
    for (const host of ['evil.example', 'evil.example:8080', '127.0.0.1.evil.example']) {
      const response = await app.inject({
        url: '/generate-signed-url?object_key=a',
        remoteAddress: '127.0.0.1',
        headers: { host },
      });
      assert.equal(response.statusCode, 401, host);
      assert.match(
        errorOf(response.body).message,
        /addressed to localhost, 127\.0\.0\.1 or \[::1\]/,
      );
    }
    for (const host of ['localhost:8080', '127.0.0.1:8080', '[::1]:8080', 'LOCALHOST']) {
      const response = await app.inject({
        url: '/generate-signed-url?object_key=a',
        remoteAddress: '127.0.0.1',
        headers: { host },
      });
      assert.equal(response.statusCode, 200, host);
    }
  });
});
