/**
 * The lexer of Go's text/template (`text/template/parse/lex.go` semantics): text, `{{ }}` actions
 * with `{{- -}}` trim markers, `{{/* comments *\/}}`, and the tokens inside actions.
 *
 * It tokenizes the whole input up front and stops at the first error with an `error` item; the
 * parser meets that item only when it gets there, which gives the same error order as Go's lazy
 * lexer. Positions are UTF-16 indexes into the text (converted to Go's byte offsets for messages).
 */

export type ItemType =
  | 'error'
  | 'bool'
  | 'char'
  | 'charConstant'
  | 'complex'
  | 'assign'
  | 'declare'
  | 'EOF'
  | 'field'
  | 'identifier'
  | 'leftDelim'
  | 'leftParen'
  | 'number'
  | 'pipe'
  | 'rawString'
  | 'rightDelim'
  | 'rightParen'
  | 'space'
  | 'string'
  | 'text'
  | 'variable'
  // keywords
  | 'block'
  | 'break'
  | 'continue'
  | 'dot'
  | 'define'
  | 'else'
  | 'end'
  | 'if'
  | 'nil'
  | 'range'
  | 'template'
  | 'with';

export interface Item {
  typ: ItemType;
  pos: number;
  val: string;
  line: number;
}

const KEYWORDS: Record<string, ItemType> = {
  block: 'block',
  break: 'break',
  continue: 'continue',
  define: 'define',
  else: 'else',
  end: 'end',
  if: 'if',
  range: 'range',
  nil: 'nil',
  template: 'template',
  with: 'with',
};

const KEYWORD_TYPES = new Set<ItemType>(['block', 'break', 'continue', 'dot', 'define', 'else', 'end', 'if', 'nil', 'range', 'template', 'with']);

/** Go's `%q` of a string (strconv.Quote). */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    switch (ch) {
      case '"':
        out += '\\"';
        continue;
      case '\\':
        out += '\\\\';
        continue;
      case '\x07':
        out += '\\a';
        continue;
      case '\b':
        out += '\\b';
        continue;
      case '\f':
        out += '\\f';
        continue;
      case '\n':
        out += '\\n';
        continue;
      case '\r':
        out += '\\r';
        continue;
      case '\t':
        out += '\\t';
        continue;
      case '\v':
        out += '\\v';
        continue;
    }
    if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0');
    else if (c >= 0xd800 && c <= 0xdfff) out += '\\ufffd';
    else if ((c >= 0x80 && c < 0xa0) || c === 0xad || c === 0xfeff || (c >= 0x2028 && c <= 0x202f && c !== 0x202f) || (c >= 0xfff9 && c <= 0xfffb)) {
      out += c > 0xffff ? '\\U' + c.toString(16).padStart(8, '0') : '\\u' + c.toString(16).padStart(4, '0');
    } else out += ch;
  }
  return out + '"';
}

/** Go's `item.String()`, as parse errors print tokens. */
export function itemString(i: Item): string {
  if (i.typ === 'EOF') return 'EOF';
  if (i.typ === 'error') return i.val;
  if (KEYWORD_TYPES.has(i.typ)) return `<${i.val}>`;
  const runes = [...i.val];
  if (runes.length > 10) return goQuote(runes.slice(0, 10).join('')) + '...';
  return goQuote(i.val);
}

const isSpace = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\r' || c === '\n';
const isAlphaNumeric = (c: string | undefined): boolean => c !== undefined && (c === '_' || /^[\p{L}\p{Nd}]$/u.test(c));
const hasLeftTrimMarker = (s: string, i: number): boolean => s[i] === '-' && isSpace(s[i + 1]);
const hasRightTrimMarker = (s: string, i: number): boolean => isSpace(s[i]) && s[i + 1] === '-';

/** Go's `%#U` of a rune: `U+0023 '#'`. */
function runeU(ch: string): string {
  const c = ch.codePointAt(0)!;
  const hex = 'U+' + c.toString(16).toUpperCase().padStart(4, '0');
  return /^[\p{L}\p{N}\p{P}\p{S}\p{Zs}]$/u.test(ch) && ch !== ' ' ? `${hex} '${ch}'` : ch === ' ' ? `${hex} ' '` : hex;
}

const LEFT = '{{';
const RIGHT = '}}';

/** Tokenizes a template; the last item is EOF or an error. */
export function lex(input: string): Item[] {
  const items: Item[] = [];
  let pos = 0;
  let start = 0;
  let line = 1;
  let startLine = 1;
  const emit = (typ: ItemType): void => {
    items.push({ typ, pos: start, val: input.slice(start, pos), line: startLine });
    start = pos;
    startLine = line;
  };
  const ignore = (): void => {
    start = pos;
    startLine = line;
  };
  const error = (msg: string): Item[] => {
    items.push({ typ: 'error', pos: start, val: msg, line: startLine });
    return items;
  };
  const atRightDelim = (): { delim: boolean; trim: boolean } => {
    if (hasRightTrimMarker(input, pos) && input.startsWith(RIGHT, pos + 2)) return { delim: true, trim: true };
    if (input.startsWith(RIGHT, pos)) return { delim: true, trim: false };
    return { delim: false, trim: false };
  };
  const atTerminator = (): boolean => {
    const r = input[pos];
    if (r === undefined || isSpace(r)) return true;
    if ('.,|:()'.includes(r)) return true;
    return input.startsWith(RIGHT, pos);
  };
  // advance `pos` over n chars, counting newlines
  const adv = (n: number): void => {
    for (let k = 0; k < n; k++) if (input[pos + k] === '\n') line++;
    pos += n;
  };

  for (;;) {
    // ---- text ----
    const x = input.indexOf(LEFT, pos);
    if (x < 0) {
      adv(input.length - pos);
      if (pos > start) emit('text');
      emit('EOF');
      return items;
    }
    let trimLen = 0;
    if (hasLeftTrimMarker(input, x + LEFT.length)) {
      let k = x;
      while (k > start && isSpace(input[k - 1])) k--;
      trimLen = x - k;
    }
    adv(x - trimLen - pos);
    if (pos > start) emit('text');
    adv(trimLen);
    ignore();
    // ---- left delim ----
    adv(LEFT.length);
    const trimSpace = hasLeftTrimMarker(input, pos);
    const afterMarker = trimSpace ? 2 : 0;
    if (input.startsWith('/*', pos + afterMarker)) {
      adv(afterMarker);
      ignore();
      // ---- comment ----
      adv(2);
      const i = input.indexOf('*/', pos);
      if (i < 0) return error('unclosed comment');
      adv(i + 2 - pos);
      const d = atRightDelim();
      if (!d.delim) return error('comment ends before closing delimiter');
      if (d.trim) adv(2);
      adv(RIGHT.length);
      if (d.trim) while (isSpace(input[pos])) adv(1);
      ignore();
      continue;
    }
    emit('leftDelim');
    adv(afterMarker);
    ignore();
    let parenDepth = 0;
    // ---- inside action ----
    for (;;) {
      const d = atRightDelim();
      if (d.delim) {
        if (parenDepth !== 0) return error('unclosed left paren');
        if (d.trim) {
          adv(2);
          ignore();
        }
        adv(RIGHT.length);
        emit('rightDelim');
        if (d.trim) {
          while (isSpace(input[pos])) adv(1);
          ignore();
        }
        break;
      }
      const r = input[pos];
      if (r === undefined) return error('unclosed action');
      if (isSpace(r)) {
        let n = 0;
        while (isSpace(input[pos])) {
          adv(1);
          n++;
        }
        // A trim-marked right delimiter starts with a space.
        if (hasRightTrimMarker(input, pos - 1) && input.startsWith(RIGHT, pos + 1)) {
          pos--;
          if (input[pos] === '\n') line--;
          if (n === 1) continue;
        }
        emit('space');
        continue;
      }
      const cp = input.codePointAt(pos)!;
      const ch = String.fromCodePoint(cp);
      if (r === '=') {
        adv(1);
        emit('assign');
      } else if (r === ':') {
        adv(1);
        if (input[pos] !== '=') return error('expected :=');
        adv(1);
        emit('declare');
      } else if (r === '|') {
        adv(1);
        emit('pipe');
      } else if (r === '"') {
        adv(1);
        for (;;) {
          const c = input[pos];
          if (c === '\\') {
            adv(1);
            const c2 = input[pos];
            if (c2 === undefined || c2 === '\n') return error('unterminated quoted string');
            adv(1);
            continue;
          }
          if (c === undefined || c === '\n') return error('unterminated quoted string');
          adv(1);
          if (c === '"') break;
        }
        emit('string');
      } else if (r === '`') {
        adv(1);
        const end = input.indexOf('`', pos);
        if (end < 0) return error('unterminated raw quoted string');
        adv(end + 1 - pos);
        emit('rawString');
      } else if (r === '$' || (r === '.' && !(pos + 1 < input.length && input[pos + 1]! >= '0' && input[pos + 1]! <= '9'))) {
        adv(1);
        const typ: ItemType = r === '$' ? 'variable' : 'field';
        if (atTerminator()) {
          emit(r === '$' ? 'variable' : 'dot');
          continue;
        }
        while (pos < input.length) {
          const c = String.fromCodePoint(input.codePointAt(pos)!);
          if (!isAlphaNumeric(c)) break;
          adv(c.length);
        }
        if (!atTerminator()) return error(`bad character ${runeU(String.fromCodePoint(input.codePointAt(pos)!))}`);
        emit(typ);
      } else if (r === "'") {
        adv(1);
        for (;;) {
          const c = input[pos];
          if (c === '\\') {
            adv(1);
            const c2 = input[pos];
            if (c2 === undefined || c2 === '\n') return error('unterminated character constant');
            adv(1);
            continue;
          }
          if (c === undefined || c === '\n') return error('unterminated character constant');
          adv(1);
          if (c === "'") break;
        }
        emit('charConstant');
      } else if (r === '.' || r === '+' || r === '-' || (r >= '0' && r <= '9')) {
        if (!scanNumber()) return error(`bad number syntax: ${goQuote(input.slice(start, pos))}`);
        if (input[pos] === '+' || input[pos] === '-') {
          if (!scanNumber() || input[pos - 1] !== 'i') return error(`bad number syntax: ${goQuote(input.slice(start, pos))}`);
          emit('complex');
        } else emit('number');
      } else if (isAlphaNumeric(ch)) {
        while (pos < input.length) {
          const c = String.fromCodePoint(input.codePointAt(pos)!);
          if (!isAlphaNumeric(c)) break;
          adv(c.length);
        }
        const word = input.slice(start, pos);
        if (!atTerminator()) return error(`bad character ${runeU(String.fromCodePoint(input.codePointAt(pos)!))}`);
        const kw = KEYWORDS[word];
        if (kw !== undefined) emit(kw);
        else if (word === 'true' || word === 'false') emit('bool');
        else emit('identifier');
      } else if (r === '(') {
        adv(1);
        emit('leftParen');
        parenDepth++;
      } else if (r === ')') {
        adv(1);
        emit('rightParen');
        parenDepth--;
        if (parenDepth < 0) return error(`unexpected right paren ${runeU(')')}`);
      } else if (cp <= 0x7f && cp >= 0x20 && cp !== 0x7f) {
        adv(1);
        emit('char');
      } else {
        return error(`unrecognized character in action: ${runeU(ch)}`);
      }
    }
  }

  function accept(valid: string): boolean {
    const c = input[pos];
    if (c !== undefined && valid.includes(c)) {
      pos++;
      return true;
    }
    return false;
  }
  function acceptRun(valid: string): void {
    while (accept(valid));
  }
  function scanNumber(): boolean {
    accept('+-');
    let digits = '0123456789_';
    if (accept('0')) {
      if (accept('xX')) digits = '0123456789abcdefABCDEF_';
      else if (accept('oO')) digits = '01234567_';
      else if (accept('bB')) digits = '01_';
    }
    acceptRun(digits);
    if (accept('.')) acceptRun(digits);
    if (digits.length === 11 && accept('eE')) {
      accept('+-');
      acceptRun('0123456789_');
    }
    if (digits.length === 23 && accept('pP')) {
      accept('+-');
      acceptRun('0123456789_');
    }
    accept('i');
    const c = input[pos];
    if (c !== undefined && isAlphaNumeric(String.fromCodePoint(input.codePointAt(pos)!))) {
      pos += String.fromCodePoint(input.codePointAt(pos)!).length;
      return false;
    }
    return true;
  }
}
