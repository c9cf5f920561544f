/**
 * Just enough of the CronJob schedule grammar (robfig/cron "standard" parser, which the
 * Kubernetes CronJob controller uses) to tell how far apart runs can be.
 */

export interface CronSchedule {
  readonly minutes: readonly number[];
  readonly hours: readonly number[];
  readonly daysOfMonth: ReadonlySet<number>;
  readonly months: ReadonlySet<number>;
  readonly daysOfWeek: ReadonlySet<number>;
  /** True when the day-of-month or day-of-week field starts with `*` (then both must match). */
  readonly dayFieldsAnded: boolean;
}

export class CronSyntaxError extends Error {}

interface FieldSpec {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
}

const MINUTE: FieldSpec = { name: 'minute', min: 0, max: 59 };
const HOUR: FieldSpec = { name: 'hour', min: 0, max: 23 };
const DAY_OF_MONTH: FieldSpec = { name: 'day-of-month', min: 1, max: 31 };
const MONTH: FieldSpec = {
  name: 'month',
  min: 1,
  max: 12,
  names: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'],
};
// 7 is accepted as Sunday, as robfig/cron does.
const DAY_OF_WEEK: FieldSpec = {
  name: 'day-of-week',
  min: 0,
  max: 7,
  names: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'],
};

const DESCRIPTORS: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

function parseValue(text: string, spec: FieldSpec): number {
  const named = spec.names?.indexOf(text.toLowerCase()) ?? -1;
  if (named >= 0) return named + (spec.name === 'month' ? 1 : 0);
  if (!/^\d+$/.test(text)) {
    throw new CronSyntaxError(`${spec.name} field has "${text}", which is not a number`);
  }
  const value = Number(text);
  if (value < spec.min || value > spec.max) {
    throw new CronSyntaxError(`${spec.name} field has ${value}, outside ${spec.min}-${spec.max}`);
  }
  return value;
}

function parseField(field: string, spec: FieldSpec): Set<number> {
  const values = new Set<number>();
  for (const part of field.split(',')) {
    const [range = '', stepText, extra] = part.split('/');
    if (extra !== undefined || range === '') {
      throw new CronSyntaxError(`${spec.name} field has "${part}", which is not a value, range or step`);
    }
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) === 0) {
        throw new CronSyntaxError(`${spec.name} field has step "/${stepText}"; a step is a positive number`);
      }
      step = Number(stepText);
    }
    let low: number;
    let high: number;
    if (range === '*' || range === '?') {
      [low, high] = [spec.min, spec.max];
    } else if (range.includes('-')) {
      const [from = '', to = ''] = range.split('-');
      [low, high] = [parseValue(from, spec), parseValue(to, spec)];
      if (low > high) {
        throw new CronSyntaxError(`${spec.name} field has range "${range}", which runs backwards`);
      }
    } else {
      low = parseValue(range, spec);
      // "5/15" means 5-max every 15, as in robfig/cron.
      high = stepText === undefined ? low : spec.max;
    }
    for (let value = low; value <= high; value += step) values.add(value);
  }
  return values;
}

export function parseCron(schedule: string): CronSchedule {
  const trimmed = schedule.trim();
  if (/^(CRON_)?TZ=/.test(trimmed)) {
    throw new CronSyntaxError('time zone prefixes are rejected by Kubernetes CronJobs');
  }
  if (trimmed.startsWith('@')) {
    const expansion = DESCRIPTORS[trimmed.toLowerCase()];
    if (expansion === undefined) {
      throw new CronSyntaxError(`"${trimmed}" is not one of ${Object.keys(DESCRIPTORS).join(', ')}`);
    }
    return parseCron(expansion);
  }
  const fields = trimmed.split(/\s+/);
  if (fields.length !== 5) {
    throw new CronSyntaxError(
      `it has ${fields.length} fields; a schedule has 5 (minute hour day-of-month month day-of-week)`,
    );
  }
  const [minute = '', hour = '', dayOfMonth = '', month = '', dayOfWeek = ''] = fields;
  const daysOfWeek = parseField(dayOfWeek, DAY_OF_WEEK);
  if (daysOfWeek.delete(7)) daysOfWeek.add(0);
  return {
    minutes: [...parseField(minute, MINUTE)].sort((a, b) => a - b),
    hours: [...parseField(hour, HOUR)].sort((a, b) => a - b),
    daysOfMonth: parseField(dayOfMonth, DAY_OF_MONTH),
    months: parseField(month, MONTH),
    daysOfWeek,
    dayFieldsAnded: dayOfMonth.startsWith('*') || dayOfWeek.startsWith('*'),
  };
}

function runsOn(schedule: CronSchedule, day: Date): boolean {
  if (!schedule.months.has(day.getUTCMonth() + 1)) return false;
  const domMatch = schedule.daysOfMonth.has(day.getUTCDate());
  const dowMatch = schedule.daysOfWeek.has(day.getUTCDay());
  return schedule.dayFieldsAnded ? domMatch && dowMatch : domMatch || dowMatch;
}

export interface RunGaps {
  /** Longest time between two consecutive runs, in minutes. */
  readonly longestMinutes: number;
  /** Shortest time between two consecutive runs, in minutes. */
  readonly shortestMinutes: number;
}

const MINUTES_PER_DAY = 24 * 60;
// Eight years cover every weekday/month-length/leap-year combination a schedule can hit
// except "29 Feb on a given weekday", which needs 28; no refresh schedule hinges on that.
const SIMULATED_DAYS = 8 * 366;

/** Gaps between consecutive runs, computed from the calendar (UTC), not guessed from steps. */
export function runGaps(schedule: CronSchedule): RunGaps {
  const timesOfDay = schedule.hours.flatMap((hour) => schedule.minutes.map((minute) => hour * 60 + minute));
  let shortest = Infinity;
  for (let i = 1; i < timesOfDay.length; i++) {
    shortest = Math.min(shortest, timesOfDay[i]! - timesOfDay[i - 1]!);
  }
  let longest = 0;
  for (let i = 1; i < timesOfDay.length; i++) {
    longest = Math.max(longest, timesOfDay[i]! - timesOfDay[i - 1]!);
  }
  const first = timesOfDay[0]!;
  const last = timesOfDay[timesOfDay.length - 1]!;
  let previousRunDay: number | undefined;
  let runDays = 0;
  const start = Date.UTC(2024, 0, 1);
  for (let day = 0; day < SIMULATED_DAYS; day++) {
    if (!runsOn(schedule, new Date(start + day * MINUTES_PER_DAY * 60_000))) continue;
    if (previousRunDay !== undefined) {
      const overnight = (day - previousRunDay) * MINUTES_PER_DAY + first - last;
      longest = Math.max(longest, overnight);
      shortest = Math.min(shortest, overnight);
    }
    previousRunDay = day;
    runDays++;
  }
  if (runDays < 2) return { longestMinutes: Infinity, shortestMinutes: Infinity };
  return { longestMinutes: longest, shortestMinutes: shortest };
}
