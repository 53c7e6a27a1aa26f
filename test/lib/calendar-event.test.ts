// Next runs of Proxmox calendar events, against the examples of pve-docs "Calendar Events" (read in UTC).
import { describe, expect, it } from 'vitest';
import { calendarInterval, nextCalendarEvent } from '../../lib/calendar-event.ts';

const at = (iso: string): number => Date.parse(iso) / 1000;
const next = (schedule: string, after: string): string | undefined => {
  const t = nextCalendarEvent(schedule, at(after), 'utc');
  return t === undefined ? undefined : new Date(t * 1000).toISOString();
};

describe('nextCalendarEvent', () => {
  // 2026-11-25 is a Wednesday.
  it.each([
    ['02:30', '2026-11-25T01:00:00Z', '2026-11-25T02:30:00.000Z'],
    ['02:30', '2026-11-25T02:30:00Z', '2026-11-26T02:30:00.000Z'],
    ['*/5', '2026-11-25T10:07:10Z', '2026-11-25T10:10:00.000Z'],
    ['mon..fri 22:00', '2026-11-27T23:00:00Z', '2026-11-30T22:00:00.000Z'],
    ['sat 02:00', '2026-11-25T00:00:00Z', '2026-11-28T02:00:00.000Z'],
    ['fri 12..13:5/20', '2026-11-27T12:30:00Z', '2026-11-27T12:45:00.000Z'],
    ['mon..wed 30/10', '2026-11-25T10:41:00Z', '2026-11-25T10:50:00.000Z'],
    ['*-05', '2026-11-25T00:00:00Z', '2026-12-05T00:00:00.000Z'],
    ['sat *-1..7 15:00', '2026-11-25T00:00:00Z', '2026-12-05T15:00:00.000Z'],
    ['weekly', '2026-11-25T00:00:00Z', '2026-11-30T00:00:00.000Z'],
    ['2015-10-21', '2026-11-25T00:00:00Z', undefined],
  ])('%s after %s is %s', (schedule, after, expected) => {
    expect(next(schedule, after)).toBe(expected);
  });

  it('answers undefined for what is not a calendar event', () => {
    expect(nextCalendarEvent('every night', at('2026-11-25T00:00:00Z'), 'utc')).toBeUndefined();
  });
});

describe('calendarInterval', () => {
  it('is a day for a nightly job, three days for a weekday job (the weekend), ten minutes for */10', () => {
    const from = at('2026-11-25T00:00:00Z');
    expect(calendarInterval('02:30', from)).toBe(86_400);
    expect(calendarInterval('mon..fri 22:00', from)).toBe(3 * 86_400);
    expect(calendarInterval('*/10', from)).toBe(600);
  });
});
