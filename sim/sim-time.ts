// Simulated time: everything time-like in the simulator is a multiple of the task duration (`--task-seconds`), so a
// test running tasks in 0.05 s also sees boots, pve-firewall's update cycle, DHCP and probe timeouts shrink with it.
// A duration a real node takes (e.g. 10 s for pve-firewall's cycle) is that many seconds at the default task duration.

/** The task duration of a default simulator, which stands for real time. */
export const DEFAULT_TASK_SECONDS = 3;

/** A real duration, scaled the way `--task-seconds` scales the task duration. */
export function scaledSeconds(realSeconds: number, taskSeconds: number): number {
  return (realSeconds * taskSeconds) / DEFAULT_TASK_SECONDS;
}
