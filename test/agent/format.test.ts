import { describe, expect, it } from 'vitest';
import { detectFormat, detectLineFormat } from '../../agent/format.js';

const CRI = '2024-05-06T07:08:09.123456789Z stdout F hello';
const CRIO = '1997-03-25T13:20:42.999999999+01:00 stderr P part';
const DOCKER = '{"log":"hello\\n","stream":"stdout","time":"2024-05-06T07:08:09.123456789Z"}';

describe('log format detection', () => {
  it('tells CRI, docker and anything else apart by line', () => {
    expect(detectLineFormat(CRI)).toBe('cri');
    expect(detectLineFormat(CRIO)).toBe('cri');
    expect(detectLineFormat(DOCKER)).toBe('docker');
    expect(detectLineFormat('{"msg":"an app writing JSON"}')).toBe('raw');
    expect(detectLineFormat('plain text')).toBe('raw');
  });

  it('decides from the first complete line of a file', () => {
    expect(detectFormat(`${CRI}\n${CRI}\n`)).toBe('cri');
    expect(detectFormat(Buffer.from(`${DOCKER}\n{"log":"par`))).toBe('docker');
    expect(detectFormat(new TextEncoder().encode(`${CRIO}\n`))).toBe('cri');
  });

  it('waits while no line is complete', () => {
    expect(detectFormat('')).toBeUndefined();
    expect(detectFormat(CRI)).toBeUndefined();
  });

  it('skips a stray first line and gives up as raw after a few', () => {
    expect(detectFormat(`garbage\n${DOCKER}\n`)).toBe('docker');
    expect(detectFormat('a\nb\nc\nd\ne\n')).toBe('raw');
    expect(detectFormat('a\nb\nc\nd\n' + CRI + '\n', 4)).toBe('raw');
  });
});
