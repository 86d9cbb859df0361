import fc from 'fast-check';
import { tailLines } from './output-text.js';

/** The obvious version: split into lines (each keeping its newline) and keep the last n. */
function reference(text: string, n: number): string {
  const lines = text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
  return lines.slice(Math.max(0, lines.length - n)).join('');
}

describe('tailLines', () => {
  it('keeps the last lines with their newlines, a final newline not counting as a line', () => {
    expect(tailLines('a\nb\nc\n', 2)).toBe('b\nc\n');
    expect(tailLines('a\nb\nc', 2)).toBe('b\nc');
    expect(tailLines('a\n\nb\n', 2)).toBe('\nb\n');
    expect(tailLines('\n', 1)).toBe('\n');
  });

  it('returns the whole text when it has no more lines than asked for', () => {
    expect(tailLines('a\nb\n', 5)).toBe('a\nb\n');
    expect(tailLines('', 3)).toBe('');
  });

  it('agrees with splitting into lines for any text', () => {
    fc.assert(fc.property(fc.string({ unit: fc.constantFrom('a', 'b', '\n') }), fc.integer({ min: 1, max: 6 }), (text, n) => {
      expect(tailLines(text, n)).toBe(reference(text, n));
    }));
  });
});
