// Transfer accept over quota (cinder/api/contrib/volume_transfer.py accept, transfer/api.py accept):
// VolumeSizeExceedsAvailableQuota becomes HTTPRequestEntityTooLarge with headers={'Retry-After': '0'},
// and VolumeLimitExceeded (a QuotaError) reaches FaultWrapper, whose 413 carries the class's
// Retry-After: 0 as well. Both are 413 with Cinder's texts.
import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { VolumeLimitExceeded, VolumeSizeExceedsAvailableQuota } from '../../src/common/exceptions.js';
import type { TransferAPI } from '../../src/volume-api/transfer.js';
import { request, testApp, tokenAuthenticator, unreachableVolumeApi } from '../support/api.js';

const P = '0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b';
const T = '6d0e7c1a-3f57-4a8e-9b6e-2f1c1e0d9a11';

let app: FastifyInstance;
afterEach(() => app?.close());

function appRaising(err: Error): FastifyInstance {
  const transfers = { accept: () => Promise.reject(err) } as unknown as TransferAPI;
  return testApp({ volumeApi: { ...unreachableVolumeApi(), transfers } as never, authenticator: tokenAuthenticator(P) });
}

describe('transfer accept over quota', () => {
  for (const base of ['os-volume-transfer', 'volume-transfers']) {
    it(`${base}: VolumeSizeExceedsAvailableQuota is a 413 with Retry-After: 0`, async () => {
      app = appRaising(new VolumeSizeExceedsAvailableQuota({ name: 'gigabytes', requested: 5, quota: 4, consumed: 0 }));
      const r = await request(app, 'POST', `/v3/${P}/${base}/${T}/accept`, { token: 'member', version: '3.55', body: { accept: { auth_key: 'k' } } });
      expect(r.status).toBe(413);
      expect(r.headers['retry-after']).toBe('0');
      expect(r.json).toEqual({
        overLimit: { code: 413, message: 'Requested volume or snapshot exceeds allowed gigabytes quota. Requested 5G, quota is 4G and 0G has been consumed.' },
      });
    });
  }

  it('VolumeLimitExceeded is a 413 with Retry-After: 0 (FaultWrapper)', async () => {
    app = appRaising(new VolumeLimitExceeded({ allowed: 1, name: 'volumes' }));
    const r = await request(app, 'POST', `/v3/${P}/volume-transfers/${T}/accept`, { token: 'member', version: '3.55', body: { accept: { auth_key: 'k' } } });
    expect(r.status).toBe(413);
    expect(r.headers['retry-after']).toBe('0');
    expect(r.json.overLimit.message).toBe("VolumeLimitExceeded: Maximum number of volumes allowed (1) exceeded for quota 'volumes'.");
  });
});
