import { NON_TEXT_ON_BACKGROUND, PALETTE, TEXT_ON_BACKGROUND } from '../../services/gateway/adapters/pages/palette.js';

/**
 * WCAG 2.x contrast (https://www.w3.org/TR/WCAG22/#dfn-contrast-ratio) of the pages' colours:
 * AA asks 4.5:1 for normal text (1.4.3) and 3:1 for borders and focus indicators (1.4.11).
 */
function relativeLuminance(hex: string): number {
  const match = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  if (!match) throw new Error(`not a #rrggbb colour: ${hex}`);
  const [r, g, b] = match.slice(1).map((part) => {
    const c = parseInt(part, 16) / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

function contrastRatio(foreground: string, background: string): number {
  const [lighter, darker] = [relativeLuminance(foreground), relativeLuminance(background)].sort((a, b) => b - a) as [number, number];
  return (lighter + 0.05) / (darker + 0.05);
}

describe('contrast ratio', () => {
  it('matches the known extremes and a published pair', () => {
    expect(contrastRatio('#000000', '#ffffff')).toBeCloseTo(21, 5);
    expect(contrastRatio('#ffffff', '#ffffff')).toBeCloseTo(1, 5);
    // #767676 on white is the classic "just passes AA" grey: 4.54:1.
    expect(contrastRatio('#767676', '#ffffff')).toBeCloseTo(4.54, 2);
    expect(contrastRatio('#777777', '#ffffff')).toBeLessThan(4.5);
  });

  it.each(TEXT_ON_BACKGROUND.map(([fg, bg]) => [fg, bg, PALETTE[fg], PALETTE[bg]]))(
    'text %s on %s (%s on %s) reaches 4.5:1',
    (_fg, _bg, foreground, background) => {
      expect(contrastRatio(foreground, background)).toBeGreaterThanOrEqual(4.5);
    },
  );

  it.each(NON_TEXT_ON_BACKGROUND.map(([fg, bg]) => [fg, bg, PALETTE[fg], PALETTE[bg]]))(
    'non-text %s next to %s (%s on %s) reaches 3:1',
    (_fg, _bg, foreground, background) => {
      expect(contrastRatio(foreground, background)).toBeGreaterThanOrEqual(3);
    },
  );
});
