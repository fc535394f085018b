// A private RabbitMQ vhost per test file, so runs never see each other's queues.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

function ctl(...args: string[]): string {
  return execFileSync('rabbitmqctl', ['-q', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export function createVhost(prefix = 'cinder-ts-test'): string {
  const name = `${prefix}-${randomBytes(4).toString('hex')}`;
  ctl('add_vhost', name);
  ctl('set_permissions', '-p', name, 'guest', '.*', '.*', '.*');
  return name;
}

export function deleteVhost(name: string): void {
  try {
    ctl('delete_vhost', name);
  } catch {
    /* already gone */
  }
}

export function transportUrl(vhost: string): string {
  return `rabbit://guest:guest@127.0.0.1:5672/${encodeURIComponent(vhost)}`;
}
