/** The types of write-file-atomic 7 (it ships none), as far as the differential tests call it. */
declare module 'write-file-atomic' {
  interface Options {
    chown?: { uid: number; gid: number } | undefined;
    encoding?: BufferEncoding | undefined;
    fsync?: boolean | undefined;
    mode?: number | string | undefined;
    tmpfileCreated?: ((tmpPath: string) => unknown) | undefined;
  }
  type Callback = (error?: Error) => void;
  function writeFileAtomic(filename: string, data: string | NodeJS.ArrayBufferView, options?: Options | BufferEncoding): Promise<void>;
  function writeFileAtomic(filename: string, data: string | NodeJS.ArrayBufferView, callback: Callback): void;
  function writeFileAtomic(filename: string, data: string | NodeJS.ArrayBufferView, options: Options | BufferEncoding | undefined, callback: Callback): void;
  namespace writeFileAtomic {
    function sync(filename: string, data: string | NodeJS.ArrayBufferView, options?: Options | BufferEncoding): void;
  }
  export default writeFileAtomic;
}
