import type { Sealed } from '../envelope.js';
import { DataKeyDestroyedError, DataKeyWrapper, type DataKeyStore } from './port.js';

type Entry = { wrapped: Sealed } | { destroyed: true };

/** For tests and single-process runs; keys stay wrapped even in memory. */
export class InMemoryDataKeyStore implements DataKeyStore {
  private readonly wrapper: DataKeyWrapper;
  private readonly entries = new Map<string, Entry>();

  constructor(kek: Buffer) {
    this.wrapper = new DataKeyWrapper(kek);
  }

  async getOrCreate(tenant: string, subject: string): Promise<Buffer> {
    const id = entryId(tenant, subject);
    let entry = this.entries.get(id);
    if (!entry) {
      entry = { wrapped: this.wrapper.newWrappedKey(tenant, subject) };
      this.entries.set(id, entry);
    }
    if ('destroyed' in entry) throw new DataKeyDestroyedError(tenant, subject);
    return this.wrapper.unwrap(tenant, subject, entry.wrapped);
  }

  async get(tenant: string, subject: string): Promise<Buffer | undefined> {
    const entry = this.entries.get(entryId(tenant, subject));
    if (!entry || 'destroyed' in entry) return undefined;
    return this.wrapper.unwrap(tenant, subject, entry.wrapped);
  }

  async destroy(tenant: string, subject: string): Promise<void> {
    this.entries.set(entryId(tenant, subject), { destroyed: true });
  }

  async close(): Promise<void> {}
}

function entryId(tenant: string, subject: string): string {
  return JSON.stringify([tenant, subject]);
}
