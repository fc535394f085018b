// HTTP connection handling through the real API process: requests pipelined on one keep-alive
// connection are all answered, in order, even when unparsable bytes follow them (issue 8, point 4:
// a body-less DELETE followed by stray bytes deleted the volume but its client got only a 400).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import net from 'node:net';
import { Cluster, CinderClient, sleep } from '../support/cluster.js';

const PROJECT = 'c0ffee00c0ffee00c0ffee00c0ffee00';
let cluster: Cluster;
let api: CinderClient;

beforeAll(async () => {
  cluster = new Cluster();
  await cluster.start();
  api = new CinderClient(cluster.baseUrl, PROJECT);
});
afterAll(async () => {
  await cluster?.stop();
});

/** Writes raw bytes on one connection and returns everything read until the server closes it. */
function raw(payload: string, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = net.connect(cluster.port, '127.0.0.1', () => c.write(payload));
    let out = '';
    const t = setTimeout(() => {
      c.destroy();
      reject(new Error(`connection not closed within ${timeoutMs} ms; read: ${JSON.stringify(out)}`));
    }, timeoutMs);
    c.on('data', (d) => (out += d.toString('latin1')));
    c.on('close', () => {
      clearTimeout(t);
      resolve(out);
    });
    c.on('error', () => undefined);
  });
}

const statusLines = (text: string) => [...text.matchAll(/HTTP\/1\.1 (\d{3}) [A-Z]/g)].map((m) => Number(m[1]));
const head = (method: string, p: string) =>
  `${method} /v3/${PROJECT}${p} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Auth-Token: u1:${PROJECT}\r\nAccept: application/json\r\n`;

describe('pipelined requests followed by unparsable bytes', () => {
  it('answers a body-less DELETE before the 400 for the stray bytes, then closes', async () => {
    const id = await cluster.newVolume(api);
    const out = await raw(`${head('DELETE', `/volumes/${id}`)}\r\nGARBAGE\r\n\r\n`);
    expect(statusLines(out)).toEqual([202, 400]);
    expect(out).toMatch(/Connection: close/i);
    // The DELETE the client was told about is the one carried out.
    for (let i = 0; i < 100 && cluster.volumeRow(id)?.deleted !== 1; i++) await sleep(50);
    expect(cluster.volumeRow(id).deleted).toBe(1);
  });

  it('answers every pipelined request in order before the 400', async () => {
    const a = await cluster.newVolume(api);
    const b = await cluster.newVolume(api);
    const reserve = JSON.stringify({ 'os-reserve': null });
    const post = `${head('POST', `/volumes/${a}/action`)}Content-Type: application/json\r\nContent-Length: ${reserve.length}\r\n\r\n${reserve}`;
    const out = await raw(`${head('GET', `/volumes/${b}`)}\r\n${post}${head('GET', '/volumes/not-a-volume')}\r\n\x00\x01junk\r\n\r\n`);
    expect(statusLines(out), out).toEqual([200, 202, 404, 400]);
    expect(cluster.volumeRow(a).status).toBe('attaching');
    // The service is still there for the next client.
    expect((await api.get(b)).status).toBe(200);
  });
});
