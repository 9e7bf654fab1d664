/**
 * Go `fmt.Sprintf` for templates: verbs %v %s %q %d %b %o %O %x %X %c %U %e %E %f %F %g %G %t %T %%,
 * flags `-+# 0`, width and precision (also `*`), and Go's error forms (`%!d(string=x)`,
 * `%!s(MISSING)`, `%!(EXTRA int=1)`, `%!(NOVERB)`).
 */
import { goQuote } from './lexer.js';
import { GoTime } from './time.js';
import { formatFloatV, formatV, goExp, GoInt, GoSlice, isInt, intValue, typeName, utf8Bytes, type GoValue } from './values.js';

interface Spec {
  minus: boolean;
  plus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  width: number | null;
  prec: number | null;
}

const runeLen = (s: string): number => {
  let n = 0;
  for (const _ of s) n++;
  return n;
};

function pad(s: string, sp: Spec, numeric = false): string {
  if (sp.width === null) return s;
  const n = runeLen(s);
  if (n >= sp.width) return s;
  const fill = sp.width - n;
  if (sp.minus) return s + ' '.repeat(fill);
  if (sp.zero && numeric) {
    const sign = s[0] === '-' || s[0] === '+' || s[0] === ' ' ? s[0] : '';
    return sign + '0'.repeat(fill) + s.slice(sign.length);
  }
  if (sp.zero && !numeric) return '0'.repeat(fill) + s;
  return ' '.repeat(fill) + s;
}

function badVerb(verb: string, v: GoValue): string {
  if (v === null || typeof v === 'symbol') return `%!${verb}(<nil>)`;
  return `%!${verb}(${typeName(v)}=${formatV(v)})`;
}

function fmtInt(n: bigint, verb: string, sp: Spec): string {
  const neg = n < 0n;
  const a = neg ? -n : n;
  let digits: string;
  let prefix = '';
  switch (verb) {
    case 'd':
    case 'v':
      digits = a.toString(10);
      break;
    case 'b':
      digits = a.toString(2);
      if (sp.sharp) prefix = '0b';
      break;
    case 'o':
      digits = a.toString(8);
      if (sp.sharp && digits[0] !== '0') prefix = '0';
      break;
    case 'O':
      digits = a.toString(8);
      prefix = '0o';
      break;
    case 'x':
      digits = a.toString(16);
      if (sp.sharp) prefix = '0x';
      break;
    case 'X':
      digits = a.toString(16).toUpperCase();
      if (sp.sharp) prefix = '0X';
      break;
    default:
      digits = a.toString(10);
  }
  if (sp.prec !== null) {
    if (sp.prec === 0 && a === 0n) digits = '';
    digits = digits.padStart(sp.prec, '0');
  }
  const sign = neg ? '-' : sp.plus ? '+' : sp.space ? ' ' : '';
  const body = prefix + digits;
  if (sp.width !== null && sp.zero && !sp.minus && sp.prec === null) {
    const fill = sp.width - sign.length - body.length;
    if (fill > 0) return sign + prefix + '0'.repeat(fill) + digits;
  }
  return pad(sign + body, { ...sp, zero: false });
}

function fmtFloat(f: number, verb: string, sp: Spec): string {
  let s: string;
  if (!Number.isFinite(f)) {
    // Go's fmtFloat keeps the sign of an infinity (`+Inf`, or ` Inf` with the space flag) and
    // shows one on NaN only when the plus or space flag asks for it.
    const sign = f < 0 ? '-' : sp.plus ? '+' : sp.space ? ' ' : Number.isNaN(f) ? '' : '+';
    s = sign + (Number.isNaN(f) ? 'NaN' : 'Inf');
    return pad(s, { ...sp, zero: false });
  }
  const prec = sp.prec;
  switch (verb) {
    case 'v':
    case 'g':
    case 'G':
      if (prec === null) s = formatFloatV(f);
      else s = formatG(f, prec === 0 ? 1 : prec);
      if (verb === 'G') s = s.toUpperCase();
      break;
    case 'e':
    case 'E': {
      const [m, e] = f.toExponential(prec ?? 6).split('e') as [string, string];
      s = m + goExp(Number(e));
      if (verb === 'E') s = s.toUpperCase();
      break;
    }
    default:
      s = toFixed(f, prec ?? 6);
  }
  if (Object.is(f, -0) && !s.startsWith('-')) s = '-' + s;
  if (!s.startsWith('-')) s = (sp.plus ? '+' : sp.space ? ' ' : '') + s;
  return pad(s, sp, true);
}

function toFixed(f: number, prec: number): string {
  if (Math.abs(f) < 1e21) return f.toFixed(Math.min(prec, 100));
  // Large values: exact integer digits.
  return BigInt(f).toString() + (prec > 0 ? '.' + '0'.repeat(prec) : '');
}

/** `%.Ng`: N significant digits, exponent form when exp < -4 || exp >= N, trailing zeros dropped. */
function formatG(f: number, prec: number): string {
  if (f === 0) return '0';
  const [m, e] = f.toExponential(Math.min(prec, 100) - 1).split('e') as [string, string];
  const exp = Number(e);
  const mant = m.includes('.') ? m.replace(/0+$/, '').replace(/\.$/, '') : m;
  const nd = mant.replace(/[-.]/g, '').length;
  let eprec = prec;
  if (eprec > nd && nd >= exp + 1) eprec = nd;
  if (exp < -4 || exp >= eprec) return mant + goExp(exp);
  const neg = mant.startsWith('-');
  const digits = mant.replace(/[-.]/g, '');
  let out: string;
  if (exp >= 0) {
    const intPart = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
    const frac = digits.slice(exp + 1);
    out = frac ? intPart + '.' + frac : intPart;
  } else {
    out = '0.' + '0'.repeat(-exp - 1) + digits;
  }
  return (neg ? '-' : '') + out;
}

function fmtString(s: string, verb: string, sp: Spec): string {
  switch (verb) {
    case 'v':
    case 's': {
      const t = sp.prec !== null ? [...s].slice(0, sp.prec).join('') : s;
      return pad(t, sp);
    }
    case 'q': {
      const t = sp.prec !== null ? [...s].slice(0, sp.prec).join('') : s;
      return pad(sp.sharp && !t.includes('`') ? '`' + t + '`' : goQuote(t), sp);
    }
    case 'x':
    case 'X': {
      let bytes = utf8Bytes(s);
      if (sp.prec !== null) bytes = bytes.slice(0, sp.prec);
      let out = '';
      for (let i = 0; i < bytes.length; i++) {
        if (sp.space && i > 0) out += ' ';
        if (sp.sharp && (sp.space || i === 0)) out += verb === 'x' ? '0x' : '0X';
        const h = bytes[i]!.toString(16).padStart(2, '0');
        out += verb === 'X' ? h.toUpperCase() : h;
      }
      return pad(out, sp);
    }
  }
  return badVerb(verb, s);
}

function fmtValue(v: GoValue, verb: string, sp: Spec): string {
  if (verb === 'T') return pad(v === null || typeof v === 'symbol' ? '<nil>' : typeName(v), sp);
  if (v === null || typeof v === 'symbol') return verb === 'v' ? pad('<nil>', sp) : badVerb(verb, v);
  if (typeof v === 'string') return fmtString(v, verb, sp);
  if (typeof v === 'boolean') {
    if (verb === 'v' || verb === 't') return pad(v ? 'true' : 'false', sp);
    return badVerb(verb, v);
  }
  if (isInt(v)) {
    const n = intValue(v);
    switch (verb) {
      case 'v':
      case 'd':
      case 'b':
      case 'o':
      case 'O':
      case 'x':
      case 'X':
        return fmtInt(n, verb, sp);
      case 'c':
        return pad(String.fromCodePoint(Number(n) >= 0 && Number(n) <= 0x10ffff ? Number(n) : 0xfffd), sp);
      case 'q':
        return pad("'" + goQuote(String.fromCodePoint(Number(n))).slice(1, -1).replace(/\\"/g, '"').replace(/'/g, "\\'") + "'", sp);
      case 'U': {
        const h = 'U+' + n.toString(16).toUpperCase().padStart(4, '0');
        return pad(sp.sharp ? `${h} '${String.fromCodePoint(Number(n))}'` : h, sp);
      }
      case 'e':
      case 'E':
      case 'f':
      case 'F':
      case 'g':
      case 'G':
        return badVerb(verb, v);
    }
    return badVerb(verb, v);
  }
  if (typeof v === 'number') {
    switch (verb) {
      case 'v':
      case 'e':
      case 'E':
      case 'f':
      case 'F':
      case 'g':
      case 'G':
        return fmtFloat(v, verb, sp);
    }
    return badVerb(verb, v);
  }
  if (v instanceof GoTime) {
    if (verb === 'v' || verb === 's') return fmtString(v.toString(), verb, sp);
    if (verb === 'q') return fmtString(v.toString(), 'q', sp);
    return badVerb(verb, v);
  }
  if (v instanceof GoSlice) {
    if (verb === 'v' || verb === 's' || verb === 'd' || verb === 'q' || verb === 'x') {
      return '[' + v.items.map((x) => fmtValue(x, verb, { ...sp, width: null })).join(' ') + ']';
    }
    return badVerb(verb, v);
  }
  // map
  const parts = v.sortedKeys().map((k) => fmtValue(k, verb, { ...sp, width: null }) + ':' + fmtValue(v.lookup(k) ?? null, verb, { ...sp, width: null }));
  return 'map[' + parts.join(' ') + ']';
}

/** Go `fmt.Sprintf(format, args...)`. */
export function sprintf(format: string, args: GoValue[]): string {
  let out = '';
  let argNum = 0;
  const n = format.length;
  for (let i = 0; i < n; ) {
    const c = format[i]!;
    if (c !== '%') {
      const j = format.indexOf('%', i);
      const end = j < 0 ? n : j;
      out += format.slice(i, end);
      i = end;
      continue;
    }
    i++;
    const sp: Spec = { minus: false, plus: false, sharp: false, space: false, zero: false, width: null, prec: null };
    flags: while (i < n) {
      switch (format[i]) {
        case '-':
          sp.minus = true;
          sp.zero = false;
          break;
        case '+':
          sp.plus = true;
          break;
        case '#':
          sp.sharp = true;
          break;
        case ' ':
          sp.space = true;
          break;
        case '0':
          sp.zero = !sp.minus;
          break;
        default:
          break flags;
      }
      i++;
    }
    const readNum = (): number | null => {
      let j = i;
      while (j < n && format[j]! >= '0' && format[j]! <= '9') j++;
      if (j === i) return null;
      const v = Number(format.slice(i, j));
      i = j;
      return v;
    };
    const starArg = (): number | null => {
      const a = args[argNum++];
      if (a === undefined) {
        out += '%!(BADWIDTH)';
        return null;
      }
      if (!isInt(a)) {
        out += '%!(BADWIDTH)';
        return null;
      }
      return Number(intValue(a));
    };
    if (format[i] === '*') {
      i++;
      sp.width = starArg();
      if (sp.width !== null && sp.width < 0) {
        sp.minus = true;
        sp.width = -sp.width;
      }
    } else sp.width = readNum();
    if (format[i] === '.') {
      i++;
      if (format[i] === '*') {
        i++;
        sp.prec = starArg();
        if (sp.prec !== null && sp.prec < 0) sp.prec = null;
      } else sp.prec = readNum() ?? 0;
    }
    if (i >= n) {
      out += '%!(NOVERB)';
      break;
    }
    const verb = String.fromCodePoint(format.codePointAt(i)!);
    i += verb.length;
    if (verb === '%') {
      out += '%';
      continue;
    }
    if (argNum >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    const a = args[argNum++]!;
    if (verb === 'v' && sp.plus) sp.plus = a !== null && typeof a !== 'symbol' && (typeof a === 'number' || a instanceof GoInt || typeof a === 'bigint');
    out += 'vdbBoOxXcqUeEfFgGstT'.includes(verb) ? fmtValue(a, verb, sp) : badVerb(verb, a);
  }
  if (argNum < args.length) {
    out += '%!(EXTRA ' + args.slice(argNum).map((a) => (a === null || typeof a === 'symbol' ? '<nil>' : `${typeName(a)}=${formatV(a)}`)).join(', ') + ')';
  }
  return out;
}
