/** The types of write-file-atomic 7 (it ships none), as far as the differential tests call it. */
declare module 'write-file-atomic' {
  interface Options {
    chown?: { uid: number; gid: number } | false | null | undefined;
    encoding?: BufferEncoding | null | undefined;
    fsync?: boolean | undefined;
    mode?: number | string | false | null | undefined;
    tmpfileCreated?: ((tmpPath: string) => unknown) | undefined;
  }
  type Callback = (error?: Error) => void;
  /** What it writes: whole data, or nothing (`undefined` or `null`: an empty file). */
  type Data = string | NodeJS.ArrayBufferView | null | undefined;
  function writeFileAtomic(filename: string, data: Data, options?: Options | BufferEncoding): Promise<void>;
  function writeFileAtomic(filename: string, data: Data, callback: Callback): void;
  function writeFileAtomic(filename: string, data: Data, options: Options | BufferEncoding | undefined, callback: Callback): void;
  namespace writeFileAtomic {
    function sync(filename: string, data: Data, options?: Options | BufferEncoding): void;
  }
  export default writeFileAtomic;
}
