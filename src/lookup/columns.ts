/** The read model's encodings: keys of its maps, codes of repeated strings, and fields packed into bytes. */
import { ROLES, type Role } from '../protocol/record.ts';

export const DAY_MS = 86_400_000;
/** 10000-01-01T00:00:00Z: the first instant toISOString writes with six year digits. */
export const MAX_ISO_MS = 253_402_300_800_000;

export function codeOf<T>(list: readonly T[], value: T): number {
  const code = list.indexOf(value);
  if (code < 0) throw new Error(`not a known code: ${String(value)}`);
  return code;
}

export function grow<T extends Float64Array | Int32Array | Uint8Array | Uint16Array>(
  from: ArrayLike<number>,
  to: T,
): T {
  to.set(from);
  return to;
}

/** The capacity a column of `n` entries is given when it is built whole (from a snapshot): room to grow. */
export const roomFor = (n: number) => Math.max(1024, n + (n >> 3));
/** The same for a key arena of `n` code units. */
export const arenaRoomFor = (n: number) => Math.max(16 * 1024, n + (n >> 3));

/**
 * The buffer behind `view` when the view starts it and the buffer can be taken as a column of at least
 * `minBytes` (a whole number of `unit` bytes); undefined when the view must be copied instead.
 */
export function adoptable(view: ArrayBufferView, minBytes: number, unit: number): ArrayBuffer | undefined {
  const { buffer } = view;
  if (!(buffer instanceof ArrayBuffer) || view.byteOffset !== 0) return undefined;
  return buffer.byteLength >= minBytes && buffer.byteLength % unit === 0 ? buffer : undefined;
}

interface ColumnType<T> {
  new (length: number): T;
  new (buffer: ArrayBuffer, byteOffset: number, length: number): T;
  readonly BYTES_PER_ELEMENT: number;
}

/**
 * A column of exactly `room` entries starting with those of `view`. With `adopt`, it is a view of the buffer
 * behind `view` when that buffer has the room (adoptable), not a copy: only for columns no one else holds, as
 * those a snapshot was just decoded into.
 */
export function withRoom<T extends Int32Array<ArrayBuffer> | Uint16Array<ArrayBuffer>>(
  view: T | Int32Array | Uint16Array,
  room: number,
  adopt: boolean,
  type: ColumnType<T>,
): T {
  const unit = type.BYTES_PER_ELEMENT;
  const own = adopt ? adoptable(view, room * unit, unit) : undefined;
  return own === undefined ? grow(view, new type(room)) : new type(own, 0, room);
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function uuidOf(bytes: Uint8Array, at: number): string {
  let h = '';
  for (let i = 0; i < 16; i += 1) {
    if (i === 4 || i === 6 || i === 8 || i === 10) h += '-';
    h += HEX[bytes[at + i]!]!;
  }
  return h;
}

/** YYYY-MM-DD of a day number (days since 1970-01-01). */
export function dayString(day: number): string {
  return day >= 0 && day < 2_932_897 ? dateOfDay(day) : new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** The roles of a mask, in ROLES order. */
export function rolesOfMask(mask: number): Role[] {
  return ROLES.filter((_, i) => (mask & (1 << i)) !== 0);
}

/** The mask of a list of roles: bit i set for ROLES[i]. */
export function maskOfRoles(roles: Iterable<Role>): number {
  let mask = 0;
  for (const r of roles) mask |= 1 << codeOf(ROLES, r);
  return mask;
}

const pad2 = (n: number) => (n < 10 ? `0${n}` : `${n}`);

/**
 * Date.prototype.toISOString for epoch milliseconds of years 1970–9999, without a Date: it is the largest
 * cost of writing an answer otherwise. Civil date from a day number: H. Hinnant, "chrono-Compatible Low-Level
 * Date Algorithms".
 */
export function isoOfMs(ms: number): string {
  if (!(ms >= 0 && ms < MAX_ISO_MS) || !Number.isInteger(ms)) return new Date(ms).toISOString();
  const [day, hour, minute, second, milli] = partsOfMs(ms);
  const msText = milli < 10 ? `00${milli}` : milli < 100 ? `0${milli}` : `${milli}`;
  return `${dateOfDay(day)}T${pad2(hour)}:${pad2(minute)}:${pad2(second)}.${msText}Z`;
}

/** Day number, hour, minute, second and millisecond of non-negative integer epoch milliseconds. */
export function partsOfMs(ms: number): [number, number, number, number, number] {
  const day = Math.floor(ms / DAY_MS);
  let rest = ms - day * DAY_MS;
  const milli = rest % 1000;
  rest = (rest - milli) / 1000;
  const second = rest % 60;
  rest = (rest - second) / 60;
  const minute = rest % 60;
  return [day, (rest - minute) / 60, minute, second, milli];
}

/** YYYY-MM-DD of a day number (days since 1970-01-01, years 1970–9999). */
function dateOfDay(day: number): string {
  const [y, m, d] = civil(day);
  return `${y}-${pad2(m)}-${pad2(d)}`;
}

/** Year, month (1–12) and day (1–31) of a day number since 1970-01-01 (non-negative). */
export function civil(day: number): [number, number, number] {
  const z = day + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, d];
}
