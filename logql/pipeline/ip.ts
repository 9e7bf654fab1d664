/**
 * `ip("…")` patterns of line and label filters (Loki's pkg/logql/log/ip.go): a single address,
 * a range `a-b` or a CIDR, IPv4 or IPv6. Membership is checked with node's `net.BlockList`, and
 * only for an address of the pattern's family (Go's netip never matches a v4 pattern with an
 * IPv4-mapped v6 address).
 *
 * Finding addresses in a line follows Loki's scan (on the bytes): at each position, an IPv4 hint (a digit with a `.`
 * within the next three bytes) takes the run of `[0-9.]`, else an IPv6 hint (`::h`, or 1–4 hex
 * digits then `:`) takes the run of `[0-9A-Fa-f:.]`; the run is parsed as an address and, if it
 * does not match, scanning resumes one past its end.
 */
import { BlockList, isIP } from 'node:net';

const PREFIX_BITS = /^(?:0|[1-9][0-9]{0,2})$/;

export class IpMatcher {
  private readonly list = new BlockList();
  private readonly family: 4 | 6;

  /** Throws `Error('ip: invalid pattern: "…"')` for a pattern Loki rejects. */
  constructor(pattern: string) {
    const invalid = (): Error => new Error(`ip: invalid pattern: ${JSON.stringify(pattern)}`);
    let family = isIP(pattern);
    try {
      if (family !== 0) {
        this.list.addAddress(pattern, family === 4 ? 'ipv4' : 'ipv6');
      } else if (pattern.includes('/')) {
        const slash = pattern.indexOf('/');
        const addr = pattern.slice(0, slash);
        const bits = pattern.slice(slash + 1);
        family = isIP(addr);
        if (family === 0 || !PREFIX_BITS.test(bits) || Number(bits) > (family === 4 ? 32 : 128)) throw invalid();
        this.list.addSubnet(addr, Number(bits), family === 4 ? 'ipv4' : 'ipv6');
      } else {
        const dash = pattern.indexOf('-');
        if (dash < 0) throw invalid();
        const start = pattern.slice(0, dash);
        const end = pattern.slice(dash + 1);
        family = isIP(start);
        if (family === 0 || isIP(end) !== family) throw invalid();
        this.list.addRange(start, end, family === 4 ? 'ipv4' : 'ipv6');
      }
    } catch {
      throw invalid();
    }
    this.family = family as 4 | 6;
  }

  /** Whether `value` is exactly one address inside the pattern. */
  matchesAddress(value: string): boolean {
    if (isIP(value) !== this.family) return false;
    return this.list.check(value, this.family === 4 ? 'ipv4' : 'ipv6');
  }

  /** Whether an address found in the line bytes by Loki's scan is inside the pattern. */
  matchesAnyIn(line: Uint8Array): boolean {
    const n = line.length;
    for (let i = 0; i < n; i++) {
      let end = -1;
      if (i + 3 < n && isV4Hint(line, i)) {
        end = i + 1;
        while (end < n && isV4Char(line[end]!)) end++;
      } else if (i + 4 < n && isV6Hint(line, i)) {
        end = i + 1;
        while (end < n && isV6Char(line[end]!)) end++;
      }
      if (end < 0) continue;
      // Addresses are at most 45 characters (IPv6 with an embedded IPv4).
      if (end - i <= 45 && this.matchesAddress(ascii(line, i, end))) return true;
      i = end;
    }
    return false;
  }

  /** `matchesAnyIn` for a string (label values). */
  matchesAnyInText(text: string): boolean {
    return this.matchesAnyIn(Buffer.from(text));
  }
}

function ascii(b: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i++) s += String.fromCharCode(b[i]!);
  return s;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isHex(c: number): boolean {
  return isDigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

function isV4Char(c: number): boolean {
  return isDigit(c) || c === 46;
}

function isV6Char(c: number): boolean {
  return isHex(c) || c === 58 || c === 46;
}

function isV4Hint(b: Uint8Array, i: number): boolean {
  return isDigit(b[i]!) && (b[i + 1] === 46 || b[i + 2] === 46 || b[i + 3] === 46);
}

function isV6Hint(b: Uint8Array, i: number): boolean {
  if (b[i] === 58) return b[i + 1] === 58 && isHex(b[i + 2]!);
  for (let k = 0; k < 4; k++) {
    if (!isHex(b[i + k]!)) return false;
    if (b[i + k + 1] === 58) return true;
  }
  return false;
}
