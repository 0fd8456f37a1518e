/** How to address a customer, as the handbooks ask: surname with 先生/女士 where known. */
import type { Text } from '../flows/schema.ts';

/** Two-character surnames common enough to matter; any other name's surname is its first character. */
const COMPOUND_SURNAMES = ['欧阳', '司马', '上官', '诸葛', '东方', '皇甫', '尉迟', '公孙', '慕容', '长孙', '夏侯', '令狐', '宇文', '司徒'];

/** The surname of a Chinese name, or null for a name that is not Chinese. */
export function surnameOf(name: string): string | null {
  const trimmed = name.trim();
  if (!/^[\u4e00-\u9fff]{2,4}$/.test(trimmed)) return null;
  return COMPOUND_SURNAMES.find((s) => trimmed.startsWith(s)) ?? trimmed.slice(0, 1);
}

/**
 * "张先生" / "Mr. Zhang" when the shop knows the customer's gender; the full name when it does not;
 * null when nothing is known (the greeting then says just 您好).
 */
export function salutationOf(customer: { name: string; gender?: 'male' | 'female' } | null, displayName?: string): Text | null {
  const name = customer?.name ?? displayName;
  if (!name) return null;
  const surname = surnameOf(name);
  const gender = customer?.gender;
  if (surname && gender) {
    const title = gender === 'male' ? '先生' : '女士';
    const en = gender === 'male' ? 'Mr.' : 'Ms.';
    return { zh: `${surname}${title}`, en: `${en} ${surname}` };
  }
  const clean = name.replace(/[\p{C}]/gu, '').slice(0, 20);
  return clean ? { zh: clean, en: clean } : null;
}
