// When a Proxmox calendar event (a backup job's `schedule`) fires next, as proxmox-time's CalendarEvent computes it
// (pve-manager PVE/API2/Backup.pm sets a job's `next-run` with Proxmox::RS::CalendarEvent->compute_next_event(time)).
// Grammar (pve-docs "Calendar Events", checked by lib/pve-formats.ts checkCalendarEvent):
//   [WEEKDAY] [[YEARS-]MONTHS-DAYS] [HOURS:MINUTES[:SECONDS]]   each part a list of `*`, `N`, `N..M`, with `/R`
// A bare value is minutes of every hour; no time part means 00:00; seconds default to 0. Special words expand to
// their systemd meaning (daily = 00:00, weekly = mon 00:00, …).
import { checkCalendarEvent } from './pve-formats.ts';

/** Which clock the event is read in: the node's local time (the simulator's process) or UTC. */
export type CalendarClock = 'local' | 'utc';

interface Parsed {
  /** 0 = Monday … 6 = Sunday; undefined = every day. */
  weekdays?: Set<number>;
  years?: (year: number) => boolean;
  months: Set<number>;
  days: Set<number>;
  hours: number[];
  minutes: number[];
  seconds: number[];
}

const SPECIAL: Record<string, string> = {
  minutely: '*:*:00',
  hourly: '*:00',
  daily: '00:00',
  weekly: 'mon 00:00',
  monthly: '*-*-01 00:00',
  yearly: '*-01-01 00:00',
  annually: '*-01-01 00:00',
  quarterly: '*-01,04,07,10-01 00:00',
  semiannually: '*-01,07-01 00:00',
  'semi-annually': '*-01,07-01 00:00',
};
const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

const weekdayOf = (name: string): number => WEEKDAYS.indexOf(name.slice(0, 3));

/** `*`, `N`, `N..M`, each with an optional `/R`, comma-separated → the values in min..max, ascending. */
function expand(text: string, min: number, max: number): number[] {
  const out = new Set<number>();
  for (const item of text.split(',')) {
    const [range = '', repeat] = item.split('/');
    const step = repeat === undefined ? 1 : Number(repeat);
    const [lo, hi] = range === '*' ? [min, max] : range.includes('..') ? range.split('..').map(Number) : [Number(range), repeat === undefined ? Number(range) : max];
    for (let v = lo!; v <= hi!; v += step) if (v >= min && v <= max) out.add(v);
  }
  return [...out].sort((a, b) => a - b);
}

function parse(schedule: string): Parsed | undefined {
  if (checkCalendarEvent(schedule)) return undefined;
  const text = schedule.trim().toLowerCase();
  const tokens = (SPECIAL[text] ?? text).split(/\s+/);
  const parsed: Parsed = { months: new Set(expand('*', 1, 12)), days: new Set(expand('*', 1, 31)), hours: [0], minutes: [0], seconds: [0] };
  for (const token of tokens) {
    if (/^[a-z]/.test(token)) {
      parsed.weekdays = new Set(
        token.split(',').flatMap((item) => {
          const [from = '', to] = item.split('..');
          const a = weekdayOf(from);
          const b = to === undefined ? a : weekdayOf(to);
          return Array.from({ length: b - a + 1 }, (_, i) => a + i);
        }),
      );
    } else if (token.includes('-') && !token.includes(':')) {
      const parts = token.split('-');
      const [years, months, days] = parts.length === 3 ? parts : [undefined, parts[0], parts[1]];
      if (years !== undefined && years !== '*') {
        const allowed = new Set(expand(years, 1970, 9999));
        parsed.years = (year) => allowed.has(year);
      }
      parsed.months = new Set(expand(months!, 1, 12));
      parsed.days = new Set(expand(days!, 1, 31));
    } else {
      const parts = token.split(':');
      if (parts.length === 1) {
        parsed.hours = expand('*', 0, 23);
        parsed.minutes = expand(parts[0]!, 0, 59);
      } else {
        parsed.hours = expand(parts[0]!, 0, 23);
        parsed.minutes = expand(parts[1]!, 0, 59);
        parsed.seconds = parts[2] === undefined ? [0] : expand(parts[2], 0, 59);
      }
    }
  }
  return parsed;
}

/** The day search gives up after this many days (a date-restricted event may not fire for years). */
const MAX_DAYS = 5 * 366;

/**
 * The first time (Unix seconds) strictly after `after` at which the event fires, read on `clock`; undefined when the
 * schedule is not a calendar event or does not fire within five years.
 */
export function nextCalendarEvent(schedule: string, after: number, clock: CalendarClock = 'local'): number | undefined {
  const event = parse(schedule);
  if (!event) return undefined;
  const start = new Date(after * 1000);
  const utc = clock === 'utc';
  const [y, m, d] = utc ? [start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate()] : [start.getFullYear(), start.getMonth(), start.getDate()];
  for (let offset = 0; offset < MAX_DAYS; offset++) {
    const day = utc ? new Date(Date.UTC(y, m, d + offset)) : new Date(y, m, d + offset);
    const [year, month, date, weekday] = utc
      ? [day.getUTCFullYear(), day.getUTCMonth() + 1, day.getUTCDate(), (day.getUTCDay() + 6) % 7]
      : [day.getFullYear(), day.getMonth() + 1, day.getDate(), (day.getDay() + 6) % 7];
    if (event.years && !event.years(year)) continue;
    if (!event.months.has(month) || !event.days.has(date) || (event.weekdays && !event.weekdays.has(weekday))) continue;
    for (const hour of event.hours) {
      for (const minute of event.minutes) {
        for (const second of event.seconds) {
          const at = (utc ? Date.UTC(year, month - 1, date, hour, minute, second) : new Date(year, month - 1, date, hour, minute, second).getTime()) / 1000;
          if (at > after) return at;
        }
      }
    }
  }
  return undefined;
}

/**
 * The longest gap between two runs of the event over the week after `from` (a weekday-only job has a long weekend),
 * in seconds: how long a guest can wait for its first backup. Read in UTC: the gaps of a node in another time zone
 * differ only around a DST change.
 */
export function calendarInterval(schedule: string, from: number): number | undefined {
  let previous = nextCalendarEvent(schedule, from, 'utc');
  if (previous === undefined) return undefined;
  let longest = 0;
  const until = previous + 8 * 86_400;
  // A minutely event has its longest gap within its first few runs; the cap keeps it cheap.
  for (let runs = 0; previous < until && runs < 400; runs++) {
    const next = nextCalendarEvent(schedule, previous, 'utc');
    if (next === undefined) break;
    longest = Math.max(longest, next - previous);
    previous = next;
  }
  return longest || undefined;
}
