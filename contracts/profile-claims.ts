import { z } from 'zod';

/**
 * The End-User's standard claims (OIDC Core §5.1) as a registration gives them: what
 * `idp.authn.register_user` accepts besides the username and password. Every value is bounded
 * and shaped as §5.1 describes it; `sub` and `updated_at` are the server's own.
 */

/** §5.2: the claims that may carry language-tagged variants here (`name#de`, `family_name#ja-Kana-JP`). */
export const LOCALIZABLE_CLAIMS = ['name', 'given_name', 'family_name', 'nickname'] as const;
export type LocalizableClaim = (typeof LOCALIZABLE_CLAIMS)[number];

/** A BCP 47 language tag as §5.2 uses them (`de`, `de-CH`, `ja-Kana-JP`), case-insensitive. */
const LANGUAGE_TAG = /^[A-Za-z]{2,8}(?:-[A-Za-z0-9]{1,8}){0,7}$/;

/** `name#de` -> { claim: 'name', tag: 'de' }; undefined for anything else. */
export function splitLanguageTag(claimName: string): { claim: LocalizableClaim; tag: string } | undefined {
  const hash = claimName.indexOf('#');
  if (hash < 0) return undefined;
  const claim = claimName.slice(0, hash);
  const tag = claimName.slice(hash + 1);
  if (!(LOCALIZABLE_CLAIMS as readonly string[]).includes(claim) || tag.length > 35 || !LANGUAGE_TAG.test(tag)) return undefined;
  return { claim: claim as LocalizableClaim, tag };
}

const text = (max: number) => z.string().min(1).max(max);
const NAME = text(256);

/** profile, picture, website: absolute http(s) URLs only (never `javascript:` or `data:`). */
const HttpUrl = z
  .string()
  .max(2048)
  .url()
  .refine((value) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol), { message: 'must be an http or https URL' });

/** §5.1: E.164 (`+` and at most 15 digits), optionally an RFC 3966 extension `;ext=1234`. */
export const PhoneNumber = z
  .string()
  .regex(/^\+[1-9][0-9]{1,14}(?:;ext=[0-9]{1,10})?$/, 'must be E.164: + then 2 to 15 digits, optionally ;ext=<digits>');

/** §5.1: `YYYY-MM-DD` or `YYYY` (year `0000`: the year is withheld), a date that exists. */
export const Birthdate = z.string().refine(
  (value) => {
    if (/^[0-9]{4}$/.test(value)) return value !== '0000';
    const match = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/.exec(value);
    if (!match) return false;
    const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
    // Year 0000 stands for "withheld": check the day against a leap year, so 0000-02-29 passes.
    const date = new Date(Date.UTC(year === 0 ? 2000 : year, month - 1, day));
    return month >= 1 && month <= 12 && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
  },
  { message: 'must be YYYY-MM-DD or YYYY' },
);

/** §5.1: an IANA time zone name this runtime knows (`Europe/Paris`). */
export const Zoneinfo = z
  .string()
  .max(64)
  .regex(/^[A-Za-z][A-Za-z0-9_+-]*(?:\/[A-Za-z0-9_+-]+){0,2}$/, 'must be an IANA time zone name')
  .refine(
    (zone) => {
      try {
        new Intl.DateTimeFormat('en', { timeZone: zone });
        return true;
      } catch {
        return false;
      }
    },
    { message: 'unknown time zone' },
  );

/** §5.1: a BCP 47 language tag; some implementations use `_`, which §5.1 tolerates. */
export const Locale = z.string().max(35).regex(/^[A-Za-z]{2,8}(?:[-_][A-Za-z0-9]{1,8}){0,7}$/, 'must be a BCP 47 language tag');

/** §5.1.1: the address claim; at least one member. */
export const AddressClaim = z
  .object({
    formatted: text(1024).optional(),
    street_address: text(512).optional(),
    locality: NAME.optional(),
    region: NAME.optional(),
    postal_code: text(32).optional(),
    country: NAME.optional(),
  })
  .strict()
  .refine((address) => Object.keys(address).length > 0, { message: 'an address needs at least one member' });
export type AddressClaim = z.infer<typeof AddressClaim>;

/** At most this many language-tagged values per user. */
const MAX_LANGUAGE_TAGGED = 32;

/**
 * The claims a registration may carry (a raw shape: message schemas spread it). `email_verified`
 * and `phone_number_verified` default to false when the email or phone number is given.
 * `languageTagged`: §5.2 variants of the localizable claims, keyed by claim name (`name#de`).
 */
export const ProfileClaimsInput = {
  name: NAME.optional(),
  given_name: NAME.optional(),
  family_name: NAME.optional(),
  middle_name: NAME.optional(),
  nickname: NAME.optional(),
  /** Defaults to the username. */
  preferred_username: NAME.optional(),
  profile: HttpUrl.optional(),
  picture: HttpUrl.optional(),
  website: HttpUrl.optional(),
  email: z.string().max(254).email().optional(),
  email_verified: z.boolean().optional(),
  gender: text(64).optional(),
  birthdate: Birthdate.optional(),
  zoneinfo: Zoneinfo.optional(),
  locale: Locale.optional(),
  phone_number: PhoneNumber.optional(),
  phone_number_verified: z.boolean().optional(),
  address: AddressClaim.optional(),
  languageTagged: z
    .record(
      z.string().refine((key) => splitLanguageTag(key) !== undefined, {
        message: `must be <claim>#<language tag>, the claim one of ${LOCALIZABLE_CLAIMS.join(', ')}`,
      }),
      NAME,
    )
    .refine((tagged) => Object.keys(tagged).length <= MAX_LANGUAGE_TAGGED, { message: `at most ${MAX_LANGUAGE_TAGGED} values` })
    .optional(),
};

export const ProfileClaims = z.object(ProfileClaimsInput).strict();
export type ProfileClaims = z.infer<typeof ProfileClaims>;
