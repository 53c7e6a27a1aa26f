// Following tasks to their end and running commands through the guest agent, against a scripted stub node.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgentShell } from '../../../infra/proxmox/agent-shell.ts';
import { Secret } from '../../../lib/secret.ts';
import { answer, startStub, type RunningStub, type StubRequest } from './support/stub.ts';
import { testClient } from './support/clients.ts';
import type { ServerResponse } from 'node:http';

const UPID = 'UPID:proxmox:00001234:00005678:6745A1B2:qmstart:100:jarvis@pve!bot:';

let stub: RunningStub;
beforeAll(async () => {
  stub = await startStub((_req, res) => answer(res, 404, null));
});
afterAll(async () => {
  await stub.close();
});

/** A task that runs for `polls` status reads, writing numbered log lines, then ends with `exitstatus`. */
function scriptTask(exitstatus: string, logLines: number, polls: number): void {
  let reads = 0;
  stub.setHandler((req: StubRequest, res: ServerResponse) => {
    if (req.path.endsWith('/status')) {
      reads++;
      const done = reads > polls;
      return answer(res, 200, {
        upid: UPID,
        node: 'proxmox',
        type: 'qmstart',
        starttime: 1732600000,
        status: done ? 'stopped' : 'running',
        ...(done ? { exitstatus } : {}),
      });
    }
    if (req.path.endsWith('/log')) {
      const visible = Math.min(logLines, Math.ceil((logLines * reads) / (polls + 1)));
      const start = Number(req.query.get('start') ?? 0);
      const limit = Number(req.query.get('limit') ?? 50);
      const lines = Array.from({ length: visible }, (_, i) => ({ n: i + 1, t: `line ${i + 1}` }));
      const page = lines.slice(start, start + limit);
      return answer(res, 200, page.length > 0 ? page : [{ n: 1, t: 'no content' }]);
    }
    answer(res, 404, null);
  });
}

describe('waitForTask', () => {
  it('polls until the task stops and reports success without a log tail', async () => {
    scriptTask('OK', 3, 2);
    stub.requests.length = 0;
    const result = await testClient(stub).waitForTask(UPID);
    expect(result).toMatchObject({ upid: UPID, exitstatus: 'OK', ok: true, logTail: [] });
    const statusReads = stub.requests.filter((r) => r.path.endsWith('/status'));
    expect(statusReads).toHaveLength(3);
    expect(statusReads[0]?.path).toBe(`/api2/json/nodes/proxmox/tasks/${encodeURIComponent(UPID)}/status`);
  });

  it('returns a failure with the exit status and the last 20 log lines, without throwing', async () => {
    scriptTask("start failed: QEMU exited with code 1", 30, 1);
    const result = await testClient(stub).waitForTask(UPID);
    expect(result.ok).toBe(false);
    expect(result.exitstatus).toBe('start failed: QEMU exited with code 1');
    expect(result.logTail).toEqual(Array.from({ length: 20 }, (_, i) => `line ${i + 11}`));
  });

  it('finds the tail of a log longer than one page', async () => {
    scriptTask('command failed', 1203, 0);
    const result = await testClient(stub).waitForTask(UPID);
    expect(result.logTail.at(-1)).toBe('line 1203');
    expect(result.logTail).toHaveLength(20);
  });

  it('counts "WARNINGS: n" as finished and streams every log line once to onProgress', async () => {
    scriptTask('WARNINGS: 2', 9, 3);
    const seen: string[] = [];
    const result = await testClient(stub).waitForTask(UPID, { onProgress: (line) => seen.push(line) });
    expect(result.ok).toBe(true);
    expect(seen).toEqual(Array.from({ length: 9 }, (_, i) => `line ${i + 1}`));
  });

  it('gives up after timeoutMs, naming the task', async () => {
    scriptTask('OK', 1, 1_000_000);
    await expect(testClient(stub).waitForTask(UPID, { timeoutMs: 80 })).rejects.toThrow(/still running after 80 ms/);
  });
});

describe('agent shell', () => {
  function scriptAgent(status: Record<string, unknown>, runningPolls: number): void {
    let polls = 0;
    stub.setHandler((req, res) => {
      if (req.path.endsWith('/agent/exec')) return answer(res, 200, { pid: 77 });
      if (req.path.endsWith('/agent/exec-status')) {
        return answer(res, 200, ++polls > runningPolls ? { exited: 1, ...status } : { exited: 0 });
      }
      answer(res, 404, null);
    });
  }

  it('runs the command through sh -c, polls exec-status and returns code and output', async () => {
    scriptAgent({ exitcode: 3, 'out-data': 'hello\n', 'err-data': 'oops\n' }, 2);
    stub.requests.length = 0;
    const shell = createAgentShell(testClient(stub), 101, 'naas', { initialPollMs: 5 });
    const chunks: string[] = [];
    const result = await shell.exec('echo hello; exit 3', { onOutput: (chunk) => chunks.push(chunk) });
    expect(result).toEqual({ code: 3, stdout: 'hello\n', stderr: 'oops\n' });
    expect(chunks).toEqual(['hello\n']);
    expect(shell.transport).toBe('agent');
    const start = stub.requests[0];
    expect(start?.path).toBe('/api2/json/nodes/proxmox/qemu/101/agent/exec');
    expect(new URLSearchParams(start?.body).getAll('command')).toEqual(['/bin/sh', '-c', 'echo hello; exit 3']);
    const polls = stub.requests.filter((r) => r.path.endsWith('/exec-status'));
    expect(polls).toHaveLength(3);
    expect(polls[0]?.query.get('pid')).toBe('77');
  });

  it('wraps a timeout with timeout(1) and sends a Secret stdin only in the request', async () => {
    scriptAgent({ exitcode: 0 }, 0);
    stub.requests.length = 0;
    const shell = createAgentShell(testClient(stub), 101, 'naas', { initialPollMs: 5 });
    await shell.exec('tailscale up --auth-key=file:/dev/stdin', { timeoutSec: 30, stdin: new Secret('tskey-auth-XYZ') });
    const body = new URLSearchParams(stub.requests[0]?.body);
    expect(body.getAll('command').slice(0, 3)).toEqual(['timeout', '--kill-after=5', '30']);
    expect(body.get('input-data')).toBe('tskey-auth-XYZ');
  });

  it('gives up when the guest does not report the exit in time', async () => {
    scriptAgent({ exitcode: 0 }, 1_000_000);
    const shell = createAgentShell(testClient(stub), 101, 'naas', { initialPollMs: 5, maxPollMs: 10, graceSec: 0 });
    await expect(shell.exec('sleep 100', { timeoutSec: 0.1 })).rejects.toThrow(/did not report its exit/);
    await expect(shell.exec('sleep 100', { timeoutSec: 0 })).rejects.toThrow(/must be positive/);
  });
});
