/** Login, logout, who-am-I, and the manager's staff accounts (docs/agent-api.md). */
import { Router } from 'express';
import { z } from 'zod';
import { NewStaff, SESSION_COOKIE, staffOf, type Auth } from './auth.ts';
import { parseOr400 } from './http-error.ts';

const Login = z.object({ username: z.string().min(1).max(64), password: z.string().min(1).max(200) }).strict();

export function staffRoutes(auth: Auth, opts: { secureCookies: boolean }): Router {
  const router = Router();
  const cookie = (value: string, maxAgeS: number): string =>
    `${SESSION_COOKIE}=${encodeURIComponent(value)}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeS}${opts.secureCookies ? '; Secure' : ''}`;

  router.post('/auth/login', async (req, res) => {
    const body = parseOr400(Login, req.body);
    const session = await auth.login(body.username, body.password, req.ip ?? 'unknown');
    res.setHeader('Set-Cookie', cookie(session.token, Math.floor((Date.parse(session.expiresAt) - Date.now()) / 1000)));
    res.json({ token: session.token, role: session.identity.role, username: session.identity.username, expiresAt: session.expiresAt });
  });

  router.post('/auth/logout', async (req, res) => {
    const token = auth.tokenOf(req);
    if (token) await auth.logout(token);
    res.setHeader('Set-Cookie', cookie('', 0));
    res.json({ ok: true });
  });

  router.get('/auth/me', auth.require('agent'), (req, res) => {
    res.json(staffOf(req));
  });

  router.post('/staff', auth.require('manager'), async (req, res) => {
    res.status(201).json(await auth.createStaff(parseOr400(NewStaff, req.body)));
  });

  router.get('/staff', auth.require('manager'), async (_req, res) => {
    res.json({ staff: await auth.listStaff() });
  });

  return router;
}
