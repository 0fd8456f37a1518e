/** Words that act anywhere in a conversation (转人工, 算了) and the customer's mood as far as words show it. */
import type { ControlWord, Sentiment } from './types.ts';
import { normalize } from './text.ts';

// Asking for a person, anywhere in the message.
const HUMAN_REQUEST = new RegExp([
  '转人工', '人工客服', '人工服务', '人工坐席', '人工介入', '找人工', '要人工', '接人工', '叫人工', '换人工',
  '真人', '活人', '找客服', '叫客服', '要客服', '换客服', '客服呢', '客服在哪', '找你们(?:领导|主管|经理|负责人)',
  '找(?:领导|主管|经理)', '(?:叫|让)(?:你们)?(?:领导|主管|经理)',
  '\\breal (?:person|human|people)\\b', '\\blive (?:agent|person|chat|support)\\b',
  '\\b(?:talk|speak|chat)(?:ing)? (?:to|with) (?:a |an |the |your )?(?:human|person|agent|someone|somebody|representative|rep|staff|manager|supervisor)\\b',
  '\\b(?:transfer|connect|put) me (?:to|with)\\b', '\\bhuman (?:agent|support|being)\\b',
].join('|'));
// A bare "人工" / "agent" / "客服" only counts as the (nearly) whole message.
const HUMAN_SHORT = /^(?:人工|客服|人工人工|人工啊|人工呢|agent|human|operator|representative|customer service|customer support|support|person)$/;
// "不要转人工" / "no need for a human" turn the request around.
const HUMAN_NEGATED = /(?:不要|不用|不需要|别|无需)(?:转|找|叫)?(?:人工|客服|真人)|no need (?:for|to)|don'?t (?:need|want) (?:a |an )?(?:human|agent|person)/;

// "Leave this" phrases; a message counts only when it is made of nothing else.
const CANCEL_ZH = /^(?:那|那就|还是|先|哎|唉|嗯)?(?:算了|取消|不用了|不改了|不要了|不退了|不换了|不买了|不弄了|不办了|不查了|先这样|先这样吧|没事了|不需要了|再说|再说吧|退出|不想改了|不想退了|不想换了)(?:吧|了|啊|呀|哈|吧了)*$/;
const CANCEL_EN = /^(?:cancel|cancel it|cancel that|cancel this|never ?mind|stop|stop it|forget it|forget about it|forget that|quit|exit|leave it|no need|not anymore|dont bother)$/;
const FILLER = /^(?:谢谢|谢了|多谢|麻烦了|谢谢你|thanks|thank you|thx|please|pls|ok|好|好吧)$/;

/**
 * 'human' when the customer asks for a person (转人工, 真人, talk to a human) anywhere in the
 * message; 'cancel' when the whole message means "leave this" (算了, 取消, 不用了, never mind).
 * "取消订单" and "cancel my order" are the cancel-order intent, not a control word.
 */
export function controlWord(text: string): ControlWord | null {
  const n = normalize(text);
  if (!n) return null;
  if (!HUMAN_NEGATED.test(n)) {
    if (HUMAN_REQUEST.test(n)) return 'human';
    const bare = n.replace(/[\s\p{P}\p{S}]+/gu, ' ').trim().replace(/^(?:我要|我想|我找|要|找|请|please|i want|i need|i want to talk to|get me)\s*(?:an?\s+)?/, '').trim();
    if (HUMAN_SHORT.test(bare)) return 'human';
  }
  // English phrases span spaces: the whole message is tested first, then clause by clause for Chinese.
  const words = n.replace(/'/g, '').replace(/[\p{P}\p{S}]+/gu, ' ').replace(/\b(?:thanks|thank you|please|ok)\b/g, ' ')
    .replace(/\s+/g, ' ').trim();
  if (CANCEL_EN.test(words)) return 'cancel';
  const clauses = n.split(/[\s\p{P}\p{S}]+/u)
    .map((c) => c.replace(/(?:谢谢你?|谢了|多谢|麻烦了)$/, '') || c)
    .filter((c) => c && !FILLER.test(c));
  if (clauses.length > 0 && clauses.every((c) => CANCEL_ZH.test(c))) return 'cancel';
  return null;
}

// ---------------------------------------------------------------------------------------------
// Sentiment

const ABUSE = new RegExp([
  '傻逼', '傻b', '傻比', '煞笔', '沙比', '傻x', '傻叉', '脑残', '智障', '白痴', '弱智', '废物', '狗东西', '畜生',
  '去死', '你妈', '尼玛', '他妈的?', '妈的', 'tmd', 'nmsl', 'cnm', '草泥马', '操你', '日你', '王八蛋', '混蛋',
  '滚(?!边|筒|动|轮|烫)', '垃圾', '骗子', '贱人', '\\bsb\\b',
  '\\bfuck', '\\bshit', '\\bidiot', '\\bstupid', '\\bbastard', '\\bbitch', '\\basshole', '\\bwtf\\b', '\\bscam(?:mer)?s?\\b', '\\bmoron',
].join('|'));
const ANGER = new RegExp([
  '投诉', '气死', '太差', '什么破', '破(?:衣服|东西|店|质量|快递)', '退钱', '差评', '举报', '12315', '消协', '消费者协会', '工商局',
  '坑人', '坑爹', '黑店', '忍无可忍', '受够', '欺骗', '恶心', '太过分', '过分了', '凭什么', '搞什么', '什么玩意',
  '\\bcomplain', '\\bridiculous', '\\bunacceptable', '\\bterrible', '\\bworst\\b', '\\bawful', '\\bfurious', '\\bangry\\b',
  '\\bdisgusting', '\\bpathetic', '\\breport you', '\\bunbelievable',
].join('|'), 'g');
const NEGATIVE = new RegExp([
  '不满意', '失望', '太慢', '好慢', '很慢', '真慢', '这么慢', '慢死', '发货慢', '物流慢', '还没到', '还没发货', '还不发货',
  '怎么还没', '等了好久', '等了很久', '等好久', '质量差', '质量不好', '不好看', '掉色', '起球', '破了', '坏了', '质量有问题', '出问题', '无语',
  '色差', '缩水', '开线', '不合适', '麻烦死', '郁闷', '不开心', '生气', '着急', '急死',
  '\\bdisappoint', '\\bunhappy', '\\bnot happy', '\\bslow\\b', '\\bstill not', '\\bstill hasn', '\\bpoor\\b', '\\bbad\\b',
  '\\blate\\b', '\\bbroken', '\\bdamaged', '\\bwaiting for', '\\bupset',
].join('|'), 'g');
// Shouting: a run of !!! or ???, or "!?" mixtures.
const SHOUTING = /[!?]{3,}|(?:[!][?]|[?][!]){1,}/;

/**
 * 'abusive' for insults and swearing, 'angry' for strong complaint words (投诉, 差评, 退钱...) or
 * displeasure said with force (several complaints, !!!, shouting in capitals), 'negative' for
 * displeasure (不满意, 太慢, disappointed), otherwise 'neutral'.
 */
export function sentiment(text: string): Sentiment {
  const n = normalize(text);
  if (!n) return 'neutral';
  if (ABUSE.test(n)) return 'abusive';
  const anger = n.match(ANGER)?.length ?? 0;
  if (anger > 0) return 'angry';
  const negative = n.match(NEGATIVE)?.length ?? 0;
  const shouting = SHOUTING.test(n) || /\b[A-Z]{4,}\b/.test(text.normalize('NFKC'));
  if (negative > 0 && (shouting || negative >= 3)) return 'angry';
  if (negative > 0) return 'negative';
  return 'neutral';
}
