/** Logs keep personal data and secrets out, whatever part logs them. */
import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { createLogger } from '../src/server/logger.ts';

function capture(): { lines: string[]; stream: Writable } {
  const lines: string[] = [];
  return { lines, stream: new Writable({ write(chunk, _e, done) { lines.push(String(chunk)); done(); } }) };
}

describe('logger', () => {
  it('masks phone numbers in fields and messages, hides addresses, removes secrets', () => {
    const { lines, stream } = capture();
    const log = createLogger('info', stream);
    log.info({ text: '我的手机号是13812345678', customer: { phone: '+86 139-8765-4321', address: { detail: '科技园路88号' } }, password: 'hunter22', headers: { authorization: 'Bearer abc' } }, '客户 13698765432 来信');
    const out = lines.join('');
    expect(out).not.toMatch(/13812345678|13698765432|科技园路88号|hunter22|Bearer abc/);
    expect(out).toContain('138****5678');
    expect(out).toContain('136****5432');
    expect(out).toContain('[redacted]');
    expect(out).toContain('[address]');
  });
});
