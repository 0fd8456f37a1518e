/** `npm run chat`: the same bot in the terminal (same engine, library, shop and store as the server). */
import { createInterface } from 'node:readline/promises';
import { randomUUID } from 'node:crypto';
import { ConfigError, readConfig } from './config.ts';
import { createBot } from './bot.ts';
import { createLogger } from './server/logger.ts';
import { inboundFromWeb, toWebReply, webTopic, type WebReply } from './bots/webchat.ts';
import type { QuickReply } from './bots/messages.ts';

function show(reply: WebReply, options: QuickReply[]): void {
  const who = reply.from === 'agent' ? '客服' : '机器人';
  console.log(`\n${who}: ${reply.text}`);
  if (reply.card) {
    for (const line of reply.card.lines) console.log(`    · ${line.name} ${line.options} ×${line.qty}  ${line.price}`);
    console.log(`    合计 ${reply.card.total} ${reply.card.currency}${reply.card.tracking ? `  物流 ${reply.card.tracking}` : ''}`);
  }
  reply.quickReplies?.forEach((q) => { options.push(q); console.log(`    [${options.length}] ${q.label}`); });
}

async function main(): Promise<void> {
  let config;
  try { config = readConfig(process.env); } catch (error) {
    if (error instanceof ConfigError) { console.error(error.message); process.exit(2); }
    throw error;
  }
  const bot = await createBot(config, { log: createLogger(process.env.LOG_LEVEL ?? 'warn', process.stderr) });
  const sessionId = `terminal-${randomUUID()}`;
  let options: QuickReply[] = [];
  await bot.store.bus.subscribe(webTopic(sessionId), (payload) => { show(payload as unknown as WebReply, options); });
  bot.delivery.start();
  console.log('店铺客服（终端）— 输入消息后回车；数字选择快捷回复；Ctrl+D 退出。Type in Chinese or English.');
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: process.stdin.isTTY });
  for await (const line of rl) {
    const typed = line.trim();
    if (!typed) continue;
    const picked = /^\d{1,2}$/.test(typed) ? options[Number(typed) - 1] : undefined;
    options = [];
    const text = picked?.value ?? typed;
    if (picked) console.log(`您: ${picked.label}`);
    const result = await bot.pipeline.handle(inboundFromWeb({ sessionId, text }, new Date()));
    for (const reply of result.replies) show(toWebReply(reply), options);
    process.stdout.write('\n> ');
  }
  await bot.close();
}

void main();
