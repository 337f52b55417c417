import assert from 'node:assert/strict';
import { connect, type AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { AUTH, assertAccepted, build, defaultSigner } from '../helpers/server.ts';

describe('a server that is closing', () => {
  it('answers a request that reaches it while closing in the usual shape, never a bare 503', async (t) => {
    const server = await build(t, undefined, new Date());
    const { app } = server;
    const signer = defaultSigner(app);
    const signPlanned = signer.signPlanned.bind(signer);
    // The first request is still signing when close() begins, so the connection stays open.
    signer.signPlanned = async (plan) => {
      await delay(300);
      return signPlanned(plan);
    };
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as AddressInfo;
    const socket = connect(port, '127.0.0.1');
    let answers = '';
    socket.on('data', (chunk: Buffer) => (answers += chunk.toString('utf8')));
    const ended = new Promise((resolve) => socket.on('close', resolve));
    const request = (key: string) =>
      `GET /generate-signed-url?object_key=${key} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${AUTH.authorization}\r\n\r\n`;
    socket.write(request('first.mp4'));
    await delay(50);
    const closed = app.close();
    socket.write(request('second.mp4'));
    await Promise.all([ended, closed]);
    const responses = answers.split(/(?=HTTP\/1\.1 )/);
    assert.equal(responses.length, 2, answers.replace(/Signature=[^&"]+/g, '…'));
    for (const [index, response] of responses.entries()) {
      assert.match(response, /^HTTP\/1\.1 200 /, `response ${index + 1}`);
      assert.match(response, /cache-control: no-store/i);
      const url = /"signed_url":"([^"]+)"/.exec(response)?.[1];
      assert.ok(url !== undefined, `response ${index + 1} carries no link`);
      assertAccepted(url, new Date());
    }
  });
});
