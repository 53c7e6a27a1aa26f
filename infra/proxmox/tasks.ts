// Following a Proxmox task (UPID) to its end: poll its status with growing pauses, stream new log lines to a
// listener, and on anything but "OK" return the exit status with the log's tail instead of throwing.
import { setTimeout as sleep } from 'node:timers/promises';
import { JarvisError } from '../../lib/errors.ts';
import type { TaskLogLine, TaskResult, TaskStatus } from './api.ts';

export interface TaskPolling {
  /** First pause between status polls (default 100 ms); grows by half each poll. */
  initialDelayMs?: number;
  /** Longest pause between polls (default 1 s). */
  maxDelayMs?: number;
  /** Lines of the log kept for a failed task (default 20). */
  tailLines?: number;
}

export interface TaskSource {
  taskStatus(upid: string): Promise<TaskStatus>;
  taskLog(upid: string, opts?: { start?: number; limit?: number }): Promise<TaskLogLine[]>;
}

/** PVE's task status `exitstatus`: "OK", "WARNINGS: n" (finished, with warnings) or the error text. */
export function taskSucceeded(exitstatus: string): boolean {
  return exitstatus === 'OK' || /^WARNINGS: \d+$/.test(exitstatus);
}

const LOG_PAGE = 500;

export async function waitForTask(
  source: TaskSource,
  upid: string,
  polling: TaskPolling,
  opts: { timeoutMs?: number; onProgress?: (line: string) => void } = {},
): Promise<TaskResult> {
  const started = Date.now();
  const maxDelay = polling.maxDelayMs ?? 1_000;
  let delay = Math.min(polling.initialDelayMs ?? 100, maxDelay);
  let linesSeen = 0;
  for (;;) {
    const status = await source.taskStatus(upid);
    if (opts.onProgress) linesSeen = await streamNewLines(source, upid, linesSeen, opts.onProgress);
    if (status.status === 'stopped') {
      const exitstatus = status.exitstatus ?? 'unknown';
      const ok = taskSucceeded(exitstatus);
      const logTail = exitstatus === 'OK' ? [] : await readTail(source, upid, polling.tailLines ?? 20);
      return { upid, exitstatus, ok, logTail, durationMs: Date.now() - started };
    }
    if (opts.timeoutMs !== undefined && Date.now() - started + delay > opts.timeoutMs) {
      throw new JarvisError(
        'task-timeout',
        `Proxmox task ${upid} still running after ${opts.timeoutMs} ms; it was not cancelled and may still finish`,
      );
    }
    await sleep(delay);
    delay = Math.min(Math.round(delay * 1.5), maxDelay);
  }
}

async function streamNewLines(
  source: TaskSource,
  upid: string,
  seen: number,
  onLine: (line: string) => void,
): Promise<number> {
  const lines = await source.taskLog(upid, { start: seen, limit: LOG_PAGE });
  // PVE answers an empty log with one line "no content"; only numbered lines past what was seen are new.
  const fresh = lines.filter((line) => line.n > seen && line.t !== 'no content');
  for (const line of fresh) onLine(line.t);
  return fresh.reduce((last, line) => Math.max(last, line.n), seen);
}

async function readTail(source: TaskSource, upid: string, count: number): Promise<string[]> {
  // The log is numbered from 1; read the first page to learn its length, then the last `count` lines.
  const first = await source.taskLog(upid, { start: 0, limit: LOG_PAGE });
  if (first.length < LOG_PAGE) return first.slice(-count).map((line) => line.t);
  let start = LOG_PAGE;
  let page = first;
  let previous = first;
  while (page.length === LOG_PAGE) {
    previous = page;
    page = await source.taskLog(upid, { start, limit: LOG_PAGE });
    start += LOG_PAGE;
  }
  return [...previous, ...page].slice(-count).map((line) => line.t);
}
