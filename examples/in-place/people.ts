import type { Random } from './random.js';
import type { Trait } from './traits.js';

/**
 * Who signs up for the app: names in many scripts (each with the romanized
 * form people type into an email address), locales and time zones, and the
 * ways real profiles are untidy.
 */
interface Region {
  readonly locale: string;
  readonly timezones: readonly string[];
  /** [as written, romanized] */
  readonly given: readonly (readonly [string, string])[];
  readonly family: readonly (readonly [string, string])[];
  /** Family name first, with or without a space between. */
  readonly order: 'given-family' | 'family-given' | 'family-given-joined';
  readonly weight: number;
}

const REGIONS: readonly Region[] = [
  {
    locale: 'en-US',
    timezones: ['America/New_York', 'America/Chicago', 'America/Los_Angeles', 'America/Denver'],
    given: ['James', 'Mary', 'John', 'Patricia', 'Robert', 'Jennifer', 'Michael', 'Sarah', 'David', 'Emily'].map(
      (n) => [n, n.toLowerCase()] as const,
    ),
    family: ['Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Miller', 'Davis', "O'Brien", 'Wilson'].map(
      (n) => [n, n.toLowerCase().replace("'", '')] as const,
    ),
    order: 'given-family',
    weight: 36,
  },
  {
    locale: 'en-GB',
    timezones: ['Europe/London'],
    given: ['Oliver', 'Amelia', 'Harry', 'Isla', 'George', 'Ava', 'Anne-Marie'].map(
      (n) => [n, n.toLowerCase().replace('-', '')] as const,
    ),
    family: ['Taylor', 'Evans', 'Thomas', 'Roberts', 'Walker', 'Wright', 'Smith'].map(
      (n) => [n, n.toLowerCase()] as const,
    ),
    order: 'given-family',
    weight: 9,
  },
  {
    locale: 'es-ES',
    timezones: ['Europe/Madrid', 'America/Mexico_City', 'America/Bogota'],
    given: [
      ['María', 'maria'],
      ['José', 'jose'],
      ['Lucía', 'lucia'],
      ['Sofía', 'sofia'],
      ['Martín', 'martin'],
      ['Álvaro', 'alvaro'],
    ],
    family: [
      ['García', 'garcia'],
      ['Martínez', 'martinez'],
      ['López', 'lopez'],
      ['Núñez', 'nunez'],
      ['Peña', 'pena'],
      ['de la Fuente', 'delafuente'],
    ],
    order: 'given-family',
    weight: 10,
  },
  {
    locale: 'de-DE',
    timezones: ['Europe/Berlin', 'Europe/Vienna', 'Europe/Zurich'],
    given: [
      ['Jürgen', 'juergen'],
      ['Jörg', 'joerg'],
      ['Lena', 'lena'],
      ['Günther', 'guenther'],
      ['Björn', 'bjoern'],
      ['Anneliese', 'anneliese'],
    ],
    family: [
      ['Müller', 'mueller'],
      ['Schröder', 'schroeder'],
      ['Weiß', 'weiss'],
      ['Groß', 'gross'],
      ['Köhler', 'koehler'],
      ['Krüger', 'krueger'],
    ],
    order: 'given-family',
    weight: 8,
  },
  {
    locale: 'fr-FR',
    timezones: ['Europe/Paris', 'America/Montreal'],
    given: [
      ['Zoë', 'zoe'],
      ['Chloé', 'chloe'],
      ['Léa', 'lea'],
      ['François', 'francois'],
      ['Hélène', 'helene'],
      ['Jean-Luc', 'jeanluc'],
    ],
    family: [
      ['Lefèvre', 'lefevre'],
      ['Dubois', 'dubois'],
      ['Moreau', 'moreau'],
      ['Girard', 'girard'],
      ['Bézier', 'bezier'],
    ],
    order: 'given-family',
    weight: 8,
  },
  {
    locale: 'ja-JP',
    timezones: ['Asia/Tokyo'],
    given: [
      ['陽翔', 'haruto'],
      ['結衣', 'yui'],
      ['蓮', 'ren'],
      ['さくら', 'sakura'],
      ['悠真', 'yuma'],
    ],
    family: [
      ['佐藤', 'sato'],
      ['鈴木', 'suzuki'],
      ['高橋', 'takahashi'],
      ['田中', 'tanaka'],
      ['渡辺', 'watanabe'],
    ],
    order: 'family-given',
    weight: 6,
  },
  {
    locale: 'zh-CN',
    timezones: ['Asia/Shanghai'],
    given: [
      ['伟', 'wei'],
      ['芳', 'fang'],
      ['娜', 'na'],
      ['秀英', 'xiuying'],
      ['敏', 'min'],
    ],
    family: [
      ['王', 'wang'],
      ['李', 'li'],
      ['张', 'zhang'],
      ['刘', 'liu'],
      ['陈', 'chen'],
    ],
    order: 'family-given-joined',
    weight: 6,
  },
  {
    locale: 'vi-VN',
    timezones: ['Asia/Ho_Chi_Minh'],
    given: [
      ['Thị Hương', 'huong'],
      ['Văn An', 'an'],
      ['Minh', 'minh'],
      ['Thảo', 'thao'],
    ],
    family: [
      ['Nguyễn', 'nguyen'],
      ['Trần', 'tran'],
      ['Đặng', 'dang'],
      ['Phạm', 'pham'],
    ],
    order: 'family-given',
    weight: 4,
  },
  {
    locale: 'ru-RU',
    timezones: ['Europe/Moscow'],
    given: [
      ['Алексей', 'aleksey'],
      ['Наталья', 'natalya'],
      ['Дмитрий', 'dmitry'],
      ['Ольга', 'olga'],
    ],
    family: [
      ['Иванов', 'ivanov'],
      ['Смирнова', 'smirnova'],
      ['Кузнецов', 'kuznetsov'],
      ['Попова', 'popova'],
    ],
    order: 'given-family',
    weight: 5,
  },
  {
    locale: 'ar-EG',
    timezones: ['Africa/Cairo', 'Asia/Dubai'],
    given: [
      ['محمد', 'mohamed'],
      ['فاطمة', 'fatma'],
      ['يوسف', 'youssef'],
    ],
    family: [
      ['حسن', 'hassan'],
      ['العلي', 'alali'],
      ['سعيد', 'said'],
    ],
    order: 'given-family',
    weight: 3,
  },
  {
    locale: 'hi-IN',
    timezones: ['Asia/Kolkata'],
    given: [
      ['Priya', 'priya'],
      ['Aarav', 'aarav'],
      ['प्रिया', 'priya'],
      ['Rohan', 'rohan'],
    ],
    family: [
      ['Sharma', 'sharma'],
      ['Patel', 'patel'],
      ['शर्मा', 'sharma'],
      ['Iyer', 'iyer'],
    ],
    order: 'given-family',
    weight: 5,
  },
];

const REGION_WEIGHT = REGIONS.reduce((sum, r) => sum + r.weight, 0);

const MAIL_DOMAINS = ['gmail.com', 'outlook.com', 'yahoo.com', 'icloud.com', 'proton.me', 'hey.com', 'gmx.de'];
const WORK_DOMAINS = ['acme.io', 'globex.com', 'initech.co', 'umbrella-corp.net', 'studio-nord.de', 'kaisha.co.jp'];

export interface Person {
  readonly name: string | null;
  readonly email: string;
  readonly image: string | null;
  readonly locale: string;
  readonly timezone: string | null;
  readonly marketingOptIn: boolean;
  /** JSON text as stored; null is SQL NULL, 'null' is the JSON value null. */
  readonly preferences: string | null;
  readonly apiKey: string | null;
  readonly traits: readonly Trait[];
}

function pickRegion(random: Random): Region {
  let roll = random.float() * REGION_WEIGHT;
  for (const region of REGIONS) {
    roll -= region.weight;
    if (roll < 0) return region;
  }
  return REGIONS[0] as Region;
}

function fullName(region: Region, given: string, family: string): string {
  if (region.order === 'given-family') return `${given} ${family}`;
  return region.order === 'family-given' ? `${family} ${given}` : `${family}${given}`;
}

/** Plain ASCII letters, digits and spaces only: what every slug function agrees on. */
export function isPlainAscii(text: string): boolean {
  return /^[A-Za-z0-9 ]+$/.test(text);
}

export class PersonFactory {
  readonly #random: Random;
  readonly #emails = new Set<string>();
  readonly #names = new Set<string>();

  constructor(random: Random) {
    this.#random = random;
  }

  next(apiKeyShare: number): Person {
    const random = this.#random;
    const traits: Trait[] = [];
    const region = pickRegion(random);
    const [given, givenRoman] = random.pick(region.given);
    const [family, familyRoman] = random.pick(region.family);
    const name = this.#name(region, given, family, traits);
    const email = this.#email(givenRoman, familyRoman, traits);
    const apiKey = this.#apiKey(apiKeyShare, traits);
    return {
      name,
      email,
      image: this.#image(),
      locale: region.locale,
      timezone: random.chance(0.3) ? null : random.pick(region.timezones),
      marketingOptIn: random.chance(0.35),
      preferences: this.#preferences(region, traits),
      apiKey,
      traits,
    };
  }

  #name(region: Region, given: string, family: string, traits: Trait[]): string | null {
    const random = this.#random;
    const roll = random.float();
    let name: string | null;
    // Sign-ups through a magic link or an OAuth provider without a profile name.
    if (roll < 0.12) name = null;
    else if (roll < 0.13) name = '';
    else if (roll < 0.135) name = `  ${fullName(region, given, family)} `;
    else if (roll < 0.16) name = given;
    else if (roll < 0.165) name = `${given} ${random.pick(['🚀', '✨', '🦊', '☕'])}`;
    else if (roll < 0.168)
      name = `Dr. ${fullName(region, given, family)}-${random.pick(['Rodríguez-Sepúlveda', 'Featherstonehaugh', 'Wolfeschlegelsteinhausen'])} III`;
    else if (roll < 0.178) name = fullName(region, given, family).toUpperCase();
    else name = fullName(region, given, family);

    if (name === null) traits.push('null-name');
    else if (name === '') traits.push('empty-name');
    else {
      if (name !== name.trim()) traits.push('padded-name');
      if (/\p{Extended_Pictographic}/u.test(name)) traits.push('emoji-name');
      if (name.length > 40) traits.push('long-name');
      if (name.length > 3 && name === name.toUpperCase() && /[A-Z]/.test(name)) traits.push('shouting-name');
      if (/[^\p{Script=Latin}\p{P}\p{Z}\p{Extended_Pictographic}\d]/u.test(name)) traits.push('non-latin-name');
      else if (/[^\x20-\x7e]/.test(name.replace(/\p{Extended_Pictographic}/gu, ''))) traits.push('accented-name');
      if (this.#names.has(name)) traits.push('name-collision');
      this.#names.add(name);
    }
    return name;
  }

  #email(given: string, family: string, traits: Trait[]): string {
    const random = this.#random;
    const local = random.pick([
      `${given}.${family}`,
      `${given}${family}`,
      `${given[0]}${family}`,
      `${given}_${family}`,
      `${given}${random.int(1, 99)}`,
      `${family}.${given}`,
    ]);
    const domain = random.chance(0.75) ? random.pick(MAIL_DOMAINS) : random.pick(WORK_DOMAINS);
    let candidate = `${local}@${domain}`;
    if (random.chance(0.01)) {
      candidate = `${local}+kanbu@${domain}`;
      traits.push('plus-email');
    }
    // Unique ignoring case, as the app's sign-up check is; a taken address
    // gets digits, as people do when theirs is gone.
    while (this.#emails.has(candidate.toLowerCase())) {
      candidate = `${local}${random.int(1, 9999)}@${domain}`;
    }
    this.#emails.add(candidate.toLowerCase());
    if (random.chance(0.01)) {
      // Typed with capitals before the app lowercased addresses.
      const [user, host] = candidate.split('@') as [string, string];
      candidate = `${user.charAt(0).toUpperCase()}${user.slice(1)}@${host.charAt(0).toUpperCase()}${host.slice(1)}`;
      traits.push('mixed-case-email');
    }
    return candidate;
  }

  #image(): string | null {
    const random = this.#random;
    const roll = random.float();
    if (roll < 0.4) return null;
    if (roll < 0.7) return `https://avatars.githubusercontent.com/u/${random.int(1, 190_000_000)}?v=4`;
    return `https://lh3.googleusercontent.com/a/${random.base62(28)}=s96-c`;
  }

  #apiKey(share: number, traits: Trait[]): string | null {
    const random = this.#random;
    if (!random.chance(share)) {
      traits.push('no-api-key');
      return null;
    }
    if (random.chance(0.05)) {
      traits.push('test-api-key');
      return `sk_test_${random.base62(32)}`;
    }
    traits.push('api-key');
    return `sk_live_${random.base62(32)}`;
  }

  #preferences(region: Region, traits: Trait[]): string | null {
    const random = this.#random;
    const roll = random.float();
    if (roll < 0.1) {
      traits.push('null-preferences');
      return null;
    }
    if (roll < 0.11) {
      // Prisma writes Prisma.JsonNull as the JSON value null, not SQL NULL.
      traits.push('json-null-preferences');
      return 'null';
    }
    if (roll < 0.14) {
      traits.push('empty-preferences');
      return '{}';
    }
    const preferences: Record<string, unknown> = {
      theme: random.pick(['light', 'dark', 'system']),
      notifications: {
        email: random.chance(0.7),
        push: random.chance(0.4),
        digest: random.pick(['daily', 'weekly', 'never']),
        ...(random.chance(0.3)
          ? { quietHours: { start: '22:00', end: random.pick(['06:30', '07:00', '08:00']) } }
          : {}),
      },
      editor: {
        fontSize: random.int(11, 18),
        tabSize: random.pick([2, 4]),
        keymap: random.pick(['default', 'vim', 'emacs']),
        wordWrap: random.chance(0.5),
      },
    };
    if (random.chance(0.5)) preferences.language = region.locale.slice(0, 2);
    if (random.chance(0.3)) {
      preferences.dashboard = { layout: random.pick(['grid', 'list', 'board']), pinned: random.int(0, 5), hidden: [] };
    }
    if (random.chance(0.2))
      preferences.betaFeatures = ['ai-assist', 'timeline', 'new-editor'].slice(0, random.int(1, 3));
    if (random.chance(0.1))
      preferences.signature = random.pick(['— ñandú ✓', 'Cheers, 🦊', '敬具', '"quoted" \\ path']);
    if (random.chance(0.05)) preferences.lastSeenChangelog = null;
    return JSON.stringify(preferences);
  }
}

/**
 * The slug every slug function makes of a plain ASCII name: lower case,
 * runs of anything else to one hyphen. Only fed plain ASCII here, so the
 * fixture's deliberate slug collisions do not depend on a transliteration.
 */
export function plainSlug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}
