/** `decolorize`: strips ANSI colour/escape sequences from the line (Loki uses the stripansi expression). */
import type { LabelsBuilder } from './labels.js';
import type { Stage } from './stage.js';

// ESC or CSI, then the sequence body (same expression as the widely used strip-ansi/stripansi).
const ANSI =
  /[\u001B\u009B][[\]()#;?]*(?:(?:(?:[a-zA-Z\d]*(?:;[a-zA-Z\d]*)*)?\u0007)|(?:(?:\d{1,4}(?:;\d{0,4})*)?[\dA-PRZcf-ntqry=><~]))/g;

/** Whether the bytes may contain an escape: ESC (0x1B) or a UTF-8 encoded CSI (0xC2 0x9B). */
function mayHaveEscape(line: Uint8Array): boolean {
  if (line.indexOf(0x1b) >= 0) return true;
  let i = line.indexOf(0x9b);
  while (i > 0) {
    if (line[i - 1] === 0xc2) return true;
    i = line.indexOf(0x9b, i + 1);
  }
  return false;
}

export class Decolorize implements Stage {
  process(_ts: bigint, line: Uint8Array, lbs: LabelsBuilder): Uint8Array | null {
    if (!mayHaveEscape(line)) return line;
    const text = lbs.lineText(line);
    const out = text.replace(ANSI, '');
    return out.length === text.length ? line : Buffer.from(out);
  }
}
