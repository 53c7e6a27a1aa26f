// Background tasks as pvedaemon runs them: a UPID at once, the work after simulated time, a log ending in
// "TASK OK" or "TASK ERROR: …", and the task list with PVE's filters.
import { PveHttpError } from './http.ts';

export interface SimTask {
  upid: string;
  node: string;
  pid: number;
  pstart: number;
  starttime: number;
  endtime?: number;
  type: string;
  id: string;
  user: string;
  status: 'running' | 'stopped';
  exitstatus?: string;
  log: string[];
}

export interface TaskWork {
  /** Log lines written while the task runs (before the final status line). */
  lines?: string[];
  /** The state change; throw to fail the task with that message. May return more log lines. */
  run?: () => string[] | void | Promise<string[] | void>;
  /** Always runs at the end (clears locks). */
  finally?: () => void;
  seconds?: number;
}

const hex8 = (n: number): string => (n >>> 0).toString(16).toUpperCase().padStart(8, '0');

export function formatUpid(t: Pick<SimTask, 'node' | 'pid' | 'pstart' | 'starttime' | 'type' | 'id' | 'user'>): string {
  return `UPID:${t.node}:${hex8(t.pid)}:${hex8(t.pstart)}:${hex8(t.starttime)}:${t.type}:${t.id}:${t.user}:`;
}

export class TaskRunner {
  readonly tasks: SimTask[] = [];
  readonly failNext = new Map<string, number>();
  private nextPid = 40_000;
  private readonly pstart = 1_234_567;
  private readonly pending = new Map<NodeJS.Timeout, () => Promise<void>>();
  /** Off while a scenario is built: `task-fail:` faults are for the client's tasks, not for the starting lab. */
  injectFaults = true;

  constructor(
    private readonly node: string,
    private readonly taskSeconds: () => number,
    private readonly faults: { failing: ReadonlySet<string>; slow: ReadonlyMap<string, number> },
  ) {}

  /** Adds a finished task to the history (scenarios seed old backups this way). */
  record(entry: { type: string; id: string; user: string; starttime: number; endtime: number; exitstatus: string; log: string[] }): SimTask {
    const pid = this.nextPid++;
    const task: SimTask = { node: this.node, pid, pstart: this.pstart, ...entry, upid: '', status: 'stopped' };
    task.upid = formatUpid(task);
    task.log = [...entry.log, entry.exitstatus === 'OK' ? 'TASK OK' : `TASK ERROR: ${entry.exitstatus}`];
    this.tasks.push(task);
    return task;
  }

  start(type: string, id: string, user: string, work: TaskWork): string {
    const pid = this.nextPid++;
    const task: SimTask = {
      node: this.node,
      pid,
      pstart: this.pstart,
      starttime: Math.floor(Date.now() / 1000),
      type,
      id,
      user,
      status: 'running',
      log: [...(work.lines ?? [])],
      upid: '',
    };
    task.upid = formatUpid(task);
    this.tasks.push(task);
    const pending = this.failNext.get(type) ?? 0;
    const injected = this.injectFaults && (this.faults.failing.has(type) || pending > 0);
    if (pending > 0) this.failNext.set(type, pending - 1);
    const slow = this.injectFaults ? this.faults.slow.get(type) : undefined;
    const delay = Math.max(0, (slow ?? work.seconds ?? this.taskSeconds()) * 1000);
    const complete = (): Promise<void> => {
      this.pending.delete(timer);
      return this.finish(task, work, injected);
    };
    const timer = setTimeout(() => void complete(), delay);
    this.pending.set(timer, complete);
    return task.upid;
  }

  private async finish(task: SimTask, work: TaskWork, injected: boolean): Promise<void> {
    try {
      if (injected) throw new Error(`simulated failure of task type '${task.type}' (fault injection)`);
      const more = await work.run?.();
      if (more) task.log.push(...more);
      task.exitstatus = 'OK';
      task.log.push('TASK OK');
    } catch (error) {
      const message = (error instanceof PveHttpError || error instanceof Error ? error.message : String(error)).trim();
      // A worker that logged before failing (vzdump) attaches its lines to the error.
      const lines = (error as { log?: unknown }).log;
      if (Array.isArray(lines)) task.log.push(...lines.map(String));
      task.exitstatus = message;
      task.log.push(`TASK ERROR: ${message}`);
    } finally {
      work.finally?.();
      task.status = 'stopped';
      task.endtime = Math.floor(Date.now() / 1000);
    }
  }

  find(upid: string): SimTask | undefined {
    return this.tasks.find((t) => t.upid === upid);
  }

  /** Finishes every running task now (scenario building runs the real handlers and must not wait). */
  async drain(): Promise<void> {
    while (this.pending.size) {
      for (const [timer, complete] of [...this.pending]) {
        clearTimeout(timer);
        await complete();
      }
    }
  }

  stop(): void {
    for (const timer of this.pending.keys()) clearTimeout(timer);
    this.pending.clear();
  }
}
