/**
 * Staff accounts and sessions: scrypt-hashed passwords in the store, signed session tokens
 * (HMAC with a secret kept in the store, so every process accepts them) that expire, a login
 * rate limit, and middleware that knows who is an agent and who is a manager.
 */
import { createHmac, randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import type { Request, RequestHandler } from 'express';
import { z } from 'zod';
import { VersionConflict, type DocumentStore } from '../store/types.ts';
import { HttpError } from './http-error.ts';

const scrypt = promisify(scryptCb) as (password: string, salt: Buffer, keylen: number) => Promise<Buffer>;

export const Role = z.enum(['agent', 'manager']);
export type Role = z.infer<typeof Role>;

export const NewStaff = z.object({
  username: z.string().regex(/^[a-z0-9_.-]{3,32}$/, '3–32 of a-z 0-9 _ . -'),
  password: z.string().min(8, 'at least 8 characters').max(200),
  role: Role,
  displayName: z.string().trim().min(1).max(40).optional(),
}).strict();
export type NewStaff = z.infer<typeof NewStaff>;

/** Who is asking, after authentication. */
export interface StaffIdentity {
  username: string;
  role: Role;
  displayName: string;
}

const STAFF = 'staff';
const SETTINGS = 'settings';
/** Signatures of tokens ended by logout, until they would have expired. */
const REVOKED = 'sessions_revoked';
const SESSION_HOURS = 12;
export const SESSION_COOKIE = 'staff_session';

async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scrypt(password, salt, 32);
  return `scrypt$${salt.toString('base64')}$${hash.toString('base64')}`;
}

async function passwordMatches(password: string, stored: string): Promise<boolean> {
  const [scheme, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = await scrypt(password, Buffer.from(salt, 'base64'), expected.length);
  return timingSafeEqual(actual, expected);
}

/** Failed logins per username and address; in-process (each process limits on its own). */
class LoginLimiter {
  private readonly failures = new Map<string, number[]>();
  constructor(private readonly max = 5, private readonly windowMs = 15 * 60_000) {}

  blocked(key: string, now: number): boolean {
    const recent = (this.failures.get(key) ?? []).filter((t) => now - t < this.windowMs);
    this.failures.set(key, recent);
    return recent.length >= this.max;
  }

  failed(key: string, now: number): void {
    this.failures.set(key, [...(this.failures.get(key) ?? []), now]);
  }

  succeeded(key: string): void {
    this.failures.delete(key);
  }
}

export interface Auth {
  /** Creates the first manager when there is no account (from ADMIN_USER/ADMIN_PASSWORD, or a demo one). */
  ensureFirstManager(admin: { username?: string; password?: string }): Promise<{ created: boolean; username?: string; password?: string }>;
  createStaff(input: NewStaff): Promise<StaffIdentity>;
  listStaff(): Promise<(StaffIdentity & { createdAt: string; onDuty: boolean })[]>;
  login(username: string, password: string, address: string): Promise<{ token: string; identity: StaffIdentity; expiresAt: string }>;
  /** Ends a session: its token is refused from now on, in every process. */
  logout(token: string): Promise<void>;
  /** The token a request carries (Authorization: Bearer, or the session cookie). */
  tokenOf(req: Request): string | undefined;
  /** Middleware: the caller must be staff with one of these roles. */
  require(...roles: Role[]): RequestHandler;
}

/** The identity `require` put on the request. */
export function staffOf(req: Request): StaffIdentity {
  const identity = (req as Request & { staff?: StaffIdentity }).staff;
  if (!identity) throw new HttpError(401, 'unauthorized', 'log in first');
  return identity;
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return decodeURIComponent(rest.join('='));
  }
  return undefined;
}

export function createAuth(docs: DocumentStore, now: () => Date = () => new Date()): Auth {
  const limiter = new LoginLimiter();
  let secret: Buffer | undefined;

  /** The signing secret, made once and shared by every process through the store. */
  async function signingSecret(): Promise<Buffer> {
    if (secret) return secret;
    const stored = await docs.get(SETTINGS, 'session-secret');
    if (stored && typeof stored.doc.secret === 'string') return (secret = Buffer.from(stored.doc.secret, 'base64'));
    try {
      await docs.put(SETTINGS, 'session-secret', { secret: randomBytes(32).toString('base64') }, 0);
    } catch (error) {
      if (!(error instanceof VersionConflict)) throw error; // another process made it first
    }
    return signingSecret();
  }

  const sign = (payload: string, key: Buffer): string => createHmac('sha256', key).update(payload).digest('base64url');

  async function identify(token: string): Promise<StaffIdentity | null> {
    const [payload, signature] = token.split('.');
    if (!payload || !signature) return null;
    const expected = Buffer.from(sign(payload, await signingSecret()));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
    const claims = z.object({ u: z.string(), exp: z.number() }).safeParse(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')));
    if (!claims.success || claims.data.exp <= now().getTime()) return null;
    if (await docs.get(REVOKED, signature)) return null;
    // The account is read again: a removed account or a changed role takes effect at once.
    const account = await docs.get(STAFF, claims.data.u);
    if (!account) return null;
    return { username: account.id, role: Role.parse(account.doc.role), displayName: String(account.doc.displayName ?? account.id) };
  }

  const auth: Auth = {
    async ensureFirstManager(admin) {
      if ((await docs.list(STAFF)).length > 0) return { created: false };
      const username = admin.username ?? 'admin';
      const password = admin.password ?? randomBytes(9).toString('base64url');
      try {
        await auth.createStaff({ username, password, role: 'manager', displayName: '店长' });
      } catch (error) {
        if (error instanceof HttpError && error.code === 'exists') return { created: false };
        throw error;
      }
      return { created: true, username, password: admin.password ? undefined : password };
    },

    async createStaff(input) {
      const account = { role: input.role, displayName: input.displayName ?? input.username, passwordHash: await hashPassword(input.password), createdAt: now().toISOString() };
      try {
        await docs.put(STAFF, input.username, account, 0);
      } catch (error) {
        if (error instanceof VersionConflict) throw new HttpError(409, 'exists', `an account named ${input.username} exists`);
        throw error;
      }
      return { username: input.username, role: input.role, displayName: account.displayName };
    },

    async listStaff() {
      const onDuty = new Set((await docs.list('duty')).map((d) => d.id));
      return (await docs.list(STAFF))
        .map((d) => ({ username: d.id, role: Role.parse(d.doc.role), displayName: String(d.doc.displayName ?? d.id), createdAt: String(d.doc.createdAt ?? ''), onDuty: onDuty.has(d.id) }))
        .sort((a, b) => a.username.localeCompare(b.username));
    },

    async login(username, password, address) {
      const key = `${username}|${address}`;
      const at = now().getTime();
      if (limiter.blocked(key, at)) throw new HttpError(429, 'too_many_attempts', 'too many failed logins; try again in 15 minutes');
      const account = await docs.get(STAFF, username);
      const ok = account !== null && typeof account.doc.passwordHash === 'string' && await passwordMatches(password, account.doc.passwordHash);
      if (!account || !ok) {
        limiter.failed(key, at);
        throw new HttpError(401, 'bad_credentials', 'wrong username or password');
      }
      limiter.succeeded(key);
      const exp = at + SESSION_HOURS * 3_600_000;
      const payload = Buffer.from(JSON.stringify({ u: username, exp })).toString('base64url');
      return {
        token: `${payload}.${sign(payload, await signingSecret())}`,
        identity: { username, role: Role.parse(account.doc.role), displayName: String(account.doc.displayName ?? username) },
        expiresAt: new Date(exp).toISOString(),
      };
    },

    async logout(token) {
      const [payload, signature] = token.split('.');
      if (!payload || !signature || !(await identify(token))) return;
      const exp = Number((JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: number }).exp ?? 0);
      try {
        await docs.put(REVOKED, signature, { exp }, 0);
      } catch (error) {
        if (!(error instanceof VersionConflict)) throw error;
      }
      // Revocations of expired tokens are no longer needed: an expired token is refused anyway.
      for (const old of await docs.list(REVOKED)) if (Number(old.doc.exp) <= now().getTime()) await docs.delete(REVOKED, old.id);
    },

    tokenOf(req) {
      const header = req.headers.authorization;
      return header?.startsWith('Bearer ') ? header.slice(7).trim() : cookieValue(req.headers.cookie, SESSION_COOKIE);
    },

    require(...roles) {
      return async (req, _res, next) => {
        try {
          const token = auth.tokenOf(req);
          const identity = token ? await identify(token) : null;
          if (!identity) throw new HttpError(401, 'unauthorized', 'log in first');
          // A manager may do everything an agent may.
          if (!roles.includes(identity.role) && !(identity.role === 'manager' && roles.includes('agent'))) {
            throw new HttpError(403, 'forbidden', `this needs the role ${roles.join(' or ')}`);
          }
          (req as Request & { staff?: StaffIdentity }).staff = identity;
          next();
        } catch (error) {
          next(error);
        }
      };
    },
  };
  return auth;
}
