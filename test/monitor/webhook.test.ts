import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Secret } from '../../lib/secret.ts';
import { AlertStore } from '../../monitor/alert-store.ts';
import type { Alert } from '../../monitor/types.ts';
import { handleWebhookNotification, runWatchers } from '../../monitor/watch.ts';
import { parseListen, parseNotification, startWebhookReceiver, type WebhookReceiver } from '../../monitor/webhook.ts';
import { fakeProxmox, FAILED_RUN, NOW, THRESHOLDS } from './fixtures.ts';

const SECRET = new Secret('canary-webhook-secret-7f3a9c');
let dir: string;
let store: AlertStore;
let receiver: WebhookReceiver | undefined;
const sent: Alert[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'jarvis-webhook-'));
  store = AlertStore.open(dir);
  sent.length = 0;
});
afterEach(async () => {
  await receiver?.close();
  receiver = undefined;
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const watchOptions = (proxmox = fakeProxmox()) => ({ ports: { proxmox }, store, thresholds: THRESHOLDS, now: NOW, deliver: (a: Alert) => void sent.push(a) });

async function start(proxmox = fakeProxmox()): Promise<WebhookReceiver> {
  receiver = await startWebhookReceiver({
    listen: '127.0.0.1:0',
    secret: SECRET,
    onNotification: async (n) => void (await handleWebhookNotification(watchOptions(proxmox), n)),
  });
  return receiver;
}

const failureBody = {
  title: 'vzdump backup status (proxmox): backup failed',
  message: `Details\nVMID  Name      Status  Time\n300   app-host  err     1min\n\nERROR: Backup of VM 300 failed - No space left on device\nTask: ${FAILED_RUN}\n`,
  severity: 'error',
  fields: { type: 'vzdump', hostname: 'proxmox', 'job-id': 'jarvis-daily' },
};

const post = (url: string, body: unknown, secret?: string) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...(secret ? { 'x-jarvis-secret': secret } : {}) }, body: JSON.stringify(body) });

describe('webhook receiver', () => {
  it('refuses a wrong or missing secret with 401 and raises nothing', async () => {
    const { url } = await start();
    expect((await post(url, failureBody, 'wrong')).status).toBe(401);
    expect((await post(url, failureBody)).status).toBe(401);
    expect(sent).toEqual([]);
    expect(store.get(`backup-failed:${FAILED_RUN}`)).toBeUndefined();
  });

  it('does not alert twice for a failure the poll already raised', async () => {
    await runWatchers(watchOptions());
    const polled = sent.filter((a) => a.key === `backup-failed:${FAILED_RUN}`);
    expect(polled).toHaveLength(1);
    sent.length = 0;
    const { url } = await start();
    expect((await post(url, failureBody, SECRET.reveal())).status).toBe(202);
    expect(sent).toEqual([]);
  });

  it('raises the polled alert (same UPID key) when the webhook comes first, and the later poll stays quiet', async () => {
    const { url } = await start();
    expect((await post(url, failureBody, SECRET.reveal())).status).toBe(202);
    expect(sent.filter((a) => a.kind === 'backup-failed').map((a) => a.key)).toContain(`backup-failed:${FAILED_RUN}`);
    sent.length = 0;
    await runWatchers(watchOptions());
    expect(sent.filter((a) => a.kind === 'backup-failed')).toEqual([]);
  });

  it('alerts from the notification itself when Proxmox cannot be read', async () => {
    const down = () => Promise.reject(new Error('connect ECONNREFUSED'));
    const { url } = await start(fakeProxmox({ listTasks: down }));
    expect((await post(url, failureBody, SECRET.reveal())).status).toBe(202);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ key: `backup-failed:${FAILED_RUN}`, title: 'Backup failed: VM 300 (from a Proxmox notification)' });
    expect(sent[0]!.lines).toContain('job: jarvis-daily');
    expect(JSON.stringify(sent)).not.toContain(SECRET.reveal());
  });

  it('rejects a body that is not a notification with 400 naming the field', async () => {
    const { url } = await start();
    const res = await post(url, { title: 1 }, SECRET.reveal());
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/title/);
  });

  it('refuses to bind every address unless explicitly allowed', async () => {
    expect(() => parseListen('0.0.0.0:8787')).toThrow(/refusing to listen on every address/);
    expect(() => parseListen('[::]:8787')).toThrow(/refusing/);
    expect(() => parseListen(':8787')).toThrow(/refusing/);
    // Every spelling of "every address" the socket layer accepts.
    for (const listen of ['0:8787', '[::0]:8787', '[0:0:0:0:0:0:0:0]:8787', ':::8787', '0.0:8787', '0x0:8787', '000.000.000.000:8787', '[::ffff:0.0.0.0]:8787', '*:8787']) {
      expect(() => parseListen(listen), listen).toThrow(/refusing to listen on every address/);
    }
    await expect(startWebhookReceiver({ listen: '0:0', secret: SECRET, onNotification: async () => {} })).rejects.toThrow(/refusing/);
    expect(parseListen('[fd7a::20]:8787')).toEqual({ host: 'fd7a::20', port: 8787, wildcard: false });
    await expect(startWebhookReceiver({ listen: '0.0.0.0:0', secret: SECRET, onNotification: async () => {} })).rejects.toThrow(/refusing/);
    expect(parseListen('0.0.0.0:8787', true)).toEqual({ host: '0.0.0.0', port: 8787, wildcard: true });
    expect(parseListen('192.168.1.20:8787')).toEqual({ host: '192.168.1.20', port: 8787, wildcard: false });
    expect(() => parseListen('192.168.1.20')).toThrow(/must be HOST:PORT/);
  });

  it('reads UPID, VM ids and job id out of the notification text', () => {
    const n = parseNotification(failureBody);
    expect(n).toMatchObject({ upid: FAILED_RUN, vmids: [300], jobId: 'jarvis-daily', backupFailure: true });
    expect(parseNotification({ title: 'vzdump backup status (proxmox): backup successful', message: 'ok', severity: 'info', fields: { type: 'vzdump' } }).backupFailure).toBe(false);
  });
});
