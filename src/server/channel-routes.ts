/** The manager's view of the channels: WeChat login state with its QR code, and logout. */
import { Router } from 'express';
import QRCode from 'qrcode';
import type { Channels } from '../bots/channels.ts';
import type { Auth } from './auth.ts';
import { HttpError } from './http-error.ts';

export function channelRoutes(auth: Auth, channels: Channels): Router {
  const router = Router();
  const manager = auth.require('manager');

  router.get('/channels', manager, (_req, res) => {
    res.json(channels.status());
  });

  /** The login QR code as an SVG image, while a scan is awaited. */
  router.get('/channels/wechat/qr.svg', manager, async (_req, res) => {
    const qrcode = channels.status().wechat?.qrcode;
    if (!qrcode) throw new HttpError(404, 'no_qrcode', 'WeChat is not waiting for a scan');
    res.type('image/svg+xml').send(await QRCode.toString(qrcode, { type: 'svg', margin: 1 }));
  });

  router.post('/channels/wechat/logout', manager, async (_req, res) => {
    if (!channels.wechat) throw new HttpError(404, 'wechat_off', 'WeChat is not on in this process');
    await channels.wechat.logout();
    res.json({ ok: true });
  });

  return router;
}
