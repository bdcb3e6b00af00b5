/**
 * CF times (`units = "<unit> since <date>"`, `calendar`) as dates of their calendar, written
 * `YYYY-MM-DDTHH:MM:SSZ` to the second. Calendars: standard and gregorian (taken as proleptic
 * Gregorian: dates before 1582-10-15 differ from the mixed calendar's), proleptic_gregorian, julian,
 * noleap and 365_day, all_leap and 366_day, 360_day. A 360_day date may be one no Gregorian calendar
 * has (February 30): it is said as it is, and dropped from a feature update, which takes real dates only.
 */
import { ProductError } from './format.ts';

const SECONDS: Readonly<Record<string, number>> = {
  second: 1,
  seconds: 1,
  sec: 1,
  secs: 1,
  s: 1,
  minute: 60,
  minutes: 60,
  min: 60,
  mins: 60,
  hour: 3600,
  hours: 3600,
  hr: 3600,
  hrs: 3600,
  h: 3600,
  day: 86400,
  days: 86400,
  d: 86400,
};

type Calendar = 'gregorian' | 'julian' | 'noleap' | 'all_leap' | '360_day';

const CALENDARS: Readonly<Record<string, Calendar>> = {
  standard: 'gregorian',
  gregorian: 'gregorian',
  proleptic_gregorian: 'gregorian',
  julian: 'julian',
  noleap: 'noleap',
  '365_day': 'noleap',
  all_leap: 'all_leap',
  '366_day': 'all_leap',
  '360_day': '360_day',
};

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function leap(calendar: Calendar, year: number): boolean {
  if (calendar === 'all_leap') return true;
  if (calendar === 'noleap' || calendar === '360_day') return false;
  if (calendar === 'julian') return year % 4 === 0;
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function monthDays(calendar: Calendar, year: number, month: number): number {
  if (calendar === '360_day') return 30;
  return month === 2 && leap(calendar, year) ? 29 : (MONTH_DAYS[month - 1] ?? 30);
}

const yearDays = (calendar: Calendar, year: number) =>
  calendar === '360_day' ? 360 : leap(calendar, year) ? 366 : 365;

export interface CfTime {
  /** Seconds in one unit of the values. */
  readonly unitSeconds: number;
  readonly calendar: Calendar;
  /** The reference date's day, counted in its calendar from 0001-01-01, and its seconds into that day. */
  readonly day: number;
  readonly second: number;
}

/** Reads `units` and `calendar`; a value that is no CF time unit is refused, naming it. */
export function cfTime(units: string, calendar = 'standard'): CfTime {
  const match =
    /^\s*(\w+)\s+since\s+(-?\d{1,4})-(\d{1,2})-(\d{1,2})(?:[T\s]+(\d{1,2}):(\d{1,2})(?::(\d{1,2}(?:\.\d*)?))?)?\s*(Z|UTC|[+-]\d{1,2}(?::?\d{2})?)?\s*$/i.exec(
      units,
    );
  const unitSeconds = SECONDS[match?.[1]?.toLowerCase() ?? ''];
  const kind = CALENDARS[calendar.toLowerCase()];
  if (match === null || unitSeconds === undefined)
    throw new ProductError(
      `time units ${JSON.stringify(units)} are not "<seconds|minutes|hours|days> since <date>"`,
    );
  if (kind === undefined)
    throw new ProductError(`time calendar ${JSON.stringify(calendar)} is not one this reads`);
  const [year, month, date] = [Number(match[2]), Number(match[3]), Number(match[4])];
  if (month < 1 || month > 12 || date < 1 || date > monthDays(kind, year, month))
    throw new ProductError(`time units ${JSON.stringify(units)}: no such date in the ${calendar} calendar`);
  const offset = zoneSeconds(match[8]);
  const second = Number(match[5] ?? 0) * 3600 + Number(match[6] ?? 0) * 60 + Number(match[7] ?? 0) - offset;
  return { unitSeconds, calendar: kind, day: dayNumber(kind, year, month, date), second };
}

function zoneSeconds(zone: string | undefined): number {
  if (zone === undefined || /^(z|utc)$/i.test(zone)) return 0;
  const [, sign, hours, minutes] = /^([+-])(\d{1,2}):?(\d{2})?$/.exec(zone) ?? [];
  return (sign === '-' ? -1 : 1) * (Number(hours) * 3600 + Number(minutes ?? 0) * 60);
}

/** Days from 0001-01-01 to that date, in its calendar. */
function dayNumber(calendar: Calendar, year: number, month: number, date: number): number {
  let days = 0;
  if (calendar === '360_day') days = (year - 1) * 360;
  else if (calendar === 'noleap' || calendar === 'all_leap') days = (year - 1) * yearDays(calendar, 1);
  else {
    const y = year - 1;
    days =
      y * 365 +
      Math.floor(y / 4) -
      (calendar === 'gregorian' ? Math.floor(y / 100) - Math.floor(y / 400) : 0);
  }
  for (let m = 1; m < month; m += 1) days += monthDays(calendar, year, m);
  return days + date - 1;
}

/** The date `value` (in the units of `time`) is, in its calendar: `YYYY-MM-DDTHH:MM:SSZ`. */
export function cfDate(time: CfTime, value: number): string {
  const total = Math.round(time.day * 86400 + time.second + value * time.unitSeconds);
  let day = Math.floor(total / 86400);
  const secondOfDay = total - day * 86400;
  let year = 1 + Math.floor(day / 366);
  day -= dayNumber(time.calendar, year, 1, 1);
  while (day >= yearDays(time.calendar, year)) {
    day -= yearDays(time.calendar, year);
    year += 1;
  }
  while (day < 0) {
    year -= 1;
    day += yearDays(time.calendar, year);
  }
  let month = 1;
  while (day >= monthDays(time.calendar, year, month)) {
    day -= monthDays(time.calendar, year, month);
    month += 1;
  }
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  const hh = Math.floor(secondOfDay / 3600);
  const mm = Math.floor((secondOfDay % 3600) / 60);
  return `${pad(year, 4)}-${pad(month)}-${pad(day + 1)}T${pad(hh)}:${pad(mm)}:${pad(secondOfDay % 60)}Z`;
}
