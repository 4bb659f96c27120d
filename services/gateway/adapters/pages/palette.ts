/**
 * The pages' colours, named by use. Every text colour is paired with the background it is drawn
 * on in TEXT_ON_BACKGROUND; a unit test holds each pair to WCAG 2.x AA (contrast ratio 4.5:1 for
 * text, 3:1 for the focus ring and input borders against their surroundings).
 */
export const PALETTE = {
  pageBackground: '#eef0f3',
  cardBackground: '#ffffff',
  text: '#1b1f24',
  mutedText: '#4a525c',
  errorText: '#a4001d',
  errorBackground: '#fdecee',
  primaryButton: '#1f4fbf',
  primaryButtonText: '#ffffff',
  secondaryButton: '#ffffff',
  secondaryButtonText: '#1f4fbf',
  inputBorder: '#6b7480',
  focusRing: '#1f4fbf',
  codeBackground: '#eef0f3',
} as const;
export type PaletteColour = keyof typeof PALETTE;

/** [foreground, background] of every piece of text the CSS draws. */
export const TEXT_ON_BACKGROUND: ReadonlyArray<readonly [PaletteColour, PaletteColour]> = [
  ['text', 'cardBackground'],
  ['text', 'pageBackground'],
  ['mutedText', 'cardBackground'],
  ['errorText', 'errorBackground'],
  ['errorText', 'cardBackground'],
  ['primaryButtonText', 'primaryButton'],
  ['secondaryButtonText', 'secondaryButton'],
  ['text', 'codeBackground'],
  ['mutedText', 'codeBackground'],
];

/** [non-text element, what is next to it]: WCAG 1.4.11 asks 3:1. */
export const NON_TEXT_ON_BACKGROUND: ReadonlyArray<readonly [PaletteColour, PaletteColour]> = [
  ['inputBorder', 'cardBackground'],
  ['focusRing', 'cardBackground'],
  ['primaryButton', 'cardBackground'],
  ['secondaryButtonText', 'cardBackground'],
];
