import { de } from './de.js';
import { en } from './en.js';
import { fr } from './fr.js';
import type { Locale } from './locale.js';
import type { Messages } from './messages.js';

/** One catalog per supported locale: a locale without one does not compile. */
const CATALOGS: Record<Locale, Messages> = { en, de, fr };

export function messagesFor(locale: Locale): Messages {
  return CATALOGS[locale];
}
