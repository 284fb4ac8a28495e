import { describe, expect, it } from '@jest/globals';
import { copyTextField } from './pg-copy.js';

describe('COPY text fields', () => {
  it('writes numbers as JavaScript prints them, which PostgreSQL reads back exactly', () => {
    expect(copyTextField(1.0848)).toBe('1.0848');
    expect(copyTextField(1767607200123)).toBe('1767607200123');
    expect(copyTextField(1e-7)).toBe('1e-7');
    expect(copyTextField(-3)).toBe('-3');
  });

  it('refuses numbers COPY cannot represent as the value meant', () => {
    expect(() => copyTextField(Number.NaN)).toThrow(RangeError);
    expect(() => copyTextField(Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });

  it('escapes the characters that separate fields and rows, and the escape character itself', () => {
    expect(copyTextField('EUR/USD')).toBe('EUR/USD');
    expect(copyTextField('a\tb\nc\rd\\e')).toBe('a\\tb\\nc\\rd\\\\e');
    expect(copyTextField('\\N')).toBe('\\\\N');
  });
});
