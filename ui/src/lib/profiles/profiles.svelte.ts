// The saved profiles, loaded from the backend and shared by the screens.

import { BackendError, listProfiles, toBackendError } from '../backend';
import type { ProfileEntry } from '../bindings/ProfileEntry';

export class ProfilesStore {
  entries: ProfileEntry[] = $state([]);
  /** Why the last load failed, if it did. */
  error: BackendError | null = $state(null);
  /** True once a load has finished, successfully or not. */
  loaded = $state(false);
  loading = $state(false);

  names: string[] = $derived(this.entries.map((e) => e.profile.name));

  find(name: string): ProfileEntry | undefined {
    return this.entries.find((e) => e.profile.name === name);
  }

  async load(): Promise<void> {
    this.loading = true;
    try {
      this.entries = await listProfiles();
      this.error = null;
    } catch (e) {
      this.error = toBackendError(e);
    } finally {
      this.loading = false;
      this.loaded = true;
    }
  }
}

export const profiles = new ProfilesStore();
