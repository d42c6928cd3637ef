/** The real cluster's default StorageClass and the name its provisioner (`provisioner-main.ts`) answers to. */
export const STORAGE_CLASS = 'pgha-local';
export const PROVISIONER = 'pgha.dev/local-path';
