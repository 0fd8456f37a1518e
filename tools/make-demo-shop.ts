/**
 * Writes data/demo-shop.json, the demo clothing shop, deterministically: `npx tsx tools/make-demo-shop.ts`.
 *
 * Seeded PRNG and a fixed "now" (DEMO_BASE_TIME, 2026-11-01T00:00:00+08:00), so the same file comes
 * out every time. Tests and docs rely on these fixtures; change them only together with those:
 *
 * Customers
 *   C001 张伟 (male)   phone 13812345678, wechatId `wxid_zhangwei`, no telegramId; has exactly the 5 orders below
 *   C002 李娜 (female) phone 13987654321, telegramId `5123456789`, no wechatId
 *   C003 王芳 (female) phone 15867204523, wechatId `wxid_wangfang88`, telegramId `6234567890`
 *   C004 刘洋 (male)   phone 13698765432, no channel identity (proves orders by phone last 4: 5432)
 * Orders (id = E + creation date + sequence of the day)
 *   E20261030001 张伟 paid: line 0 P001-WHT-L ×1 (纯棉圆领T恤 白色/L ¥79), line 1 P012-LBL-29 ×1 (高腰直筒牛仔裤 浅蓝色/29 ¥229)
 *   E20261027001 张伟 shipped, 顺丰速运 SF1402837765012
 *   E20261025001 张伟 delivered 2026-10-29T15:20+08:00 (inside the 7-day window): P010-GRY-XL ×1 (加绒连帽卫衣)
 *   E20261008001 张伟 delivered 2026-10-12T10:05+08:00 (20 days before now, window passed): P019-CML-M ×1
 *   E20261031001 张伟 pending_payment: P001-WHT-M ×2
 *   E20261029001 刘洋 paid, address phone 13698765432: P022-BLK-L ×1
 *   E20261020001 李娜 return_requested (afterSale return of P007-BFL-M, requested)
 *   E20261018001 王芳 exchange_requested (afterSale exchange P024-BLK-S → P024-BLK-M, requested)
 * Products and stock
 *   P001 纯棉圆领T恤: colours 白色 黑色 藏青色 灰色 粉色 × S–XXL; P001-WHT-L 50, P001-WHT-M 30,
 *        P001-BLK-L 20, P001-BLK-XXL 0 (out of stock), P001-PNK-L 1 (the last piece)
 *   P010 加绒连帽卫衣: P010-GRY-L 15, P010-GRY-XXL 0;  P012 高腰直筒牛仔裤 (sizes 26–34): P012-LBL-29 12
 *   P029 针织毛线帽 and P030/P031 均码 only; P032 真丝方巾 has a colour and no size; P014 阔腿牛仔裤 has a third option `length`
 * Promotions
 *   PROMO-1111 双11 (valid at now), PROMO-NEW 新客首单 (valid all 2026), PROMO-AUTUMN 秋装上新 (ended 2026-10-15)
 */
import { writeFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { DEMO_BASE_TIME, DEMO_SHOP_PATH } from '../src/commerce/demo-shop.ts';
import { parseShopData } from '../src/commerce/schema.ts';
import type { AfterSale, Customer, Order, OrderItem, OrderNote, OrderStatus, Product, Promotion, Shipment, ShopData, SizeChartRow, Variant } from '../src/commerce/schema.ts';
import { prng } from '../src/shared/prng.ts';

const SEED = 20261101;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const BASE = Date.parse(DEMO_BASE_TIME);

class Dice {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = prng(seed);
  }
  /** Uniform in [min, max). */
  real(min: number, max: number): number {
    return min + (max - min) * this.next();
  }
  /** Uniform whole number in [min, max]. */
  int(min: number, max: number): number {
    return Math.floor(this.real(min, max + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }
  digits(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += String(this.int(0, 9));
    return s;
  }
}

/** A time in the shop's zone (+08:00), to the minute, as the data file writes it. */
function cst(ms: number): string {
  const rounded = Math.round(ms / MINUTE) * MINUTE;
  return `${new Date(rounded + 8 * HOUR).toISOString().slice(0, 19)}+08:00`;
}

/** A fixed wall-clock time in Shanghai. */
function at(date: string, time: string): number {
  return Date.parse(`${date}T${time}:00+08:00`);
}

/**
 * Moves a time into working hours of its own day in Shanghai (`[startH, endH)`): couriers deliver
 * and warehouses ship by day, and few people shop at 4 a.m.
 */
function clampHours(dice: Dice, ms: number, startH: number, endH: number): number {
  const local = ms + 8 * HOUR;
  const dayStart = local - (((local % DAY) + DAY) % DAY);
  const hour = (local - dayStart) / HOUR;
  if (hour >= startH && hour < endH) return ms;
  const target = hour < startH ? startH + dice.real(0, 1) : endH - 1 + dice.real(0, 1);
  return dayStart + target * HOUR - 8 * HOUR;
}

// ---------------------------------------------------------------- catalog

const COLORS = {
  WHT: '白色',
  BLK: '黑色',
  NVY: '藏青色',
  KHK: '卡其色',
  PNK: '粉色',
  GRY: '灰色',
  IVR: '米白色',
  LBL: '浅蓝色',
  DBL: '深蓝色',
  WIN: '酒红色',
  CML: '驼色',
  OLV: '军绿色',
  APR: '杏色',
  BFL: '蓝色碎花',
  YFL: '黄色碎花',
  RED: '红色',
} as const;
type ColorCode = keyof typeof COLORS;

const row = (size: string, h: [number, number], w: [number, number]): SizeChartRow => ({ size, heightCm: h, weightKg: w });

const SIZE_SETS = {
  unisex: {
    sizes: ['S', 'M', 'L', 'XL', 'XXL'],
    chart: [row('S', [155, 165], [45, 55]), row('M', [160, 170], [52, 62]), row('L', [165, 175], [60, 72]), row('XL', [170, 180], [70, 82]), row('XXL', [175, 185], [80, 95])],
  },
  women: {
    sizes: ['S', 'M', 'L', 'XL'],
    chart: [row('S', [150, 158], [40, 48]), row('M', [155, 163], [46, 54]), row('L', [160, 168], [52, 60]), row('XL', [165, 173], [58, 68])],
  },
  jeans: {
    sizes: ['26', '27', '28', '29', '30', '31', '32', '33', '34'],
    chart: [
      row('26', [150, 160], [40, 47]),
      row('27', [155, 163], [45, 50]),
      row('28', [158, 166], [48, 54]),
      row('29', [160, 168], [52, 58]),
      row('30', [163, 172], [56, 63]),
      row('31', [165, 175], [60, 67]),
      row('32', [168, 178], [64, 72]),
      row('33', [170, 180], [68, 76]),
      row('34', [172, 183], [72, 82]),
    ],
  },
  jeansWomen: {
    sizes: ['25', '26', '27', '28', '29', '30'],
    chart: [row('25', [148, 156], [38, 44]), row('26', [150, 160], [40, 47]), row('27', [155, 163], [45, 50]), row('28', [158, 166], [48, 54]), row('29', [160, 168], [52, 58]), row('30', [163, 172], [56, 63])],
  },
  one: { sizes: ['均码'], chart: undefined },
  none: { sizes: [], chart: undefined },
} satisfies Record<string, { sizes: string[]; chart: SizeChartRow[] | undefined }>;

interface ProductSpec {
  id: string;
  name: string;
  nameEn: string;
  category: string;
  fabric: string;
  price: number;
  colors: ColorCode[];
  sizes: keyof typeof SIZE_SETS;
  description: string;
  /** A third option beyond colour and size, e.g. trouser length. */
  extra?: { name: string; values: string[] };
}

const PRODUCTS: ProductSpec[] = [
  { id: 'P001', name: '纯棉圆领T恤', nameEn: 'Cotton Crew-neck T-shirt', category: 'T恤', fabric: '100%纯棉', price: 79, colors: ['WHT', 'BLK', 'NVY', 'GRY', 'PNK'], sizes: 'unisex', description: '精梳棉平纹面料，柔软透气，基础百搭款，领口螺纹不易变形，可机洗。' },
  { id: 'P002', name: '宽松印花短袖T恤', nameEn: 'Loose Printed T-shirt', category: 'T恤', fabric: '纯棉', price: 89, colors: ['WHT', 'BLK', 'KHK'], sizes: 'unisex', description: '落肩宽松版型，胸前环保水印图案，洗后不易褪色。' },
  { id: 'P003', name: '莫代尔V领T恤', nameEn: 'Modal V-neck T-shirt', category: 'T恤', fabric: '莫代尔95% 氨纶5%', price: 99, colors: ['BLK', 'GRY', 'IVR'], sizes: 'women', description: '莫代尔面料垂顺亲肤，微弹修身，V领显脸小。建议手洗或洗衣袋机洗。' },
  { id: 'P004', name: '牛津纺长袖衬衫', nameEn: 'Oxford Long-sleeve Shirt', category: '衬衫', fabric: '纯棉牛津纺', price: 159, colors: ['WHT', 'LBL', 'NVY'], sizes: 'unisex', description: '经典牛津纺，挺括有型，纽扣领设计，通勤休闲两相宜。' },
  { id: 'P005', name: '真丝印花衬衫', nameEn: 'Silk Print Blouse', category: '衬衫', fabric: '100%桑蚕丝', price: 459, colors: ['IVR', 'NVY'], sizes: 'women', description: '16姆米桑蚕丝，光泽柔和，几何印花。请干洗或冷水手洗，勿暴晒。' },
  { id: 'P006', name: '亚麻休闲衬衫', nameEn: 'Linen Casual Shirt', category: '衬衫', fabric: '亚麻55% 棉45%', price: 189, colors: ['WHT', 'KHK', 'OLV'], sizes: 'unisex', description: '亚麻混纺，凉爽吸汗，自然褶皱肌理，适合春夏。' },
  { id: 'P007', name: '碎花雪纺连衣裙', nameEn: 'Floral Chiffon Dress', category: '连衣裙', fabric: '涤纶（雪纺）', price: 259, colors: ['BFL', 'YFL'], sizes: 'women', description: '双层雪纺不透，收腰A摆，后背隐形拉链，带内衬。' },
  { id: 'P008', name: '法式方领连衣裙', nameEn: 'French Square-neck Dress', category: '连衣裙', fabric: '棉70% 涤纶30%', price: 299, colors: ['BLK', 'RED', 'IVR'], sizes: 'women', description: '法式方领泡泡袖，高腰线拉长比例，约会通勤都合适。' },
  { id: 'P009', name: '针织长款连衣裙', nameEn: 'Knit Maxi Dress', category: '连衣裙', fabric: '羊毛30% 腈纶70%', price: 399, colors: ['CML', 'GRY', 'BLK'], sizes: 'women', description: '细针织坑条，修身显瘦，秋冬可单穿也可内搭。' },
  { id: 'P010', name: '加绒连帽卫衣', nameEn: 'Fleece-lined Hoodie', category: '卫衣', fabric: '棉80% 涤纶20%（内里加绒）', price: 199, colors: ['GRY', 'BLK', 'NVY', 'APR'], sizes: 'unisex', description: '内里抓绒保暖，袋鼠兜设计，帽绳可调节，秋冬必备。' },
  { id: 'P011', name: '圆领字母卫衣', nameEn: 'Letter Crew Sweatshirt', category: '卫衣', fabric: '纯棉毛圈', price: 169, colors: ['WHT', 'GRY', 'WIN'], sizes: 'unisex', description: '毛圈布不起球，胸前字母刺绣，宽松休闲版型。' },
  { id: 'P012', name: '高腰直筒牛仔裤', nameEn: 'High-rise Straight Jeans', category: '牛仔裤', fabric: '棉98% 氨纶2%', price: 229, colors: ['LBL', 'DBL', 'BLK'], sizes: 'jeans', description: '高腰直筒，微弹不紧绷，显腿直显腿长，尺码按腰围选择。' },
  { id: 'P013', name: '修身小脚牛仔裤', nameEn: 'Slim Skinny Jeans', category: '牛仔裤', fabric: '棉92% 涤纶6% 氨纶2%', price: 199, colors: ['DBL', 'BLK'], sizes: 'jeans', description: '四面弹力，修身小脚，久坐不易变形。' },
  { id: 'P014', name: '阔腿牛仔裤', nameEn: 'Wide-leg Jeans', category: '牛仔裤', fabric: '100%纯棉', price: 249, colors: ['LBL', 'DBL'], sizes: 'jeansWomen', description: '复古水洗阔腿版型，垂感好，九分款和长款可选。', extra: { name: 'length', values: ['九分', '长款'] } },
  { id: 'P015', name: '轻薄短款羽绒服', nameEn: 'Light Short Down Jacket', category: '羽绒服', fabric: '面料：尼龙；填充物：90%白鸭绒', price: 499, colors: ['BLK', 'NVY', 'KHK', 'PNK'], sizes: 'unisex', description: '轻至300克，可收纳成小包，防风防泼水，适合0～10℃。' },
  { id: 'P016', name: '连帽长款羽绒服', nameEn: 'Hooded Long Down Coat', category: '羽绒服', fabric: '面料：涤纶；填充物：90%白鹅绒', price: 899, colors: ['BLK', 'IVR', 'OLV'], sizes: 'unisex', description: '过膝长款，充绒量220克，可拆卸毛领连帽，适合零下15℃。' },
  { id: 'P017', name: '经典双排扣风衣', nameEn: 'Classic Double-breasted Trench Coat', category: '风衣', fabric: '棉65% 涤纶35%', price: 599, colors: ['KHK', 'BLK'], sizes: 'unisex', description: '经典双排扣，配同色腰带，防泼水面料，春秋通勤。' },
  { id: 'P018', name: '中长款休闲风衣', nameEn: 'Mid-length Casual Trench', category: '风衣', fabric: '涤纶', price: 459, colors: ['KHK', 'NVY', 'APR'], sizes: 'women', description: '落肩宽松中长款，轻薄有垂感，可当外套也可当防晒衣。' },
  { id: 'P019', name: '羊毛圆领针织衫', nameEn: 'Wool Crew-neck Sweater', category: '针织衫', fabric: '100%羊毛', price: 329, colors: ['CML', 'NVY', 'GRY', 'WIN'], sizes: 'unisex', description: '美丽诺羊毛，细腻不扎，保暖透气。建议平铺晾干，勿机洗甩干。' },
  { id: 'P020', name: '羊绒开衫', nameEn: 'Cashmere Cardigan', category: '针织衫', fabric: '100%山羊绒', price: 699, colors: ['IVR', 'CML', 'BLK'], sizes: 'women', description: '内蒙古山羊绒，轻软保暖，珍珠扣设计。请干洗。' },
  { id: 'P021', name: '麻花纹毛衣', nameEn: 'Cable-knit Sweater', category: '针织衫', fabric: '羊毛50% 腈纶50%', price: 279, colors: ['IVR', 'OLV', 'WIN'], sizes: 'unisex', description: '粗针麻花纹，复古温暖，宽松版型可内搭衬衫。' },
  { id: 'P022', name: '束脚运动裤', nameEn: 'Jogger Sweatpants', category: '运动裤', fabric: '棉70% 涤纶30%', price: 149, colors: ['BLK', 'GRY', 'NVY'], sizes: 'unisex', description: '松紧腰带加抽绳，束脚设计，居家运动都舒适。' },
  { id: 'P023', name: '速干运动裤', nameEn: 'Quick-dry Track Pants', category: '运动裤', fabric: '涤纶88% 氨纶12%', price: 169, colors: ['BLK', 'NVY'], sizes: 'unisex', description: '速干弹力面料，拉链口袋，跑步健身不闷汗。' },
  { id: 'P024', name: 'A字半身裙', nameEn: 'A-line Skirt', category: '半身裙', fabric: '涤纶', price: 179, colors: ['BLK', 'KHK', 'NVY'], sizes: 'women', description: '高腰A字，及膝长度，侧拉链，有内衬不透。' },
  { id: 'P025', name: '百褶半身裙', nameEn: 'Pleated Midi Skirt', category: '半身裙', fabric: '涤纶', price: 199, colors: ['BLK', 'CML', 'PNK'], sizes: 'women', description: '压褶定型，走路飘逸，松紧腰头舒适。' },
  { id: 'P026', name: '羊毛呢大衣', nameEn: 'Wool Blend Overcoat', category: '外套', fabric: '羊毛70% 聚酰胺30%', price: 899, colors: ['CML', 'BLK', 'GRY'], sizes: 'unisex', description: '双面呢工艺，廓形落肩，保暖挺括，请干洗。' },
  { id: 'P027', name: '工装夹克', nameEn: 'Utility Jacket', category: '外套', fabric: '纯棉斜纹', price: 359, colors: ['OLV', 'KHK', 'BLK'], sizes: 'unisex', description: '多口袋工装设计，耐磨斜纹布，春秋外套。' },
  { id: 'P028', name: '牛仔外套', nameEn: 'Denim Jacket', category: '外套', fabric: '100%纯棉', price: 299, colors: ['LBL', 'DBL'], sizes: 'unisex', description: '经典款牛仔夹克，水洗做旧，百搭不过时。' },
  { id: 'P029', name: '针织毛线帽', nameEn: 'Knit Beanie', category: '帽子', fabric: '腈纶', price: 59, colors: ['BLK', 'GRY', 'WIN', 'IVR'], sizes: 'one', description: '双层罗纹针织，弹力好，头围54～60厘米均可戴。' },
  { id: 'P030', name: '纯棉棒球帽', nameEn: 'Cotton Baseball Cap', category: '帽子', fabric: '纯棉', price: 69, colors: ['BLK', 'WHT', 'NVY', 'KHK'], sizes: 'one', description: '软顶棒球帽，后扣可调节，适合头围55～60厘米。' },
  { id: 'P031', name: '纯棉中筒袜（5双装）', nameEn: 'Cotton Crew Socks (5 pairs)', category: '袜子', fabric: '精梳棉80% 锦纶17% 氨纶3%', price: 39, colors: ['BLK', 'WHT', 'GRY'], sizes: 'one', description: '5双装，精梳棉吸汗防臭，适合35～43码鞋。' },
  { id: 'P032', name: '真丝方巾', nameEn: 'Silk Square Scarf', category: '配饰', fabric: '100%桑蚕丝', price: 199, colors: ['BFL', 'RED', 'NVY'], sizes: 'none', description: '53×53厘米小方巾，可系颈、绑发或挂包。' },
];

/** Stock the fixtures rely on; every other variant gets random stock. */
const FIXED_STOCK: Record<string, number> = {
  'P001-WHT-L': 50,
  'P001-WHT-M': 30,
  'P001-BLK-L': 20,
  'P001-BLK-XXL': 0,
  'P001-PNK-L': 1,
  'P010-GRY-L': 15,
  'P010-GRY-XL': 8,
  'P010-GRY-XXL': 0,
  'P012-LBL-29': 12,
  'P019-CML-M': 6,
  'P022-BLK-L': 25,
  'P024-BLK-M': 9,
};

const LENGTH_CODES: Record<string, string> = { 九分: 'C', 长款: 'L' };

function buildProducts(dice: Dice): Product[] {
  return PRODUCTS.map((spec) => {
    const set = SIZE_SETS[spec.sizes];
    const sizes: (string | undefined)[] = set.sizes.length > 0 ? set.sizes : [undefined];
    const extras: (string | undefined)[] = spec.extra?.values ?? [undefined];
    const variants: Variant[] = [];
    for (const color of spec.colors) {
      for (const size of sizes) {
        for (const extra of extras) {
          const sizeCode = size === undefined ? '' : size === '均码' ? '-F' : `-${size}`;
          const extraCode = extra === undefined ? '' : `-${LENGTH_CODES[extra] ?? extra}`;
          const sku = `${spec.id}-${color}${sizeCode}${extraCode}`;
          const options: Record<string, string> = { color: COLORS[color] };
          if (size !== undefined) options.size = size;
          if (extra !== undefined && spec.extra !== undefined) options[spec.extra.name] = extra;
          // Big and small sizes sell out first; about one variant in eight is out of stock.
          const edge = size === 'XXL' || size === '34' || size === '25';
          const stock = FIXED_STOCK[sku] ?? (dice.chance(edge ? 0.3 : 0.1) ? 0 : dice.int(1, edge ? 12 : 80));
          const variant: Variant = { sku, options, stock };
          // Down coats use more down in the biggest size.
          if (spec.category === '羽绒服' && size === 'XXL') variant.price = spec.price + 20;
          variants.push(variant);
        }
      }
    }
    const product: Product = { id: spec.id, name: spec.name, nameEn: spec.nameEn, category: spec.category, fabric: spec.fabric, description: spec.description, price: spec.price, variants };
    if (set.chart !== undefined) product.sizeChart = set.chart;
    return product;
  });
}

// ---------------------------------------------------------------- customers

const PLACES = [
  { province: '广东省', city: '深圳市', district: '南山区', streets: ['科技园路', '南海大道', '桃园路'] },
  { province: '广东省', city: '广州市', district: '天河区', streets: ['天河北路', '体育西路', '林和西路'] },
  { province: '浙江省', city: '杭州市', district: '西湖区', streets: ['文三路', '古墩路', '天目山路'] },
  { province: '浙江省', city: '宁波市', district: '鄞州区', streets: ['天童南路', '四明中路'] },
  { province: '江苏省', city: '南京市', district: '鼓楼区', streets: ['中山北路', '湖南路'] },
  { province: '江苏省', city: '苏州市', district: '工业园区', streets: ['星湖街', '现代大道'] },
  { province: '北京市', city: '北京市', district: '朝阳区', streets: ['望京街', '建国路', '朝阳北路'] },
  { province: '北京市', city: '北京市', district: '海淀区', streets: ['中关村大街', '学院路'] },
  { province: '上海市', city: '上海市', district: '浦东新区', streets: ['张杨路', '世纪大道', '锦绣路'] },
  { province: '上海市', city: '上海市', district: '徐汇区', streets: ['漕溪北路', '虹桥路'] },
  { province: '四川省', city: '成都市', district: '武侯区', streets: ['人民南路', '科华北路'] },
  { province: '湖北省', city: '武汉市', district: '洪山区', streets: ['珞喻路', '雄楚大道'] },
  { province: '山东省', city: '青岛市', district: '市南区', streets: ['香港中路', '闽江路'] },
  { province: '福建省', city: '厦门市', district: '思明区', streets: ['湖滨南路', '厦禾路'] },
  { province: '陕西省', city: '西安市', district: '雁塔区', streets: ['小寨东路', '科技路'] },
  { province: '湖南省', city: '长沙市', district: '岳麓区', streets: ['麓山南路', '桐梓坡路'] },
  { province: '重庆市', city: '重庆市', district: '渝中区', streets: ['解放碑民族路', '中山三路'] },
  { province: '天津市', city: '天津市', district: '南开区', streets: ['卫津路', '鞍山西道'] },
];
const COMMUNITIES = ['阳光花园', '锦绣家园', '翠苑小区', '金色港湾', '绿城桂花园', '万科城', '华润二十四城', '碧桂园', '保利香槟国际', '世纪新城'];
const SURNAMES = ['王', '李', '张', '刘', '陈', '杨', '黄', '赵', '周', '吴', '徐', '孙', '马', '朱', '胡', '郭', '何', '林', '高', '罗', '郑', '梁', '谢', '宋', '唐', '许', '韩', '冯', '邓', '曹'];
const GIVEN = {
  male: ['磊', '强', '军', '杰', '涛', '明', '超', '勇', '浩', '宇', '鹏', '子轩', '俊杰', '建国', '志强', '文博'],
  female: ['静', '丽', '敏', '婷', '雪', '慧', '琳', '倩', '颖', '欣怡', '雨涵', '梓涵', '晓燕', '丹', '玲', '思琪'],
};

type Place = (typeof PLACES)[number];

interface CustomerSpec {
  customer: Customer;
  place: Place;
  detail: string;
}

function detailOf(dice: Dice, place: Place): string {
  return `${dice.pick(place.streets)}${dice.int(1, 399)}号 ${dice.pick(COMMUNITIES)}${dice.int(1, 20)}栋${dice.int(1, 4)}单元${dice.int(1, 32)}0${dice.int(1, 4)}室`;
}

function placeOf(province: string, city: string, district: string): Place {
  const place = PLACES.find((p) => p.province === province && p.city === city && p.district === district);
  if (place === undefined) throw new Error(`no place ${province}${city}${district}`);
  return place;
}

function buildCustomers(dice: Dice): CustomerSpec[] {
  const fixed: CustomerSpec[] = [
    { customer: { id: 'C001', name: '张伟', phone: '13812345678', wechatId: 'wxid_zhangwei', gender: 'male' }, place: placeOf('广东省', '深圳市', '南山区'), detail: '科技园路88号 阳光花园3栋2单元1502室' },
    { customer: { id: 'C002', name: '李娜', phone: '13987654321', telegramId: '5123456789', gender: 'female' }, place: placeOf('上海市', '上海市', '浦东新区'), detail: '张杨路1200号 金色港湾5栋1单元801室' },
    { customer: { id: 'C003', name: '王芳', phone: '15867204523', wechatId: 'wxid_wangfang88', telegramId: '6234567890', gender: 'female' }, place: placeOf('浙江省', '杭州市', '西湖区'), detail: '文三路259号 翠苑小区12栋3单元602室' },
    { customer: { id: 'C004', name: '刘洋', phone: '13698765432', gender: 'male' }, place: placeOf('北京市', '北京市', '朝阳区'), detail: '望京街10号 望京花园西区7栋1单元1101室' },
  ];
  const names = new Set(fixed.map((c) => c.customer.name));
  const phones = new Set(fixed.map((c) => c.customer.phone));
  const out = [...fixed];
  for (let n = 5; n <= 20; n++) {
    const gender = dice.chance(0.6) ? 'female' : 'male';
    let name: string;
    do name = dice.pick(SURNAMES) + dice.pick(GIVEN[gender]);
    while (names.has(name));
    names.add(name);
    let phone: string;
    do phone = `1${dice.pick(['3', '5', '7', '8', '9'])}${dice.digits(9)}`;
    while (phones.has(phone));
    phones.add(phone);
    const customer: Customer = { id: `C${String(n).padStart(3, '0')}`, name, phone };
    if (dice.chance(0.6)) customer.wechatId = `wxid_${dice.digits(4)}${String.fromCharCode(97 + dice.int(0, 25))}${String.fromCharCode(97 + dice.int(0, 25))}${dice.digits(4)}`;
    if (dice.chance(0.3)) customer.telegramId = `${dice.int(5, 7)}${dice.digits(9)}`;
    // Not every customer told us; the greeting then uses neither 先生 nor 女士.
    if (dice.chance(0.8)) customer.gender = gender;
    const place = dice.pick(PLACES);
    out.push({ customer, place, detail: detailOf(dice, place) });
  }
  return out;
}

// ---------------------------------------------------------------- orders

const CARRIERS = ['顺丰速运', '中通快递', '圆通速递', '京东物流'] as const;
type Carrier = (typeof CARRIERS)[number];

function trackingNo(dice: Dice, carrier: Carrier): string {
  switch (carrier) {
    case '顺丰速运':
      return `SF${dice.digits(13)}`;
    case '中通快递':
      return `7${dice.int(3, 8)}${dice.digits(12)}`;
    case '圆通速递':
      return `YT${dice.digits(13)}`;
    case '京东物流':
      return `JDVA${dice.digits(11)}`;
  }
}

/** Tracking events from pickup to (if `deliveredAt`) delivery; only those before now are known. */
function shipmentOf(dice: Dice, carrier: Carrier, shippedAt: number, place: Place, deliveredAt: number | undefined, trackingOverride?: string): Shipment {
  const to = place.city.replace(/市$/, '');
  const span = (deliveredAt ?? shippedAt + 3 * DAY) - shippedAt;
  const events: { at: number; text: string }[] = [
    { at: shippedAt, text: `【杭州市】${carrier} 杭州余杭仓已揽收` },
    { at: shippedAt + span * 0.2, text: `【杭州转运中心】已发出，下一站【${to}转运中心】` },
    { at: shippedAt + span * 0.6, text: `【${to}转运中心】已到达` },
    { at: shippedAt + span * 0.85, text: `【${place.district}】派送中，派送员正在为您派件，请保持电话畅通` },
  ];
  if (deliveredAt !== undefined) {
    events.push({ at: deliveredAt, text: `已签收，签收人：${dice.pick(['本人', '家人', '快递柜', '菜鸟驿站', '门卫'])}。感谢使用${carrier}` });
  }
  return {
    carrier,
    trackingNo: trackingOverride ?? trackingNo(dice, carrier),
    events: events.filter((e) => e.at <= BASE).map((e) => ({ at: cst(e.at), text: e.text })),
  };
}

interface OrderDraft {
  id?: string;
  customer: CustomerSpec;
  status: OrderStatus;
  createdAt: number;
  paidAt?: number;
  shippedAt?: number;
  deliveredAt?: number;
  items: OrderItem[];
  deliveryRequest?: string;
  shipment?: Shipment;
  notes: { at: number; by: string; text: string }[];
  afterSale?: (Omit<AfterSale, 'at'> & { at: number })[];
}

const AGENTS = ['xiaomei', 'ajie', 'lily'];
const CANCEL_REASONS = ['拍错尺码了，重新下单', '不想要了', '有优惠券，重新下单', '发货太慢', '地址填错了'];
const RETURN_REASONS = ['尺码偏大', '尺码偏小', '颜色和图片有色差', '面料不喜欢', '质量问题：有线头', '七天无理由'];
const EXCHANGE_REASONS = ['尺码偏小，换大一码', '尺码偏大，换小一码', '想换个颜色'];
const DELIVERY_REQUESTS = ['工作日白天送货', '周末送货', '请放快递柜', '送货前请先打电话', '放门卫室'];

function priceOf(product: Product, variant: Variant): number {
  return variant.price ?? product.price;
}

function itemsFor(dice: Dice, products: Product[]): OrderItem[] {
  const count = dice.pick([1, 1, 1, 2, 2, 3]);
  const chosen = new Set<string>();
  const items: OrderItem[] = [];
  while (items.length < count) {
    const product = dice.pick(products);
    if (chosen.has(product.id)) continue;
    chosen.add(product.id);
    const variant = dice.pick(product.variants);
    items.push({ sku: variant.sku, qty: dice.chance(0.8) ? 1 : 2, price: priceOf(product, variant) });
  }
  return items;
}

function item(products: Product[], sku: string, qty: number): OrderItem {
  for (const product of products) {
    const variant = product.variants.find((v) => v.sku === sku);
    if (variant !== undefined) return { sku, qty, price: priceOf(product, variant) };
  }
  throw new Error(`fixture sku ${sku} is not in the catalog`);
}

/** Another size (same colour and other options) of the same product, for exchanges. */
function otherSize(dice: Dice, products: Product[], sku: string): string {
  const product = products.find((p) => p.variants.some((v) => v.sku === sku));
  const variant = product?.variants.find((v) => v.sku === sku);
  if (product === undefined || variant === undefined) throw new Error(`no sku ${sku}`);
  const others = product.variants.filter((v) => v.sku !== sku && v.options.color === variant.options.color && v.stock > 0);
  return others.length > 0 ? dice.pick(others).sku : (product.variants.find((v) => v.sku !== sku)?.sku ?? sku);
}

function fixtureOrders(products: Product[], customers: CustomerSpec[], dice: Dice): OrderDraft[] {
  const c = (id: string): CustomerSpec => {
    const found = customers.find((x) => x.customer.id === id);
    if (found === undefined) throw new Error(`no customer ${id}`);
    return found;
  };
  const zhang = c('C001');
  const liu = c('C004');
  const li = c('C002');
  const wang = c('C003');
  return [
    {
      id: 'E20261030001', customer: zhang, status: 'paid',
      createdAt: at('2026-10-30', '10:12'), paidAt: at('2026-10-30', '10:14'),
      items: [item(products, 'P001-WHT-L', 1), item(products, 'P012-LBL-29', 1)],
      notes: [{ at: at('2026-10-30', '10:20'), by: 'bot', text: '付款后与客户确认收货地址和电话无误' }],
    },
    {
      id: 'E20261027001', customer: zhang, status: 'shipped',
      createdAt: at('2026-10-27', '20:31'), paidAt: at('2026-10-27', '20:33'), shippedAt: at('2026-10-28', '16:05'),
      items: [item(products, 'P015-BLK-L', 1)],
      deliveryRequest: '工作日白天送货',
      shipment: shipmentOf(dice, '顺丰速运', at('2026-10-28', '16:05'), zhang.place, undefined, 'SF1402837765012'),
      notes: [{ at: at('2026-10-27', '20:40'), by: 'bot', text: '配送要求由「无」改为「工作日白天送货」' }],
    },
    {
      id: 'E20261025001', customer: zhang, status: 'delivered',
      createdAt: at('2026-10-25', '09:40'), paidAt: at('2026-10-25', '09:41'), shippedAt: at('2026-10-26', '14:00'), deliveredAt: at('2026-10-29', '15:20'),
      items: [item(products, 'P010-GRY-XL', 1)],
      shipment: shipmentOf(dice, '中通快递', at('2026-10-26', '14:00'), zhang.place, at('2026-10-29', '15:20')),
      notes: [],
    },
    {
      id: 'E20261008001', customer: zhang, status: 'delivered',
      createdAt: at('2026-10-08', '21:15'), paidAt: at('2026-10-08', '21:16'), shippedAt: at('2026-10-09', '17:30'), deliveredAt: at('2026-10-12', '10:05'),
      items: [item(products, 'P019-CML-M', 1)],
      shipment: shipmentOf(dice, '京东物流', at('2026-10-09', '17:30'), zhang.place, at('2026-10-12', '10:05')),
      notes: [],
    },
    {
      id: 'E20261031001', customer: zhang, status: 'pending_payment',
      createdAt: at('2026-10-31', '21:05'),
      items: [item(products, 'P001-WHT-M', 2)],
      notes: [],
    },
    {
      id: 'E20261029001', customer: liu, status: 'paid',
      createdAt: at('2026-10-29', '13:02'), paidAt: at('2026-10-29', '13:05'),
      items: [item(products, 'P022-BLK-L', 1)],
      notes: [],
    },
    {
      id: 'E20261020001', customer: li, status: 'return_requested',
      createdAt: at('2026-10-20', '19:48'), paidAt: at('2026-10-20', '19:50'), shippedAt: at('2026-10-21', '15:10'), deliveredAt: at('2026-10-24', '11:30'),
      items: [item(products, 'P007-BFL-M', 1), item(products, 'P031-BLK-F', 1)],
      shipment: shipmentOf(dice, '圆通速递', at('2026-10-21', '15:10'), li.place, at('2026-10-24', '11:30')),
      notes: [{ at: at('2026-10-26', '20:12'), by: 'bot', text: '申请退货（状态由 已签收 改为 退货申请中）：碎花雪纺连衣裙（蓝色碎花 / M）×1，原因：颜色和图片有色差' }],
      afterSale: [{ kind: 'return', items: [{ sku: 'P007-BFL-M' }], reason: '颜色和图片有色差', at: at('2026-10-26', '20:12'), status: 'requested' }],
    },
    {
      id: 'E20261018001', customer: wang, status: 'exchange_requested',
      createdAt: at('2026-10-18', '08:55'), paidAt: at('2026-10-18', '08:56'), shippedAt: at('2026-10-19', '18:20'), deliveredAt: at('2026-10-23', '09:45'),
      items: [item(products, 'P024-BLK-S', 1)],
      shipment: shipmentOf(dice, '京东物流', at('2026-10-19', '18:20'), wang.place, at('2026-10-23', '09:45')),
      notes: [{ at: at('2026-10-25', '12:30'), by: 'xiaomei', text: '申请换货（状态由 已签收 改为 换货申请中）：A字半身裙（黑色 / S）×1 换为 黑色 / M，原因：尺码偏小，换大一码' }],
      afterSale: [{ kind: 'exchange', items: [{ sku: 'P024-BLK-S', newSku: 'P024-BLK-M' }], reason: '尺码偏小，换大一码', at: at('2026-10-25', '12:30'), status: 'requested' }],
    },
  ];
}

/** Statuses of the random orders; with the fixtures every status appears several times. */
const RANDOM_STATUSES: OrderStatus[] = [
  ...Array<OrderStatus>(4).fill('pending_payment'),
  ...Array<OrderStatus>(7).fill('paid'),
  ...Array<OrderStatus>(7).fill('shipped'),
  ...Array<OrderStatus>(15).fill('delivered'),
  ...Array<OrderStatus>(6).fill('cancelled'),
  ...Array<OrderStatus>(3).fill('return_requested'),
  ...Array<OrderStatus>(3).fill('returned'),
  ...Array<OrderStatus>(4).fill('refunded'),
  ...Array<OrderStatus>(3).fill('exchange_requested'),
];

function randomOrder(dice: Dice, status: OrderStatus, n: number, products: Product[], customer: CustomerSpec): OrderDraft {
  const items = itemsFor(dice, products);
  const notes: OrderDraft['notes'] = [];
  const carrier = dice.pick(CARRIERS);
  const delivered = (around: number): Pick<OrderDraft, 'createdAt' | 'paidAt' | 'shippedAt' | 'deliveredAt' | 'shipment'> => {
    const deliveredAt = clampHours(dice, around, 8, 21);
    const shippedAt = clampHours(dice, deliveredAt - dice.real(1.5, 3.5) * DAY, 9, 19);
    const paidAt = clampHours(dice, shippedAt - dice.real(6, 30) * HOUR, 7, 24);
    return {
      createdAt: paidAt - dice.real(1, 40) * MINUTE,
      paidAt,
      shippedAt,
      deliveredAt,
      shipment: shipmentOf(dice, carrier, shippedAt, customer.place, deliveredAt),
    };
  };
  const base = { customer, status, items, notes };
  switch (status) {
    case 'pending_payment':
      return { ...base, createdAt: clampHours(dice, BASE - dice.real(0.05, 1.5) * DAY, 7, 24) };
    case 'paid': {
      const createdAt = clampHours(dice, BASE - dice.real(0.2, 2.5) * DAY, 7, 24);
      const paidAt = createdAt + dice.real(1, 30) * MINUTE;
      notes.push({ at: paidAt + dice.real(2, 20) * MINUTE, by: 'bot', text: '付款后与客户确认收货地址和电话无误' });
      const draft: OrderDraft = { ...base, createdAt, paidAt };
      if (dice.chance(0.4)) {
        draft.deliveryRequest = dice.pick(DELIVERY_REQUESTS);
        notes.push({ at: paidAt + 30 * MINUTE, by: 'bot', text: `配送要求由「无」改为「${draft.deliveryRequest}」` });
      }
      return draft;
    }
    case 'shipped': {
      const createdAt = clampHours(dice, BASE - dice.real(1.5, 4) * DAY, 7, 24);
      const paidAt = createdAt + dice.real(1, 30) * MINUTE;
      const shippedAt = clampHours(dice, paidAt + dice.real(6, 20) * HOUR, 9, 19);
      return { ...base, createdAt, paidAt, shippedAt, shipment: shipmentOf(dice, carrier, shippedAt, customer.place, undefined) };
    }
    case 'delivered': {
      // Half inside the 7-day return window, half well outside it.
      const ago = n % 2 === 0 ? dice.real(0.3, 6.5) : dice.real(8, 45);
      const draft: OrderDraft = { ...base, ...delivered(BASE - ago * DAY) };
      if (dice.chance(0.2)) notes.push({ at: (draft.deliveredAt ?? BASE) + dice.real(2, 30) * HOUR, by: dice.pick(AGENTS), text: '回访：客户对商品满意' });
      return draft;
    }
    case 'cancelled': {
      const createdAt = clampHours(dice, BASE - dice.real(1, 50) * DAY, 7, 24);
      const paid = dice.chance(0.5);
      const paidAt = paid ? createdAt + dice.real(1, 30) * MINUTE : undefined;
      const reason = dice.pick(CANCEL_REASONS);
      const total = items.reduce((s, i) => s + i.price * i.qty, 0);
      notes.push({
        at: createdAt + dice.real(1, 20) * HOUR,
        by: dice.chance(0.7) ? 'bot' : dice.pick(AGENTS),
        text: `订单取消（状态由 ${paid ? '已付款，待发货' : '待付款'} 改为 已取消），原因：${reason}${paid ? `，需退款 ¥${total.toFixed(2)}` : ''}`,
      });
      const draft: OrderDraft = { ...base, createdAt };
      if (paidAt !== undefined) draft.paidAt = paidAt;
      return draft;
    }
    case 'return_requested':
    case 'exchange_requested': {
      const times = delivered(BASE - dice.real(1.5, 6) * DAY);
      const requestAt = (times.deliveredAt ?? BASE) + dice.real(0.2, 1.2) * DAY;
      const line = items[0];
      if (line === undefined) throw new Error('an order without items');
      const isReturn = status === 'return_requested';
      const reason = dice.pick(isReturn ? RETURN_REASONS : EXCHANGE_REASONS);
      const entry = isReturn
        ? { sku: line.sku }
        : { sku: line.sku, newSku: otherSize(dice, products, line.sku) };
      const name = describeSku(products, line.sku);
      notes.push({
        at: requestAt,
        by: 'bot',
        text: isReturn
          ? `申请退货（状态由 已签收 改为 退货申请中）：${name}×${line.qty}，原因：${reason}`
          : `申请换货（状态由 已签收 改为 换货申请中）：${name}×${line.qty} 换为 ${describeSku(products, entry.newSku ?? line.sku, true)}，原因：${reason}`,
      });
      return { ...base, ...times, afterSale: [{ kind: isReturn ? 'return' : 'exchange', items: [entry], reason, at: requestAt, status: 'requested' }] };
    }
    case 'returned':
    case 'refunded': {
      // Refunds come after a return, or after cancelling a paid order that never shipped.
      if (status === 'refunded' && n % 2 === 0) {
        const createdAt = clampHours(dice, BASE - dice.real(3, 40) * DAY, 7, 24);
        const paidAt = createdAt + dice.real(1, 30) * MINUTE;
        const total = items.reduce((s, i) => s + i.price * i.qty, 0);
        notes.push({ at: paidAt + dice.real(1, 10) * HOUR, by: 'bot', text: `订单取消（状态由 已付款，待发货 改为 已取消），原因：${dice.pick(CANCEL_REASONS)}，需退款 ¥${total.toFixed(2)}` });
        notes.push({ at: paidAt + dice.real(12, 30) * HOUR, by: 'system', text: `已原路退款 ¥${total.toFixed(2)}` });
        return { ...base, createdAt, paidAt };
      }
      const times = delivered(BASE - dice.real(12, 40) * DAY);
      const requestAt = (times.deliveredAt ?? BASE) + dice.real(0.5, 5) * DAY;
      const reason = dice.pick(RETURN_REASONS);
      const lines = items.map((i) => ({ sku: i.sku }));
      const total = items.reduce((s, i) => s + i.price * i.qty, 0);
      notes.push({ at: requestAt, by: 'bot', text: `申请退货（状态由 已签收 改为 退货申请中）：${items.map((i) => `${describeSku(products, i.sku)}×${i.qty}`).join('；')}，原因：${reason}` });
      notes.push({ at: requestAt + dice.real(2, 4) * DAY, by: dice.pick(AGENTS), text: '退货已入库，商品完好' });
      if (status === 'refunded') notes.push({ at: requestAt + dice.real(4, 5) * DAY, by: 'system', text: `已原路退款 ¥${total.toFixed(2)}` });
      return { ...base, ...times, afterSale: [{ kind: 'return', items: lines, reason, at: requestAt, status: 'completed' }] };
    }
  }
}

function describeSku(products: Product[], sku: string, optionsOnly = false): string {
  for (const product of products) {
    const variant = product.variants.find((v) => v.sku === sku);
    if (variant === undefined) continue;
    const { color, size, ...rest } = variant.options;
    const options = [color, size, ...Object.values(rest)].filter((x) => x !== undefined).join(' / ');
    return optionsOnly ? options : `${product.name}（${options}）`;
  }
  return sku;
}

function finish(draft: OrderDraft, id: string): Order {
  const { customer, place, detail } = draft.customer;
  const time = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : cst(ms));
  // Keys in the order DESIGN.md lists them, so the file reads like the spec; unset fields are left out.
  const order = {
    id,
    customerId: customer.id,
    status: draft.status,
    createdAt: cst(draft.createdAt),
    paidAt: time(draft.paidAt),
    shippedAt: time(draft.shippedAt),
    deliveredAt: time(draft.deliveredAt),
    items: draft.items,
    address: { name: customer.name, phone: customer.phone, province: place.province, city: place.city, district: place.district, detail },
    deliveryRequest: draft.deliveryRequest,
    shipment: draft.shipment,
    notes: draft.notes
      .filter((n) => n.at <= BASE)
      .sort((a, b) => a.at - b.at)
      .map((n): OrderNote => ({ at: cst(n.at), by: n.by, text: n.text })),
    afterSale: draft.afterSale?.map((a) => ({ ...a, at: cst(a.at) })),
  } satisfies Record<keyof Order, unknown>;
  return Object.fromEntries(Object.entries(order).filter(([, v]) => v !== undefined)) as Order;
}

function buildOrders(dice: Dice, products: Product[], customers: CustomerSpec[]): Order[] {
  const fixtures = fixtureOrders(products, customers, dice);
  // 张伟's orders are exactly the fixtures, so docs and tests can list them.
  const others = customers.filter((c) => c.customer.id !== 'C001');
  const random = RANDOM_STATUSES.map((status, n) => randomOrder(dice, status, n, products, dice.pick(others)));
  const drafts = [...fixtures, ...random].sort((a, b) => a.createdAt - b.createdAt);
  const used = new Set(fixtures.map((f) => f.id));
  const seq = new Map<string, number>();
  return drafts.map((draft) => {
    if (draft.id !== undefined) return finish(draft, draft.id);
    const day = cst(draft.createdAt).slice(0, 10).replaceAll('-', '');
    let n = seq.get(day) ?? 0;
    let id: string;
    do id = `E${day}${String(++n).padStart(3, '0')}`;
    while (used.has(id));
    seq.set(day, n);
    used.add(id);
    return finish(draft, id);
  });
}

const PROMOTIONS: Promotion[] = [
  { id: 'PROMO-1111', title: '双11狂欢节：满300减50', description: '活动期间全场满300元减50元，可叠加店铺优惠券；11月11日0点至2点前1000名付款再送纯棉中筒袜一盒。', validFrom: '2026-10-20T20:00:00+08:00', validTo: '2026-11-11T23:59:59+08:00' },
  { id: 'PROMO-NEW', title: '新客首单立减20元', description: '首次在本店下单的顾客，实付满99元立减20元，下单时自动抵扣。', validFrom: '2026-01-01T00:00:00+08:00', validTo: '2026-12-31T23:59:59+08:00' },
  { id: 'PROMO-AUTUMN', title: '秋装上新85折', description: '风衣、针织衫、卫衣新品85折，会员再享95折。', validFrom: '2026-09-01T00:00:00+08:00', validTo: '2026-10-15T23:59:59+08:00' },
];

/** The whole demo shop, the same on every run. */
export function buildDemoShop(): ShopData {
  const dice = new Dice(SEED);
  const products = buildProducts(dice);
  const customers = buildCustomers(dice);
  const orders = buildOrders(dice, products, customers);
  return { currency: 'CNY', products, customers: customers.map((c) => c.customer), orders, promotions: PROMOTIONS };
}

/** The file's text: checked against the schema first, so a broken generator never writes a broken file. */
export function demoShopJson(): string {
  const data = buildDemoShop();
  parseShopData(data, 'tools/make-demo-shop.ts output');
  return `${JSON.stringify(data, null, 2)}\n`;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await writeFile(DEMO_SHOP_PATH, demoShopJson(), 'utf8');
  const data = buildDemoShop();
  console.log(`wrote ${DEMO_SHOP_PATH}: ${data.products.length} products, ${data.customers.length} customers, ${data.orders.length} orders, ${data.promotions.length} promotions`);
}
