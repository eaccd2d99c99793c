/** Runs a test for both the async and the sync write, which must behave alike. */
import { writeDurable, writeDurableSync, type WriteDurableOptions, type WriteDurableResult } from '../../src/write/write-durable.js';

export interface WriteMode {
  readonly name: string;
  write(path: string | URL, data: string | NodeJS.ArrayBufferView, options?: WriteDurableOptions | BufferEncoding): Promise<WriteDurableResult>;
}

export const writeModes: readonly WriteMode[] = [
  { name: 'writeDurable', write: (path, data, options) => writeDurable(path, data, options) },
  {
    name: 'writeDurableSync',
    write: async (path, data, options) => {
      if (typeof options !== 'object' || options === null) return writeDurableSync(path, data, options);
      const { signal: _signal, ...syncOptions } = options;
      return writeDurableSync(path, data, syncOptions);
    },
  },
];
